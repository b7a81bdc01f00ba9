import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { PEOPLE, type Person, startTestEnv, type TestEnv, textOf, waitUntil } from "../support/start-test-env.js";

/** Requests a job title change for `who` and approves it; returns the request id. */
async function approvedChange(env: TestEnv, who: Person, jobTitle: string): Promise<number> {
  const id = await env.request(who, { "Job title": jobTitle });
  await env.click(who === "approver" ? "approver2" : "approver", "approve", id);
  return id;
}

function bulkAttempts(env: TestEnv): number {
  return env.jc.calls.filter((c) => c.route === "bulk").length;
}

describe("dispatch to JumpCloud", () => {
  let env: TestEnv | undefined;
  afterEach(async () => {
    await env?.close();
    env = undefined;
  });

  it("retries 503, 503, then succeeds: applied after exactly 3 attempts", async () => {
    env = await startTestEnv();
    env.jc.inject({ route: "bulk", status: 503, count: 2 });
    const id = await approvedChange(env, "alice", "Principal");
    await env.waitForState(id, "applied");
    assert.equal(bulkAttempts(env), 3);
    assert.deepEqual(
      env.jc.calls.filter((c) => c.route === "bulk").map((c) => c.status),
      [503, 503, 201],
    );
    // Each attempt sent the same, schema-valid body.
    for (const call of env.jc.calls.filter((c) => c.route === "bulk")) {
      assert.deepEqual(call.body, [{ id: PEOPLE.alice.jcId, jobTitle: "Principal" }]);
    }
    assert.deepEqual(env.jc.schemaViolations, []);
    assert.equal(env.jc.users.get(PEOPLE.alice.jcId)?.jobTitle, "Principal");
  });

  it("does not retry a 400: one attempt, the failure reported with JumpCloud's message", async () => {
    env = await startTestEnv();
    env.jc.inject({ route: "bulk", status: 400, count: 1, body: { message: "invalid attribute name" } });
    const id = await approvedChange(env, "alice", "Principal");
    await env.waitForState(id, "failed");
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(bulkAttempts(env), 1);
    const items = await env.app.store.listItems(id);
    assert.equal(items[0]?.state, "failed");
    assert.match(items[0]?.message ?? "", /400: invalid attribute name/);
    const request = await env.app.store.getRequest(id);
    await waitUntil(
      () =>
        /invalid attribute name/.test(
          textOf(env?.slack.messages.get(`${request?.approvalChannel}:${request?.approvalTs}`)?.blocks),
        ),
      3000,
      "the approval message to report the failure",
    );
    await waitUntil(
      () =>
        env?.slack.calls.some(
          (c) =>
            c.method === "chat.postMessage" &&
            c.args.channel === PEOPLE.alice.slackId &&
            /invalid attribute name/.test(textOf(c.args.blocks)),
        ) ?? false,
      3000,
      "the outcome DM with JumpCloud's message",
    );
    assert.equal(env.jc.users.get(PEOPLE.alice.jcId)?.jobTitle, "Engineer");
  });

  it("reports a job whose result record failed", async () => {
    env = await startTestEnv({ jc: { jobDelayMs: 60 } });
    env.jc.failUser(PEOPLE.alice.jcId, "Title is locked by HR sync");
    const id = await approvedChange(env, "alice", "Principal");
    await env.waitForState(id, "failed");
    const items = await env.app.store.listItems(id);
    assert.equal(items[0]?.message, "Title is locked by HR sync");
    // Results were polled while pending, then read as final.
    const polls = env.jc.calls.filter((c) => c.route === "results");
    assert.ok(polls.length >= 2, `expected polling while pending, saw ${polls.length}`);
    assert.equal(polls[0]?.query.limit, "100");
    assert.equal(polls[0]?.query.skip, "0");
    const audit = (await env.app.store.listAudit(id)).map((a) => a.event);
    assert.deepEqual(audit.slice(-2), ["submitted_to_jumpcloud", "failed"]);
    assert.match((await env.app.store.listAudit(id)).at(-1)?.detail ?? "", /locked by HR sync/);
  });

  it("groups many approved requests into few bulk calls", async () => {
    env = await startTestEnv({ env: { BATCH_WINDOW_MS: "1500", BATCH_MAX_SIZE: "3" } });
    const people: Person[] = ["alice", "bob", "admin", "approver", "approver2"];
    const ids: number[] = [];
    for (const who of people) ids.push(await approvedChange(env, who, `Title of ${who}`));
    for (const id of ids) await env.waitForState(id, "applied");
    // 5 users, batches of at most 3: ceil(5 / 3) = 2 calls.
    assert.equal(env.jc.bulkCalls.length, 2);
    assert.deepEqual(
      env.jc.bulkCalls.map((c) => c.body.length),
      [3, 2],
    );
    const sent = env.jc.bulkCalls.flatMap((c) => c.body.map((b) => b.id)).sort();
    assert.deepEqual(sent, people.map((p) => PEOPLE[p].jcId).sort());
    assert.deepEqual(env.jc.schemaViolations, []);
  });

  it("never puts one user twice in a batch: the second request waits for the first", async () => {
    env = await startTestEnv({ env: { BATCH_WINDOW_MS: "400" }, jc: { jobDelayMs: 100 } });
    const first = await approvedChange(env, "alice", "First title");
    const form = await env.openForm("alice");
    await env.submitForm("alice", form, { Department: "Platform" });
    const second = (await env.app.store.listRequestsByRequester(PEOPLE.alice.slackId, 1))[0]?.id ?? 0;
    await env.approvalMessage(second);
    await env.click("approver", "approve", second);
    await env.waitForState(first, "applied");
    await env.waitForState(second, "applied");
    assert.equal(env.jc.bulkCalls.length, 2);
    assert.deepEqual(env.jc.bulkCalls[0]?.body, [{ id: PEOPLE.alice.jcId, jobTitle: "First title" }]);
    assert.deepEqual(env.jc.bulkCalls[1]?.body, [{ id: PEOPLE.alice.jcId, department: "Platform" }]);
    // The second call left only after the first job's results were read.
    const firstDone = env.jc.calls
      .filter((c) => c.route === "results")
      .find((c) => c.at > (env?.jc.bulkCalls[0]?.at ?? 0) + 100);
    assert.ok(firstDone && (env.jc.bulkCalls[1]?.at ?? 0) >= firstDone.at);
  });

  it("keeps the items when attempts run out and says it is waiting for JumpCloud", async () => {
    // Base 1 s: attempts 1 s apart, then the items wait 6 × base before the next try.
    env = await startTestEnv({ env: { RETRY_MAX_ATTEMPTS: "2", RETRY_BASE_DELAY_MS: "1000" } });
    env.jc.inject({ route: "bulk", status: 503, count: 2 });
    const id = await approvedChange(env, "alice", "Principal");
    await waitUntil(async () => (await env?.app.store.getRequest(id))?.statusNote != null, 5000, "a waiting note");
    const request = await env.app.store.getRequest(id);
    assert.equal(request?.state, "queued");
    assert.match(request?.statusNote ?? "", /Waiting for JumpCloud \(JumpCloud answered 503\); next try at/);
    const items = await env.app.store.listItems(id);
    assert.equal(items[0]?.state, "queued");
    assert.ok(Date.parse(items[0]?.readyAt ?? "") > Date.now() + 4000, "the next try waits a while");
    await waitUntil(
      () =>
        /Waiting for JumpCloud/.test(
          textOf(env?.slack.messages.get(`${request?.approvalChannel}:${request?.approvalTs}`)?.blocks),
        ),
      3000,
      "the approval message to say it is waiting",
    );
    assert.equal(bulkAttempts(env), 2);
  });

  it("sends x-org-id and suppressEmail as configured and accepts a 200 answer", async () => {
    env = await startTestEnv({
      env: { JUMPCLOUD_ORG_ID: "org-123", JUMPCLOUD_SUPPRESS_EMAIL: "false" },
      jc: { orgId: "org-123", bulkStatus: 200 },
    });
    const id = await approvedChange(env, "alice", "Principal");
    await env.waitForState(id, "applied");
    const bulk = env.jc.calls.filter((c) => c.route === "bulk");
    assert.equal(bulk.length, 1);
    assert.equal(bulk[0]?.headers["x-org-id"], "org-123");
    assert.equal(bulk[0]?.query.suppressEmail, "false");
    assert.equal(bulk[0]?.status, 200);
  });
});
