import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Writable } from "node:stream";
import { after, before, beforeEach, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { JumpCloudClient } from "../../src/jumpcloud/jumpcloud-client.js";
import { resolveBulkCsv } from "../../src/jumpcloud/resolve-bulk-csv.js";
import { createLogger } from "../../src/logger.js";
import { DEFAULT_ADMIN_FIELDS, DEFAULT_SELF_SERVICE_FIELDS } from "../../src/requests/fields.js";
import { parseBulkCsv } from "../../src/requests/parse-bulk-csv.js";
import { type FakeJumpCloud, type SeedUser, sampleUsers, startFakeJumpCloud } from "../../src/sim/fake-jumpcloud.js";

const KEY = "unit-lookup-key";
/** A quiet client against a fake JumpCloud: `rate` calls a second, `attempts` per call. */
function clientOf(apiUrl: string, rate = 50, attempts = 2): JumpCloudClient {
  return new JumpCloudClient({
    apiUrl,
    apiKey: KEY,
    suppressEmail: true,
    requestsPerSecond: rate,
    concurrency: 2,
    retry: { attempts, baseDelayMs: 10, jitter: 0 },
    logger: createLogger({ level: "silent", destination: new Writable({ write: (_c, _e, d) => d() }) }),
  });
}

const directory = (n: number): SeedUser[] =>
  Array.from({ length: n }, (_, i) => ({
    _id: (i + 1).toString(16).padStart(24, "0"),
    email: `user${i}@example.com`,
    username: `user${i}`,
  }));

describe("JumpCloudClient.lookupUsers: fewest calls, within the rate limit", () => {
  let jc: FakeJumpCloud;
  let client: JumpCloudClient;
  before(async () => {
    jc = await startFakeJumpCloud({ apiKey: KEY, users: directory(1000) });
    client = clientOf(jc.url, 50, 2);
  });
  after(async () => jc.close());
  beforeEach(() => {
    jc.calls.length = 0;
  });
  const lookups = () => jc.calls.filter((c) => c.path.startsWith("/api/search") || c.path === "/api/systemusers");

  it("up to 100 emails: one search with an `or` of exact matches and one text search; keys are case-insensitive", async () => {
    const found = await client.lookupUsers("email", ["user1@example.com", "USER2@example.com", "user3@example.com"]);
    assert.equal(lookups().length, 2);
    // Searches ask for a consistent read (JumpCloud's samples do), so lists are merged from fresh values.
    assert.deepEqual(
      lookups().map((c) => c.headers["x-eventually-consistent"]),
      ["false", "false"],
    );
    assert.deepEqual(lookups()[1]?.body, {
      searchFilter: { searchTerm: ["user1@example.com", "user2@example.com", "user3@example.com"], fields: ["email"] },
      limit: 100,
      skip: 0,
    });
    assert.deepEqual(lookups()[0]?.body, {
      filter: {
        or: [
          { email: "user1@example.com" },
          { email: "user2@example.com" },
          { email: "USER2@example.com" },
          { email: "user3@example.com" },
        ],
      },
      limit: 100,
      skip: 0,
    });
    assert.deepEqual(
      [...found].map(([k, users]) => [k, users.map((u) => u.username)]),
      [
        ["user1@example.com", ["user1"]],
        ["user2@example.com", ["user2"]],
        ["user3@example.com", ["user3"]],
      ],
    );
  });

  it("values written with capitals are searched as written too: two users differing in case are both found", async () => {
    jc.addUser({ _id: "ab".repeat(12), email: "Mixed.Case@example.com", username: "Mixed" });
    jc.addUser({ _id: "cd".repeat(12), email: "mixed.case@example.com", username: "mixed" });
    const found = await client.lookupUsers("username", ["Mixed", "user999"]);
    assert.deepEqual(
      lookups().map((c) => (c.body as { filter?: { or: unknown[] } }).filter?.or),
      [[{ username: "mixed" }, { username: "Mixed" }, { username: "user999" }], undefined],
    );
    assert.deepEqual(
      found
        .get("mixed")
        ?.map((u) => u._id)
        .sort(),
      ["ab".repeat(12), "cd".repeat(12)],
    );
    jc.reset(); // back to the 1,000 seeded users
  });

  it("every email is also text-searched: kept only when equal but for case, it finds users stored with capitals", async () => {
    jc.addUser({ _id: "ef".repeat(12), email: "Carol.Smith@Example.com", username: "Carol" });
    jc.addUser({ _id: "12".repeat(12), email: "xcarol.smith@example.com.au", username: "xcarol" });
    const found = await client.lookupUsers("email", ["carol.smith@example.com", "user7@example.com", "nobody@x.org"]);
    assert.deepEqual(
      lookups().map((c) => c.body),
      [
        {
          filter: {
            or: [{ email: "carol.smith@example.com" }, { email: "user7@example.com" }, { email: "nobody@x.org" }],
          },
          limit: 100,
          skip: 0,
        },
        {
          searchFilter: {
            searchTerm: ["carol.smith@example.com", "user7@example.com", "nobody@x.org"],
            fields: ["email"],
          },
          limit: 100,
          skip: 0,
        },
      ],
    );
    assert.deepEqual(
      [...found].map(([k, users]) => [k, users.map((u) => u._id)]),
      [
        ["carol.smith@example.com", ["ef".repeat(12)]],
        ["user7@example.com", [(8).toString(16).padStart(24, "0")]],
        ["nobody@x.org", []],
      ],
    );
    jc.reset();
  });

  it("ids are never text-searched: a missing id is simply not found", async () => {
    const found = await client.lookupUsers("_id", ["ff".repeat(12), "AB".repeat(12)]);
    assert.equal(lookups().length, 1);
    assert.deepEqual(
      [...found].map(([k, users]) => [k, users.length]),
      [
        ["ff".repeat(12), 0],
        ["ab".repeat(12), 0],
      ],
    );
  });

  it("a text search reading more pages than the directory has stops and lists the directory instead", async () => {
    // No username is "serN", but each partially matches many users ("user1", "user10"…).
    const values = Array.from({ length: 150 }, (_, i) => `ser${i + 1}`);
    const found = await client.lookupUsers("username", values);
    const kinds = lookups().map((c) =>
      c.method === "GET" ? "list" : "searchFilter" in (c.body as object) ? "text" : "exact",
    );
    assert.deepEqual(kinds, [
      "list", // the directory's size: 1,000 users, 10 pages
      "exact",
      "exact",
      ...Array(10).fill("text"), // as many pages as the directory has, no more
      ...Array(10).fill("list"),
    ]);
    assert.equal([...found.values()].filter((u) => u.length > 0).length, 0);
  });

  it("a few hundred values in a big directory: one size probe, then an exact and a text search per 100", async () => {
    const values = Array.from({ length: 250 }, (_, i) => `user${i * 3}@example.com`);
    const found = await client.lookupUsers("email", values);
    assert.deepEqual(
      lookups().map((c) => `${c.method} ${c.path}`),
      ["GET /api/systemusers", ...Array(6).fill("POST /api/search/systemusers")],
    );
    assert.equal([...found.values()].filter((u) => u.length === 1).length, 250);
  });

  it("values written with capitals cost no extra call: both forms go in the same search", async () => {
    const values = Array.from({ length: 250 }, (_, i) => `USER${i * 3}@example.com`);
    const found = await client.lookupUsers("email", values);
    const calls = lookups();
    assert.deepEqual(
      calls.map((c) => `${c.method} ${c.path}`),
      ["GET /api/systemusers", ...Array(6).fill("POST /api/search/systemusers")],
    );
    const terms = calls.slice(1, 4).map((c) => (c.body as { filter: { or: unknown[] } }).filter.or.length);
    assert.deepEqual(terms, [200, 200, 100]);
    assert.deepEqual((calls[1]?.body as { filter: { or: unknown[] } }).filter.or.slice(0, 2), [
      { email: "user0@example.com" },
      { email: "USER0@example.com" },
    ]);
    assert.equal([...found.values()].filter((u) => u.length === 1).length, 250);
  });

  it("usernames whose text search matches many others (user3 finds user30…): more pages, kept exact", async () => {
    const values = Array.from({ length: 250 }, (_, i) => `user${i * 3}`);
    const found = await client.lookupUsers("username", values);
    const kinds = lookups().map((c) =>
      c.method === "GET" ? "list" : "searchFilter" in (c.body as object) ? "text" : "exact",
    );
    // Partial matches fill 8 pages over the 3 chunks: fewer than the directory's 10, so no listing.
    assert.deepEqual(kinds, ["list", "exact", "exact", "exact", ...Array(8).fill("text")]);
    assert.equal([...found.values()].filter((u) => u.length === 1).length, 250);
  });

  it("values covering most of the directory: one paged listing of every user instead", async () => {
    const values = Array.from({ length: 950 }, (_, i) => (i + 1).toString(16).padStart(24, "0"));
    const found = await client.lookupUsers("_id", values);
    const calls = lookups();
    assert.equal(calls.length, 1 + 10, "a size probe and 10 pages of 100");
    assert.ok(calls.every((c) => c.method === "GET"));
    assert.equal([...found.values()].filter((u) => u.length === 1).length, 950);
  });

  it("stays inside JumpCloud's rate limit (the fake answers 429 above it)", async () => {
    jc.setRateLimit(5);
    const slow = clientOf(jc.url, 5, 4);
    try {
      const values = Array.from({ length: 700 }, (_, i) => `someone${i}@elsewhere.com`);
      await slow.lookupUsers("email", values);
      assert.equal(jc.calls.filter((c) => c.status === 429).length, 0);
      // 7 exact and 7 text searches would cost more than listing the 1,000 users.
      assert.equal(lookups().length, 1 + 10, "a size probe and 10 pages of the directory");
    } finally {
      jc.setRateLimit(undefined);
    }
  });
});

describe("docs/examples/bulk-example.csv against the simulator's sample users", () => {
  it("is clean: every row resolves, the manager by email, and the diff is what the README walks through", async () => {
    const jc = await startFakeJumpCloud({ apiKey: KEY, users: sampleUsers() });
    try {
      const client = clientOf(jc.url, 50, 1);
      const text = readFileSync(
        fileURLToPath(new URL("../../docs/examples/bulk-example.csv", import.meta.url)),
        "utf8",
      );
      const csv = parseBulkCsv(text, { selfService: DEFAULT_SELF_SERVICE_FIELDS, admin: DEFAULT_ADMIN_FIELDS });
      assert.deepEqual(csv.errors, []);
      const diff = await resolveBulkCsv(csv, client);
      assert.deepEqual(diff.errors, []);
      assert.deepEqual(
        diff.rows.map((r) => [r.label, r.changes.map((c) => `${c.field}=${c.newDisplay ?? c.newValue}`)]),
        [
          [
            "ada.lovelace@example.com",
            ["department=Research, Analytical Engines", "jobTitle=Principal Engineer", "attributes.costCode=CC-100"],
          ],
          ["grace.hopper@example.com", ["department=Research, Analytical Engines", "attributes.costCode=CC-100"]],
          ["alan.turing@example.com", ["attributes.costCode=CC-200", "manager=grace.hopper@example.com"]],
        ],
      );
    } finally {
      await jc.close();
    }
  });
});

/**
 * Adversarial review (issue 5). README: "Emails and usernames match whatever their case; if two JumpCloud users differ only
 * in case, a row naming either is refused as ambiguous (use the `id`)."
 *
 * lookupUsers only text-searches (case-insensitive) values the exact search missed. The exact
 * search for the lower-cased value finds the lower-case user, so the upper-case twin is never
 * seen: a row in ANY case other than exactly "Dana@example.com" resolves silently to the
 * lower-case user. An HR export in capitals (DANA@EXAMPLE.COM) changes the wrong person.
 * Whether the twin is seen even depends on unrelated rows (a partial text match of another
 * row's value) and on CSV size (a large CSV lists the directory: then both are found).
 */
const UPPER = { _id: "64a0000000000000000000d1", email: "Dana@example.com", username: "Dana", department: "Sales" };
const LOWER = { _id: "64a0000000000000000000d2", email: "dana@example.com", username: "dana", department: "Support" };
const policy = { selfService: DEFAULT_SELF_SERVICE_FIELDS, admin: DEFAULT_ADMIN_FIELDS };

describe("attack: two users differing only in case are always ambiguous, whatever the CSV's case", () => {
  let jc: FakeJumpCloud;
  let client: JumpCloudClient;
  before(async () => {
    jc = await startFakeJumpCloud({ apiKey: KEY, users: [] });
    client = clientOf(jc.url, 50, 1);
  });
  after(async () => jc.close());
  beforeEach(() => {
    jc.reset();
    jc.addUser({ ...UPPER });
    jc.addUser({ ...LOWER });
  });

  it("DANA@EXAMPLE.COM (all capitals, as HR exports write) is ambiguous, not silently the lower-case user", async () => {
    const csv = parseBulkCsv("email,department\nDANA@EXAMPLE.COM,Finance\n", policy);
    assert.deepEqual(csv.errors, []);
    const diff = await resolveBulkCsv(csv, client);
    assert.deepEqual(
      diff.rows.map((r) => r.userId),
      [],
      `row resolved to ${diff.rows.map((r) => r.userId).join()} (${LOWER._id} = dana@example.com)`,
    );
    assert.match(diff.errors.map((e) => e.message).join("\n"), /2 JumpCloud users match this email/);
  });

  it("dana@example.com (lower case) is ambiguous too, as the README promises ('a row naming either')", async () => {
    const csv = parseBulkCsv("email,department\ndana@example.com,Finance\n", policy);
    const diff = await resolveBulkCsv(csv, client);
    assert.deepEqual(
      diff.rows.map((r) => r.userId),
      [],
    );
    assert.match(diff.errors.map((e) => e.message).join("\n"), /2 JumpCloud users match this email/);
  });

  it("a username in another case (CAROL-style 'DANA') is ambiguous, not the lower-case user", async () => {
    const csv = parseBulkCsv("username,department\nDANA,Finance\n", policy);
    const diff = await resolveBulkCsv(csv, client);
    assert.deepEqual(
      diff.rows.map((r) => r.userId),
      [],
    );
  });

  it("the same manager email gives the same answer whether or not an unrelated row is in the CSV", async () => {
    jc.addUser({ _id: "64a0000000000000000000e1", email: "erin@example.com", username: "erin" });
    jc.addUser({ _id: "64a0000000000000000000e2", email: "frank@example.com", username: "frank" });
    // Alone: the manager resolves to the lower-case Dana.
    const alone = await resolveBulkCsv(
      parseBulkCsv("email,manager\nerin@example.com,dana@example.com\n", policy),
      client,
    );
    // With an unrelated row whose missing value "ana@example.com" text-matches both Danas:
    const withOther = await resolveBulkCsv(
      parseBulkCsv("email,manager\nerin@example.com,dana@example.com\nfrank@example.com,ana@example.com\n", policy),
      client,
    );
    const erinOutcome = (d: typeof alone) =>
      d.rows.find((r) => r.row === 2)
        ? "resolved"
        : d.errors
            .filter((e) => e.row === 2)
            .map((e) => e.message)
            .join() || "none";
    assert.equal(erinOutcome(alone), erinOutcome(withOther), "row 2's outcome must not depend on row 3");
  });
});
