import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { PEOPLE, type Person, startTestEnv, type TestEnv, textOf, waitUntil } from "../support/start-test-env.js";

async function requestChange(env: TestEnv, who: Person, values: Record<string, string>): Promise<number> {
  const form = await env.openForm(who);
  const answer = await env.submitForm(who, form, values);
  assert.equal(answer.json?.response_action, "update", JSON.stringify(answer.json));
  const request = (await env.app.store.listRequestsByRequester(PEOPLE[who].slackId, 1))[0];
  assert.ok(request);
  await env.approvalMessage(request.id);
  return request.id;
}

async function approve(env: TestEnv, id: number, who: Person = "approver"): Promise<void> {
  const answer = await env.click(who, "approve", id);
  assert.equal(answer.status, 200);
  await waitUntil(async () => (await env.app.store.getRequest(id))?.state !== "pending", 3000, `#${id} decided`);
}

describe("attack: dispatch", () => {
  let env: TestEnv | undefined;
  afterEach(async () => {
    await env?.close();
    env = undefined;
  });

  it("one user deleted from JumpCloud before dispatch does not fail the other users' approved changes in the same batch", async () => {
    env = await startTestEnv({ env: { BATCH_WINDOW_MS: "800" } });
    const alice = await requestChange(env, "alice", { "Work phone": "+49 30 999" }); // list field: read before sending
    const bob = await requestChange(env, "bob", { "Job title": "Foreman" });
    await approve(env, alice);
    await approve(env, bob);
    env.jc.users.delete(PEOPLE.alice.jcId); // offboarded meanwhile
    await waitUntil(
      async () => {
        const s = (await env?.app.store.getRequest(bob))?.state;
        return s === "applied" || s === "failed";
      },
      8000,
      "bob's request to settle",
    );
    assert.equal(
      (await env.app.store.getRequest(bob))?.state,
      "applied",
      JSON.stringify(await env.app.store.listItems(bob)),
    );
    assert.equal(env.jc.users.get(PEOPLE.bob.jcId)?.jobTitle, "Foreman");
  });

  it("an item waiting after attempts ran out is retried even when a later change for the same user was approved meanwhile", async () => {
    env = await startTestEnv({ env: { RETRY_MAX_ATTEMPTS: "1" } });
    env.jc.inject({ route: "bulk", status: 503, count: 1 });
    const first = await requestChange(env, "alice", { "Job title": "First" });
    await approve(env, first);
    await waitUntil(
      async () => (await env?.app.store.getRequest(first))?.statusNote != null,
      5000,
      "first to wait for JumpCloud",
    );
    const second = await requestChange(env, "alice", { Department: "Second" });
    await approve(env, second);
    // First try again after 30 s (FIRST_REQUEUE_DELAY_MS); give it 12 s more.
    await env.waitForState(first, "applied", 42_000);
    await env.waitForState(second, "applied", 5_000);
    assert.equal(env.jc.users.get(PEOPLE.alice.jcId)?.jobTitle, "First");
    assert.equal(env.jc.users.get(PEOPLE.alice.jcId)?.department, "Second");
  });

  it("results that can never be read (job gone: 404 forever) do not leave the request 'submitted' forever with nobody told", async () => {
    env = await startTestEnv();
    env.jc.inject({ route: "results", status: 404, count: 100_000 });
    const id = await requestChange(env, "bob", { "Job title": "Ghost" });
    await approve(env, id);
    // 20 ms poll interval: 4 s is ~200 polls.
    await new Promise((r) => setTimeout(r, 4000));
    const request = await env.app.store.getRequest(id);
    const polls = env.jc.calls.filter((c) => c.route === "results").length;
    assert.ok(
      request?.state !== "submitted" || request.statusNote !== null,
      `after ${polls} failed polls: state ${request?.state}, note ${request?.statusNote}`,
    );
  });

  it("a bulk answer without a job id is not retried blindly and is reported", async () => {
    env = await startTestEnv();
    env.jc.inject({ route: "bulk", status: 201, count: 1, body: { ok: true } });
    const id = await requestChange(env, "bob", { "Job title": "NoJob" });
    await approve(env, id);
    await waitUntil(
      async () => ["failed", "applied"].includes((await env?.app.store.getRequest(id))?.state ?? ""),
      5000,
      "settled",
    );
    assert.equal(
      env.jc.calls.filter((c) => c.route === "bulk").length,
      1,
      "a PATCH JumpCloud accepted is not sent again",
    );
    const items = await env.app.store.listItems(id);
    assert.match(items[0]?.message ?? "", /no job id/);
  });

  it("a connection dropped on the PATCH is retried and then applied once", async () => {
    env = await startTestEnv();
    env.jc.inject({ route: "bulk", status: 0, count: 1 });
    const id = await requestChange(env, "bob", { "Job title": "Dropped" });
    await approve(env, id);
    await env.waitForState(id, "applied");
    assert.deepEqual(
      env.jc.calls.filter((c) => c.route === "bulk").map((c) => c.status),
      [0, 201],
    );
    assert.equal(env.jc.bulkCalls.length, 1);
  });

  it("429 with Retry-After holds the next bulk call at least that long", async () => {
    env = await startTestEnv();
    env.jc.inject({ route: "bulk", status: 429, count: 1, retryAfter: 1 });
    const id = await requestChange(env, "bob", { "Job title": "Patient" });
    await approve(env, id);
    await env.waitForState(id, "applied");
    const bulk = env.jc.calls.filter((c) => c.route === "bulk");
    assert.equal(bulk.length, 2);
    assert.ok((bulk[1]?.at ?? 0) - (bulk[0]?.at ?? 0) >= 950, `waited ${(bulk[1]?.at ?? 0) - (bulk[0]?.at ?? 0)} ms`);
  });

  it("a 429 on the last attempt still pauses the queue for Retry-After (other calls must not walk into the limit)", async () => {
    env = await startTestEnv({ env: { RETRY_MAX_ATTEMPTS: "1" } });
    env.jc.inject({ route: "bulk", status: 429, count: 1, retryAfter: 2 });
    const id = await requestChange(env, "bob", { "Job title": "Limit" });
    await approve(env, id);
    const limited = await env.jc.waitForCall((c) => c.route === "bulk" && c.status === 429, 5000);
    await new Promise((r) => setTimeout(r, 50));
    // Somebody opens a form right after: its lookups must wait for the Retry-After.
    await env.openForm("alice");
    const lookup = env.jc.calls.find((c) => c.route === "lookup" && c.at > limited.at);
    assert.ok(lookup);
    assert.ok(lookup.at - limited.at >= 1900, `lookup ${lookup.at - limited.at} ms after a 429 with Retry-After: 2`);
  });

  it("a 500 from the bulk endpoint is not reported as 'not applied, nothing else was changed' after one attempt", async () => {
    env = await startTestEnv();
    env.jc.inject({ route: "bulk", status: 500, count: 1 });
    const id = await requestChange(env, "bob", { "Job title": "Five hundred" });
    await approve(env, id);
    await new Promise((r) => setTimeout(r, 1500));
    assert.notEqual((await env.app.store.getRequest(id))?.state, "failed");
  });

  it("the approval message and DMs tell the final outcome of a failed result exactly once", async () => {
    env = await startTestEnv();
    env.jc.failUser(PEOPLE.bob.jcId, "<!channel> locked <http://evil.example|docs>");
    const id = await requestChange(env, "bob", { "Job title": "Locked" });
    await approve(env, id);
    await env.waitForState(id, "failed");
    await waitUntil(
      () =>
        env?.slack.calls.some(
          (c) =>
            c.method === "chat.postMessage" &&
            c.args.channel === PEOPLE.bob.slackId &&
            /could not be applied/.test(textOf(c.args.blocks)),
        ) ?? false,
      3000,
      "outcome DM",
    );
    await new Promise((r) => setTimeout(r, 300));
    const dms = env.slack.calls.filter((c) => c.method === "chat.postMessage" && c.args.channel === PEOPLE.bob.slackId);
    assert.equal(dms.length, 3, "receipt, decision, outcome");
    const everything = JSON.stringify(env.slack.calls.map((c) => c.args));
    assert.doesNotMatch(everything, /<!channel>|<http:\/\/evil/);
    assert.match(everything, /&lt;!channel&gt;/);
  });

  it("five changes for one user approved in shuffled order go out one at a time, in approval order", async () => {
    env = await startTestEnv({ env: { BATCH_WINDOW_MS: "100" }, jc: { jobDelayMs: 80 } });
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) ids.push(await requestChange(env, "alice", { "Job title": `Title ${i}` }));
    const order = [ids[3], ids[0], ids[4], ids[1], ids[2]] as number[];
    await Promise.all(
      order.map((id, i) =>
        new Promise((r) => setTimeout(r, i * 15)).then(() =>
          approve(env as TestEnv, id, i % 2 ? "approver" : "approver2"),
        ),
      ),
    );
    for (const id of ids) await env.waitForState(id, "applied", 10_000);
    const approvedSeq = (
      await Promise.all(ids.map(async (id) => ({ id, at: (await env?.app.store.getRequest(id))?.decidedAt ?? "" })))
    )
      .sort((a, b) => a.at.localeCompare(b.at) || 0)
      .map((r) => r.id);
    const titles = env.jc.bulkCalls.map((c) => {
      assert.equal(c.body.length, 1, "one user never twice in a batch");
      return c.body[0]?.jobTitle;
    });
    const expected = await Promise.all(
      approvedSeq.map(async (id) => (await env?.app.store.getRequest(id))?.changes[0]?.newValue),
    );
    assert.deepEqual(titles, expected);
    // Never two calls for her in flight: each PATCH after the previous job's results were final
    // (the fake completes a job when a results read finds it ready; the bot can know no sooner).
    const bulk = env.jc.bulkCalls;
    for (let i = 1; i < bulk.length; i++) {
      const previous = env.jc.jobs.get(bulk[i - 1]?.jobId ?? "");
      assert.ok(
        previous?.completedAt !== undefined && (bulk[i]?.at ?? 0) >= previous.completedAt,
        `PATCH ${i} left before PATCH ${i - 1}'s results were final`,
      );
    }
    assert.equal(env.jc.users.get(PEOPLE.alice.jcId)?.jobTitle, expected.at(-1));
  });
});
