import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, beforeEach, describe, it } from "node:test";
import { JumpCloudClient } from "../../src/jumpcloud/jumpcloud-client.js";
import { resolveBulkCsv } from "../../src/jumpcloud/resolve-bulk-csv.js";
import { createLogger } from "../../src/logger.js";
import { DEFAULT_ADMIN_FIELDS, DEFAULT_SELF_SERVICE_FIELDS } from "../../src/requests/fields.js";
import { parseBulkCsv } from "../../src/requests/parse-bulk-csv.js";
import { type FakeJumpCloud, startFakeJumpCloud } from "../../src/sim/fake-jumpcloud.js";

/**
 * README: "Emails and usernames match whatever their case; if two JumpCloud users differ only
 * in case, a row naming either is refused as ambiguous (use the `id`)."
 *
 * lookupUsers only text-searches (case-insensitive) values the exact search missed. The exact
 * search for the lower-cased value finds the lower-case user, so the upper-case twin is never
 * seen: a row in ANY case other than exactly "Dana@example.com" resolves silently to the
 * lower-case user. An HR export in capitals (DANA@EXAMPLE.COM) changes the wrong person.
 * Whether the twin is seen even depends on unrelated rows (a partial text match of another
 * row's value) and on CSV size (a large CSV lists the directory: then both are found).
 */
const KEY = "adv-lookup-key";
const UPPER = { _id: "64a0000000000000000000d1", email: "Dana@example.com", username: "Dana", department: "Sales" };
const LOWER = { _id: "64a0000000000000000000d2", email: "dana@example.com", username: "dana", department: "Support" };
const policy = { selfService: DEFAULT_SELF_SERVICE_FIELDS, admin: DEFAULT_ADMIN_FIELDS };

describe("attack: two users differing only in case are always ambiguous, whatever the CSV's case", () => {
  let jc: FakeJumpCloud;
  let client: JumpCloudClient;
  before(async () => {
    jc = await startFakeJumpCloud({ apiKey: KEY, users: [] });
    client = new JumpCloudClient({
      apiUrl: jc.url,
      apiKey: KEY,
      suppressEmail: true,
      requestsPerSecond: 50,
      concurrency: 2,
      retry: { attempts: 1, baseDelayMs: 10, jitter: 0 },
      logger: createLogger({ level: "silent", destination: new Writable({ write: (_c, _e, d) => d() }) }),
    });
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
