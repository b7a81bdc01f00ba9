import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { openStore } from "../../src/store/open-store.js";
import { freshPgSchema, PG_SKIP } from "../support/postgres.js";
import { PEOPLE, startTestEnv, type TestEnv, waitUntil } from "../support/start-test-env.js";

/**
 * Several replicas on one PostgreSQL database (SPEC §6): every replica answers Slack, one runs
 * the workers (dispatch, Slack messages, expiry), another takes over when it goes.
 */
describe("replicas on PostgreSQL", { skip: PG_SKIP }, () => {
  let env: TestEnv;
  let drop: () => Promise<void>;
  beforeEach(async () => {
    const schema = await freshPgSchema();
    drop = schema.drop;
    env = await startTestEnv({ env: { DATABASE_URL: schema.url }, jc: { jobDelayMs: 300 } });
  });
  afterEach(async () => {
    await env.close();
    await drop();
  });

  const health = async (baseUrl: string) => (await fetch(`${baseUrl}/healthz`)).json();
  const bulkPatches = () => env.jc.calls.filter((c) => c.method === "PATCH" && c.path === "/api/v2/bulk/users");
  const approvalPosts = (id: number) =>
    env.slack.calls.filter(
      (c) =>
        c.method === "chat.postMessage" &&
        JSON.stringify(c.args.blocks ?? "").includes(`"action_id":"jc_approve"`) &&
        JSON.stringify(c.args.blocks ?? "").includes(`"value":"${id}"`),
    );

  it("submitted and approved on the standby replica: posted, applied and reported once, by the worker", async () => {
    const replica = await env.startReplica();
    assert.equal(env.app.lease.held, true);
    assert.equal(replica.app.lease.held, false);
    assert.deepEqual(await health(env.baseUrl), { ok: true, mode: "http", workers: "here" });
    assert.deepEqual(await health(replica.baseUrl), { ok: true, mode: "http", workers: "standby" });

    env.baseUrl = replica.baseUrl; // Slack's requests now reach the standby replica
    const id = await env.request("alice", { Department: "Platform" });
    await env.approvalMessage(id); // posted by the worker, told through NOTIFY
    assert.equal((await env.click("approver", "approve", id)).status, 200);
    await env.waitForState(id, "applied");

    assert.equal(env.jc.users.get(PEOPLE.alice.jcId)?.department, "Platform");
    assert.equal(bulkPatches().length, 1);
    assert.equal(approvalPosts(id).length, 1);
    const dms = () =>
      env.slack.calls.filter((c) => c.method === "chat.postMessage" && c.args.channel === PEOPLE.alice.slackId);
    await waitUntil(() => dms().length >= 3, 5000, "the outcome DM");
    await new Promise((resolve) => setTimeout(resolve, 300)); // a duplicate would show by now
    assert.equal(dms().length, 3, "receipt, decision and outcome DMs, once each");
  });

  it("the worker stops mid-job: the standby takes over, reads the job's results, and nothing is sent twice", async () => {
    const replica = await env.startReplica();
    const id = await env.request("alice", { Department: "Research" });
    await env.approvalMessage(id);
    assert.equal((await env.click("approver", "approve", id)).status, 200);
    await env.waitForState(id, "submitted"); // the job is accepted, its results not read yet (300 ms)

    await env.app.stop(); // a deploy: the worker process goes away, parking what it was doing
    await waitUntil(() => replica.app.lease.held, 5000, "the standby to take over");
    await waitUntil(
      async () => (await replica.app.store.getRequest(id))?.state === "applied",
      8000,
      `request #${id} applied by the new worker`,
    );
    assert.equal(bulkPatches().length, 1, "the accepted job was read back, not sent again");
    assert.equal(env.jc.users.get(PEOPLE.alice.jcId)?.department, "Research");
    assert.deepEqual(await health(replica.baseUrl), { ok: true, mode: "http", workers: "here" });
    // The new worker also finished the Slack side: the outcome DM went out once.
    await waitUntil(
      () =>
        env.slack.calls.some(
          (c) =>
            c.method === "chat.postMessage" &&
            c.args.channel === PEOPLE.alice.slackId &&
            /applied/i.test(String(c.args.text)),
        ),
      5000,
      "the outcome DM",
    );
  });

  it("a bulk check left by a replica that died is reported once by the worker, a live one is not", async () => {
    const schema = await freshPgSchema();
    const store = await openStore(schema.url);
    const old = new Date(Date.now() - 10 * 60_000).toISOString();
    await store.startBulkCheck({
      draftId: "dead-1",
      requesterId: PEOPLE.admin.slackId,
      viewId: "V-DEAD",
      startedAt: old,
    });
    await store.startBulkCheck({
      draftId: "live-1",
      requesterId: PEOPLE.alice.slackId,
      viewId: "V-LIVE",
      startedAt: new Date().toISOString(),
    });
    await store.close();
    const other = await startTestEnv({ env: { DATABASE_URL: schema.url } });
    try {
      const told = () =>
        other.slack.calls.filter((c) => c.method === "chat.postMessage" && /was interrupted/.test(String(c.args.text)));
      await waitUntil(() => told().length > 0, 5000, "the interrupted-check DM");
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual(
        told().map((c) => c.args.channel),
        [PEOPLE.admin.slackId],
      );
      assert.deepEqual(
        (await other.app.store.listBulkChecks()).map((c) => c.draftId),
        ["live-1"],
      );
    } finally {
      await other.close();
      await schema.drop();
    }
  });
});
