import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { FakeJumpCloud, FakeJumpCloudOptions, JobRecord } from "../../src/sim/fake-jumpcloud.js";
import { sampleUsers, startFakeJumpCloud } from "../../src/sim/fake-jumpcloud.js";

const KEY = "test-key";
const GRACE = "5f1b0c0e9d3a4b0012a1b002";
const ALAN = "5f1b0c0e9d3a4b0012a1b003";

async function withJc(options: Partial<FakeJumpCloudOptions>, fn: (jc: FakeJumpCloud) => Promise<void>): Promise<void> {
  const jc = await startFakeJumpCloud({ apiKey: KEY, users: sampleUsers(), ...options });
  try {
    await fn(jc);
  } finally {
    await jc.close();
  }
}

interface Res {
  status: number;
  json: unknown;
  headers: Headers;
}

async function call(
  jc: FakeJumpCloud,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = { "x-api-key": KEY },
): Promise<Res> {
  const res = await fetch(`${jc.url}${path}`, {
    method,
    headers: { accept: "application/json", "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined, headers: res.headers };
}

function list(res: Res): { totalCount: number; results: Record<string, unknown>[] } {
  return res.json as { totalCount: number; results: Record<string, unknown>[] };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The first element of the schema's sample request (PATCH /bulk/users description). */
const SAMPLE_ELEMENT = {
  id: GRACE,
  firstname: "{UPDATED_FIRSTNAME}",
  department: "{UPDATED_DEPARTMENT}",
  attributes: [{ name: "Custom", value: "{ATTRIBUTE_VALUE}" }],
};
const SAMPLE_ELEMENT_2 = {
  id: ALAN,
  firstname: "{UPDATED_FIRSTNAME}",
  costCenter: "{UPDATED_COST_CENTER}",
  phoneNumbers: [
    { type: "home", number: "{HOME_PHONE_NUMBER}" },
    { type: "work", number: "{WORK_PHONE_NUMBER}" },
  ],
};

describe("fake JumpCloud", () => {
  it("requires x-api-key and, when configured, x-org-id", async () => {
    await withJc({ orgId: "org-1" }, async (jc) => {
      assert.ok(/^http:\/\/127\.0\.0\.1:\d+$/.test(jc.url));
      let r = await call(jc, "GET", "/api/systemusers", undefined, {});
      assert.equal(r.status, 401);
      assert.deepEqual(r.json, { message: "Unauthorized" });
      r = await call(jc, "GET", "/api/systemusers", undefined, { "x-api-key": "wrong", "x-org-id": "org-1" });
      assert.equal(r.status, 401);
      r = await call(jc, "GET", "/api/systemusers", undefined, { "x-api-key": KEY });
      assert.equal(r.status, 401);
      assert.deepEqual(r.json, { message: "no organization selected" });
      r = await call(jc, "GET", "/api/systemusers", undefined, { "x-api-key": KEY, "x-org-id": "org-2" });
      assert.equal(r.status, 401);
      r = await call(jc, "GET", "/api/systemusers", undefined, { "x-api-key": KEY, "x-org-id": "org-1" });
      assert.equal(r.status, 200);
      assert.equal(jc.calls.length, 5);
      assert.deepEqual(
        jc.calls.map((c) => c.status),
        [401, 401, 401, 401, 200],
      );
    });
  });

  it("looks users up with filter, paging, fields and by id", async () => {
    await withJc({}, async (jc) => {
      let r = await call(
        jc,
        "GET",
        `/api/systemusers?filter=${encodeURIComponent("email:$eq:grace.hopper@example.com")}`,
      );
      assert.equal(r.status, 200);
      assert.equal(list(r).totalCount, 1);
      assert.equal(list(r).results[0]?._id, GRACE);
      assert.equal(list(r).results[0]?.jobTitle, "Senior Software Engineer");

      // Repeated filters are ANDed.
      const both = `filter=${encodeURIComponent("department:$eq:Engineering")}&filter=${encodeURIComponent("username:$eq:alan.turing")}`;
      r = await call(jc, "GET", `/api/systemusers?${both}&fields=email%20username`);
      assert.deepEqual(list(r).results, [{ _id: ALAN, email: "alan.turing@example.com", username: "alan.turing" }]);

      // Case-sensitive exact match.
      r = await call(jc, "GET", `/api/systemusers?filter=${encodeURIComponent("email:$eq:GRACE.hopper@example.com")}`);
      assert.equal(list(r).totalCount, 0);

      r = await call(jc, "GET", "/api/systemusers?limit=2&skip=1");
      assert.equal(list(r).totalCount, 5);
      assert.deepEqual(
        list(r).results.map((u) => u._id),
        [GRACE, ALAN],
      );
      r = await call(jc, "GET", "/api/systemusers");
      assert.equal(list(r).results.length, 5); // default limit 10
      r = await call(jc, "GET", "/api/systemusers?limit=101");
      assert.equal(r.status, 400);

      r = await call(jc, "GET", `/api/systemusers/${ALAN}`);
      assert.equal(r.status, 200);
      assert.deepEqual((r.json as { attributes: unknown }).attributes, [
        { name: "costCode", value: "CC-4471" },
        { name: "badgeNumber", value: "B-00917" },
      ]);
      r = await call(jc, "GET", "/api/systemusers/000000000000000000000000");
      assert.equal(r.status, 404);
      assert.deepEqual(r.json, { message: "Not Found" });
      assert.ok(jc.calls.every((c) => c.route === "lookup"));
    });
  });

  it("searches with or / and filters", async () => {
    await withJc({}, async (jc) => {
      let r = await call(jc, "POST", "/api/search/systemusers", {
        filter: { or: [{ email: "grace.hopper@example.com" }, { username: "alan.turing" }, { email: "nobody@x" }] },
        fields: "email username",
        limit: 100,
      });
      assert.equal(r.status, 200);
      assert.equal(list(r).totalCount, 2);
      assert.deepEqual(
        list(r)
          .results.map((u) => u._id)
          .sort(),
        [GRACE, ALAN].sort(),
      );
      assert.deepEqual(Object.keys(list(r).results[0] ?? {}).sort(), ["_id", "email", "username"]);

      r = await call(jc, "POST", "/api/search/systemusers", {
        filter: { and: [{ department: "Engineering" }, { location: "London" }] },
      });
      assert.equal(list(r).totalCount, 1);
      r = await call(jc, "POST", "/api/search/systemusers", { filter: { email: "alan.turing@example.com" } });
      assert.equal(list(r).results[0]?._id, ALAN);
      r = await call(jc, "POST", "/api/search/systemusers", { filter: {}, limit: 2, skip: 4 });
      assert.equal(list(r).totalCount, 5);
      assert.equal(list(r).results.length, 1);
      r = await call(jc, "POST", "/api/search/systemusers", { filter: { or: [] }, limit: 500 });
      assert.equal(r.status, 400);
    });
  });

  it("validates PATCH bodies against bulk-user-update", async () => {
    await withJc({}, async (jc) => {
      let r = await call(jc, "PATCH", "/api/v2/bulk/users?suppressEmail=true", [SAMPLE_ELEMENT, SAMPLE_ELEMENT_2]);
      assert.equal(r.status, 201);
      const jobId = (r.json as { jobId: string }).jobId;
      assert.match(jobId, /^[0-9a-f]{24}$/);
      assert.deepEqual(jc.schemaViolations, []);
      assert.equal(jc.bulkCalls.length, 1);
      assert.deepEqual(jc.bulkCalls[0]?.query, { suppressEmail: "true" });
      assert.equal(jc.bulkCalls[0]?.jobId, jobId);

      const bad: unknown[] = [
        [{ id: 5 }],
        ["x"],
        [{ id: GRACE, firstname: "a".repeat(2000) }],
        [{ firstname: "no id" }],
        { id: GRACE },
      ];
      for (const body of bad) {
        r = await call(jc, "PATCH", "/api/v2/bulk/users", body);
        assert.equal(r.status, 400, JSON.stringify(body).slice(0, 80));
        assert.equal(typeof (r.json as { message: unknown }).message, "string");
      }
      assert.equal(jc.schemaViolations.length, bad.length);
      assert.match(jc.schemaViolations[0] ?? "", /\[0\]\.id must be a string/);
      assert.match(jc.schemaViolations[2] ?? "", /firstname must NOT have more than 1024 characters/);
      assert.equal(jc.bulkCalls.length, 1);
      assert.equal(jc.jobs.size, 1);

      // JumpCloud takes JSON only.
      r = await call(jc, "PATCH", "/api/v2/bulk/users", [SAMPLE_ELEMENT], {
        "x-api-key": KEY,
        "content-type": "text/plain",
      });
      assert.equal(r.status, 400);
      assert.match(jc.schemaViolations.at(-1) ?? "", /Content-Type/);
    });
  });

  it("keeps job results pending, then finished, paged, with whole-list replacement", async () => {
    await withJc({ jobDelayMs: 150, bulkStatus: 200 }, async (jc) => {
      jc.failUser(ALAN, "Email address already exists");
      const body = [
        { id: GRACE, phoneNumbers: [{ type: "work", number: "+1 212 555 0000" }] }, // drops the mobile
        { id: ALAN, department: "Research" },
        { id: "0123456789abcdef01234567", jobTitle: "Ghost" },
      ];
      const r = await call(jc, "PATCH", "/api/v2/bulk/users?suppressEmail=false", body);
      assert.equal(r.status, 200);
      const { jobId } = r.json as { jobId: string };

      const pending = await call(jc, "GET", `/api/v2/bulk/users/${jobId}/results?limit=100`);
      const pendingRecords = pending.json as JobRecord[];
      assert.equal(pendingRecords.length, 3);
      assert.ok(pendingRecords.every((rec) => rec.status === "pending"));
      assert.equal(jc.users.get(GRACE)?.phoneNumbers?.length, 2);

      await sleep(200);
      const page1 = (await call(jc, "GET", `/api/v2/bulk/users/${jobId}/results?limit=2&skip=0`)).json as JobRecord[];
      const page2 = (await call(jc, "GET", `/api/v2/bulk/users/${jobId}/results?limit=2&skip=2`)).json as JobRecord[];
      assert.equal(page1.length, 2);
      assert.equal(page2.length, 1);
      const [grace, alan] = page1;
      const ghost = page2[0];
      assert.equal(grace?.status, "finished");
      assert.equal(grace?.meta.systemUserId, GRACE);
      assert.equal(grace?.persistedFields.id, GRACE);
      assert.match(grace?.id ?? "", /^[0-9a-f]{24}$/);
      assert.equal(alan?.status, "failed");
      assert.equal(alan?.statusMsg, "Email address already exists");
      assert.equal(ghost?.status, "failed");
      assert.equal(ghost?.statusMsg, "user not found");

      const phones = jc.users.get(GRACE)?.phoneNumbers ?? [];
      assert.equal(phones.length, 1);
      assert.equal(phones[0]?.type, "work");
      assert.equal(phones[0]?.number, "+1 212 555 0000");
      assert.equal(jc.users.get(ALAN)?.department, "Engineering"); // failed: unchanged

      const missing = await call(jc, "GET", "/api/v2/bulk/users/ffffffffffffffffffffffff/results");
      assert.equal(missing.status, 404);
      const tooMany = await call(jc, "GET", `/api/v2/bulk/users/${jobId}/results?limit=101`);
      assert.equal(tooMany.status, 400);
    });
  });

  it("answers injected 503s without creating jobs, then succeeds", async () => {
    await withJc({}, async (jc) => {
      jc.inject({ route: "bulk", status: 503, count: 2 });
      const body = [{ id: GRACE, jobTitle: "Staff Engineer" }];
      const r1 = await call(jc, "PATCH", "/api/v2/bulk/users", body);
      const r2 = await call(jc, "PATCH", "/api/v2/bulk/users", body);
      assert.equal(r1.status, 503);
      assert.deepEqual(r1.json, { message: "Service Unavailable" });
      assert.equal(r2.status, 503);
      // Lookups are not affected by a bulk fault.
      assert.equal((await call(jc, "GET", "/api/systemusers")).status, 200);
      const r3 = await call(jc, "PATCH", "/api/v2/bulk/users", body);
      assert.equal(r3.status, 201);
      assert.equal(jc.jobs.size, 1);
      assert.equal(jc.bulkCalls.length, 1);
      assert.deepEqual(
        jc.calls.filter((c) => c.route === "bulk").map((c) => c.status),
        [503, 503, 201],
      );
      assert.equal(jc.users.get(GRACE)?.jobTitle, "Staff Engineer");
      const calls = await jc.waitForCalls((cs) => cs.filter((c) => c.route === "bulk").length >= 3, 100);
      assert.equal(calls.length, 4);
    });
  });

  it("sends 429 with Retry-After, injected or from the rate limit", async () => {
    await withJc({}, async (jc) => {
      jc.inject({ route: "any", status: 429, count: 1, retryAfter: 7 });
      const r = await call(jc, "GET", "/api/systemusers");
      assert.equal(r.status, 429);
      assert.equal(r.headers.get("retry-after"), "7");
      assert.equal((await call(jc, "GET", "/api/systemusers")).status, 200);
    });
    await withJc({ rateLimitPerSecond: 3 }, async (jc) => {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await call(jc, "GET", "/api/systemusers?limit=1")).status);
      assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
      const limited = await call(jc, "GET", "/api/systemusers?limit=1");
      assert.equal(limited.headers.get("retry-after"), "1");
    });
  });

  it("offers control endpoints and reset", async () => {
    await withJc({}, async (jc) => {
      const post = (path: string, body: unknown) => call(jc, "POST", path, body, {});
      assert.equal(
        (await post("/__sim/users", { _id: "aaaaaaaaaaaaaaaaaaaaaaaa", email: "n@x.test", username: "n" })).status,
        200,
      );
      assert.equal(jc.users.size, 6);
      assert.equal((await post("/__sim/inject", { route: "lookup", status: 500, count: 1 })).status, 200);
      assert.equal((await call(jc, "GET", "/api/systemusers/aaaaaaaaaaaaaaaaaaaaaaaa")).status, 500);
      assert.equal((await call(jc, "GET", "/api/systemusers/aaaaaaaaaaaaaaaaaaaaaaaa")).status, 200);
      assert.equal((await post("/__sim/latency", { ms: 120, route: "lookup" })).status, 200);
      const start = Date.now();
      await call(jc, "GET", "/api/systemusers");
      assert.ok(Date.now() - start >= 100);
      const calls = (await call(jc, "GET", "/__sim/calls", undefined, {})).json as unknown[];
      assert.equal(calls.length, 3); // control requests are not recorded
      jc.setLatency(0); // no route: clears per-route latency too
      const again = Date.now();
      await call(jc, "GET", "/api/systemusers");
      assert.ok(Date.now() - again < 100);
      assert.equal((await post("/__sim/reset", {})).status, 200);
      assert.equal(jc.users.size, 5);
      assert.equal(jc.calls.length, 0);
    });
  });

  it("maps given emails onto the sample users", () => {
    const users = sampleUsers(["me@corp.test", "you@corp.test"]);
    assert.equal(users[0]?.email, "me@corp.test");
    assert.equal(users[1]?.email, "you@corp.test");
    assert.equal(users[2]?.email, "alan.turing@example.com");
    assert.equal(users[1]?.manager, users[0]?._id);
    assert.ok(users.every((u) => /^[0-9a-f]{24}$/.test(u._id)));
    const many = sampleUsers(["a@x", "b@x", "c@x", "d@x", "e@x", "f@x"]);
    assert.equal(many.length, 6);
    assert.equal(new Set(many.map((u) => u._id)).size, 6);
  });
});
