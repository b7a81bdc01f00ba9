import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, beforeEach, describe, it } from "node:test";
import { JumpCloudClient } from "../../src/jumpcloud/jumpcloud-client.js";
import { createLogger } from "../../src/logger.js";
import { type FakeJumpCloud, type SeedUser, startFakeJumpCloud } from "../../src/sim/fake-jumpcloud.js";

const KEY = "unit-lookup-key";
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
    client = new JumpCloudClient({
      apiUrl: jc.url,
      apiKey: KEY,
      suppressEmail: true,
      requestsPerSecond: 50,
      concurrency: 2,
      retry: { attempts: 2, baseDelayMs: 10, jitter: 0 },
      logger: createLogger({ level: "silent", destination: new Writable({ write: (_c, _e, d) => d() }) }),
    });
  });
  after(async () => jc.close());
  beforeEach(() => {
    jc.calls.length = 0;
  });
  const lookups = () => jc.calls.filter((c) => c.path.startsWith("/api/search") || c.path === "/api/systemusers");

  it("up to 100 values: one search with an `or` of exact matches; keys are case-insensitive", async () => {
    const found = await client.lookupUsers("email", ["user1@example.com", "USER2@example.com", "nobody@example.com"]);
    assert.equal(lookups().length, 1);
    assert.deepEqual(lookups()[0]?.body, {
      filter: {
        or: [{ email: "user1@example.com" }, { email: "user2@example.com" }, { email: "nobody@example.com" }],
      },
      limit: 100,
      skip: 0,
    });
    assert.deepEqual(
      [...found].map(([k, users]) => [k, users.map((u) => u.username)]),
      [
        ["user1@example.com", ["user1"]],
        ["user2@example.com", ["user2"]],
        ["nobody@example.com", []],
      ],
    );
  });

  it("a value stored with capitals is tried again as written, only when the lower-case search missed it", async () => {
    jc.addUser({ _id: "ab".repeat(12), email: "Mixed.Case@example.com", username: "Mixed" });
    const found = await client.lookupUsers("username", ["Mixed", "user5"]);
    assert.deepEqual(
      lookups().map((c) => (c.body as { filter: { or: unknown[] } }).filter.or),
      [[{ username: "mixed" }, { username: "user5" }], [{ username: "Mixed" }]],
    );
    assert.deepEqual(
      found.get("mixed")?.map((u) => u._id),
      ["ab".repeat(12)],
    );
    jc.reset(); // back to the 1,000 seeded users
  });

  it("a few hundred values in a big directory: one size probe, then a search per 100", async () => {
    const values = Array.from({ length: 250 }, (_, i) => `user${i * 3}`);
    const found = await client.lookupUsers("username", values);
    assert.deepEqual(
      lookups().map((c) => `${c.method} ${c.path}`),
      [
        "GET /api/systemusers",
        "POST /api/search/systemusers",
        "POST /api/search/systemusers",
        "POST /api/search/systemusers",
      ],
    );
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
    const slow = new JumpCloudClient({
      apiUrl: jc.url,
      apiKey: KEY,
      suppressEmail: true,
      requestsPerSecond: 5,
      concurrency: 2,
      retry: { attempts: 4, baseDelayMs: 10, jitter: 0 },
      logger: createLogger({ level: "silent", destination: new Writable({ write: (_c, _e, d) => d() }) }),
    });
    try {
      const values = Array.from({ length: 700 }, (_, i) => `someone${i}@elsewhere.com`);
      await slow.lookupUsers("email", values);
      assert.equal(jc.calls.filter((c) => c.status === 429).length, 0);
      assert.equal(lookups().length, 1 + 7, "a size probe and 7 searches");
    } finally {
      jc.setRateLimit(undefined);
    }
  });
});
