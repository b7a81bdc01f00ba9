import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ids } from "../../src/slack/ids.js";
import {
  APPROVAL_CHANNEL,
  PEOPLE,
  type Person,
  startTestEnv,
  type TestEnv,
  textOf,
  waitUntil,
} from "../support/start-test-env.js";

describe("approval decisions", () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv({
      env: { APPROVER_USER_IDS: `${PEOPLE.approver.slackId},${PEOPLE.approver2.slackId},${PEOPLE.alice.slackId}` },
    });
  });
  after(async () => env.close());

  const newRequest = (who: Person = "bob", jobTitle = `Title ${Math.random()}`) =>
    env.request(who, { "Job title": jobTitle });

  async function ephemeralTo(who: Person, since: number): Promise<string> {
    await waitUntil(() => env.slack.ephemerals.length > since, 3000, "an ephemeral reply");
    const reply = env.slack.ephemerals.slice(since).find((e) => e.user === PEOPLE[who].slackId);
    assert.ok(reply, "the ephemeral went to the clicker");
    assert.equal(reply.channel, APPROVAL_CHANNEL);
    return reply.text;
  }

  it("refuses a non-approver and changes nothing", async () => {
    const id = await newRequest();
    const seen = env.slack.ephemerals.length;
    await env.click("admin", "approve", id);
    assert.match(await ephemeralTo("admin", seen), /Only approvers/);
    assert.equal((await env.app.store.getRequest(id))?.state, "pending");
    assert.equal(env.jc.bulkCalls.length, 0);
  });

  it("refuses self-approval even from an approver", async () => {
    const id = await newRequest("alice");
    const seen = env.slack.ephemerals.length;
    await env.click("alice", "approve", id);
    assert.match(await ephemeralTo("alice", seen), /your own request/);
    assert.equal((await env.app.store.getRequest(id))?.state, "pending");
    const audit = await env.app.store.listAudit(id);
    assert.deepEqual(
      audit.map((a) => a.event),
      ["submitted"],
    );
  });

  it("says so for a request that does not exist or a tampered value", async () => {
    for (const value of ["999999", "1 OR 1=1", "-3"]) {
      const seen = env.slack.ephemerals.length;
      await env.click("approver", "approve", value);
      assert.match(await ephemeralTo("approver", seen), /does not exist/);
    }
  });

  it("lets exactly one of two concurrent approvers win, and dispatches once", async () => {
    const id = await newRequest();
    const bulkBefore = env.jc.bulkCalls.length;
    const seen = env.slack.ephemerals.length;
    const answers = await Promise.all([
      env.click("approver", "approve", id),
      env.click("approver2", "approve", id),
      env.click("approver", "approve", id),
      env.click("approver2", "deny", id),
    ]);
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 200, 200, 200],
    );
    await env.waitForState(id, "applied");
    const decisions = (await env.app.store.listAudit(id)).filter((a) => a.event === "approved" || a.event === "denied");
    assert.equal(decisions.length, 1);
    assert.equal(env.jc.bulkCalls.length - bulkBefore, 1);
    await waitUntil(() => env.slack.ephemerals.length - seen >= 3, 3000, "three 'already decided' replies");
    const winner = decisions[0]?.actor;
    for (const e of env.slack.ephemerals.slice(seen))
      assert.match(e.text, new RegExp(`already approved by <@${winner}>`));
  });

  it("denies with a reason: message updated, requester told, nothing sent to JumpCloud", async () => {
    const id = await newRequest();
    const bulkBefore = env.jc.bulkCalls.length;
    await env.click("approver", "deny", id);
    const modal = await env.slack.waitFor(
      "views.open",
      (c) => (c.args.view as { callback_id?: string }).callback_id === ids.denyModal.callbackId,
    );
    assert.equal(modal.response.ok, true);
    assert.equal((await env.app.store.getRequest(id))?.state, "pending", "clicking Deny alone decides nothing");
    const answer = await env.submitDeny("approver", id, "Titles come from HR <!channel>");
    assert.equal(answer.status, 200);
    assert.equal(answer.json?.response_action, undefined);
    await env.waitForState(id, "denied");
    const request = await env.app.store.getRequest(id);
    assert.equal(request?.decidedBy, PEOPLE.approver.slackId);
    assert.equal(request?.decisionNote, "Titles come from HR <!channel>");
    await waitUntil(
      () =>
        /Titles come from HR &lt;!channel&gt;/.test(
          textOf(env.slack.messages.get(`${request?.approvalChannel}:${request?.approvalTs}`)?.blocks),
        ),
      3000,
      "the approval message to show the deny reason, escaped",
    );
    const message = env.slack.messages.get(`${request?.approvalChannel}:${request?.approvalTs}`);
    assert.equal(
      (message?.blocks as { type: string }[]).some((b) => b.type === "actions"),
      false,
    );
    assert.ok(!textOf(message?.blocks).includes("<!channel>"));
    await waitUntil(
      () =>
        env.slack.calls.some(
          (c) =>
            c.method === "chat.postMessage" &&
            c.args.channel === PEOPLE.bob.slackId &&
            /denied/i.test(String(c.args.text)),
        ),
      3000,
      "the denial DM",
    );
    // A later approve click changes nothing.
    const seen = env.slack.ephemerals.length;
    await env.click("approver2", "approve", id);
    assert.match(await ephemeralTo("approver2", seen), /already denied/);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(env.jc.bulkCalls.length, bulkBefore);
  });

  it("a deny submitted after an approval is refused in the modal", async () => {
    const id = await newRequest();
    await env.click("approver", "deny", id);
    await env.click("approver2", "approve", id);
    await waitUntil(async () => (await env.app.store.getRequest(id))?.state !== "pending", 3000, "approval");
    const answer = await env.submitDeny("approver", id, "too late");
    assert.equal(answer.json?.response_action, "errors");
    assert.match(answer.json?.errors?.[ids.denyModal.reasonBlock] ?? "", /already approved/);
  });
});
