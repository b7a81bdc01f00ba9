import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import type { ItemRecord } from "../../src/requests/types.js";
import { PEOPLE, startTestEnv, type TestEnv, textOf, waitUntil } from "../support/start-test-env.js";

describe("dispatch when the world moves: conflicts, outages, a refused key", () => {
  let env: TestEnv | undefined;
  afterEach(async () => {
    await env?.close();
    env = undefined;
  });

  it("does not overwrite a field changed in JumpCloud since the request, and shows the three values", async () => {
    env = await startTestEnv();
    const id = await env.request("alice", { "Job title": "Staff Engineer" });
    const alice = env.jc.users.get(PEOPLE.alice.jcId);
    assert.ok(alice);
    alice.jobTitle = "Engineering Manager"; // HR sync, meanwhile
    await env.click("approver", "approve", id);
    await env.waitForState(id, "failed");
    assert.equal(env.jc.bulkCalls.length, 0, "nothing was sent");
    assert.equal(env.jc.users.get(PEOPLE.alice.jcId)?.jobTitle, "Engineering Manager");
    const message = (await env.app.store.listItems(id))[0]?.message ?? "";
    assert.match(
      message,
      /Job title: now "Engineering Manager" in JumpCloud \(was "Engineer" when requested; requested "Staff Engineer"\)/,
    );
    const request = await env.app.store.getRequest(id);
    await waitUntil(
      () =>
        /Engineering Manager/.test(
          textOf(env?.slack.messages.get(`${request?.approvalChannel}:${request?.approvalTs}`)?.blocks),
        ),
      3000,
      "the approval message to show the conflict",
    );
    await waitUntil(
      () =>
        env?.slack.calls.some(
          (c) =>
            c.method === "chat.postMessage" &&
            c.args.channel === PEOPLE.alice.slackId &&
            /Engineering Manager/.test(textOf(c.args.blocks)),
        ) ?? false,
      3000,
      "the requester told about the conflict",
    );
  });

  it("reads the batch's users in one search call, and sends what did not conflict", async () => {
    env = await startTestEnv({ env: { BATCH_WINDOW_MS: "800" } });
    const a = await env.request("alice", { Department: "Platform" });
    const b = await env.request("bob", { "Job title": "Architect" });
    const bob = env.jc.users.get(PEOPLE.bob.jcId);
    assert.ok(bob);
    bob.jobTitle = "Site Lead";
    await env.click("approver", "approve", a);
    await env.click("approver", "approve", b);
    await env.waitForState(a, "applied");
    await env.waitForState(b, "failed");
    // The dispatcher's reads (by id); the form's own lookups of the requesters by email are apart.
    const searches = env.jc.calls.filter((c) => c.method === "POST" && c.path === "/api/search/systemusers" && byId(c));
    assert.equal(searches.length, 1);
    assert.deepEqual(searches[0]?.body, {
      filter: { or: [{ _id: PEOPLE.alice.jcId }, { _id: PEOPLE.bob.jcId }] },
      limit: 100,
    });
    assert.deepEqual(
      env.jc.bulkCalls.map((c) => c.body),
      [[{ id: PEOPLE.alice.jcId, department: "Platform" }]],
    );
  });

  it("a second approved request for the same field builds on the first: our own change is no conflict", async () => {
    env = await startTestEnv();
    const first = await env.request("alice", { "Job title": "Lead" });
    const second = await env.request("alice", { "Job title": "Principal" }); // both saw "Engineer"
    await env.click("approver", "approve", first);
    await env.click("approver", "approve", second);
    await env.waitForState(first, "applied");
    await env.waitForState(second, "applied");
    assert.deepEqual(
      env.jc.bulkCalls.map((c) => c.body),
      [[{ id: PEOPLE.alice.jcId, jobTitle: "Lead" }], [{ id: PEOPLE.alice.jcId, jobTitle: "Principal" }]],
    );
  });

  it("with CONFLICT_CHECK=off sends the change as approved, without a lookup", async () => {
    env = await startTestEnv({ env: { CONFLICT_CHECK: "off" } });
    const id = await env.request("alice", { "Job title": "Staff Engineer" });
    const alice = env.jc.users.get(PEOPLE.alice.jcId);
    if (alice) alice.jobTitle = "Engineering Manager";
    await env.click("approver", "approve", id);
    await env.waitForState(id, "applied");
    assert.equal(env.jc.users.get(PEOPLE.alice.jcId)?.jobTitle, "Staff Engineer");
    assert.equal(env.jc.calls.filter((c) => c.path === "/api/search/systemusers" && byId(c)).length, 0);
  });

  it("an outage longer than the attempts loses nothing: applied soon after JumpCloud is back", async () => {
    env = await startTestEnv({ env: { RETRY_MAX_ATTEMPTS: "2" } });
    env.jc.inject({ route: "bulk", status: 503, count: 5 });
    const id = await env.request("alice", { "Job title": "Principal" });
    await env.click("approver", "approve", id);
    await env.waitForState(id, "applied", 15_000);
    const statuses = env.jc.calls.filter((c) => c.route === "bulk").map((c) => c.status);
    assert.deepEqual(statuses, [503, 503, 503, 503, 503, 201]);
    const audit = (await env.app.store.listAudit(id)).map((a) => a.event);
    assert.ok(audit.filter((e) => e === "dispatch_delayed").length >= 2, audit.join(","));
    assert.equal(audit.at(-1), "applied");
    assert.equal((await env.app.store.getRequest(id))?.statusNote, null, "the waiting note is gone once applied");
  });

  it("gives up after DISPATCH_GIVE_UP_HOURS of transient failures, and says so", async () => {
    env = await startTestEnv({ env: { RETRY_MAX_ATTEMPTS: "1", DISPATCH_GIVE_UP_HOURS: "0.0002" } }); // 0.72 s
    env.jc.inject({ route: "bulk", status: 503, count: 1000 });
    const id = await env.request("alice", { "Job title": "Principal" });
    await env.click("approver", "approve", id);
    await env.waitForState(id, "failed", 10_000);
    const message = (await env.app.store.listItems(id))[0]?.message ?? "";
    assert.match(message, /could not take the change for 0.0002 h \(JumpCloud answered 503\)/);
    assert.equal(env.jc.users.get(PEOPLE.alice.jcId)?.jobTitle, "Engineer");
  });

  it("a refused API key (401) keeps the changes, pauses dispatch and alerts the approval channel once", async () => {
    env = await startTestEnv({ env: { RETRY_BASE_DELAY_MS: "500", BATCH_WINDOW_MS: "10" } });
    env.jc.inject({ route: "bulk", status: 401, count: 1000, body: { message: "no organization selected" } });
    const first = await env.request("alice", { "Job title": "Principal" });
    const second = await env.request("bob", { "Job title": "Architect" });
    await env.click("approver", "approve", first);
    await waitUntil(() => env?.jc.calls.some((c) => c.route === "bulk") ?? false, 3000, "a first bulk call");
    await env.click("approver", "approve", second);
    const alert = await env.slack.waitFor(
      "chat.postMessage",
      (c) =>
        c.args.channel === env?.config.slack.approvalChannelId && /refuses the bot's API key/.test(String(c.args.text)),
    );
    assert.match(textOf(alert.args.blocks), /no organization selected/);
    await new Promise((r) => setTimeout(r, 1000));
    // Paused: the second approval did not walk into the same 401 during the pause.
    const bulkCalls = env.jc.calls.filter((c) => c.route === "bulk").length;
    assert.ok(bulkCalls <= 2, `expected at most the first call and one probe, saw ${bulkCalls}`);
    for (const id of [first, second]) {
      const items: ItemRecord[] = await env.app.store.listItems(id);
      const item = items[0];
      assert.equal(item?.state, "queued");
    }
    const alerts = env.slack.calls.filter(
      (c) => c.method === "chat.postMessage" && /refuses the bot's API key/.test(String(c.args.text)),
    );
    assert.equal(alerts.length, 1, "alerted once");
  });
});

/** A search by JumpCloud id (the dispatcher's), not by email or username (the forms'). */
function byId(call: { body?: unknown }): boolean {
  const or = (call.body as { filter?: { or?: Record<string, unknown>[] } } | undefined)?.filter?.or ?? [];
  return or.length > 0 && or.every((term) => "_id" in term);
}
