import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { ids } from "../../src/slack/ids.js";
import { blockActionsPayload, sendInteraction } from "../support/slack-request.js";
import { PEOPLE, SECRETS, startTestEnv, type TestEnv, textOf, waitUntil } from "../support/start-test-env.js";

const submitted = (env: TestEnv, jobTitle = "Lead") => env.request("alice", { "Job title": jobTitle });

function receiptDm(env: TestEnv, requestId: number) {
  return env.slack.calls.find(
    (c) =>
      c.method === "chat.postMessage" &&
      c.args.channel === PEOPLE.alice.slackId &&
      String(c.args.text).includes(`#${requestId} was sent`),
  );
}

describe("request lifecycle beyond the decision", () => {
  let env: TestEnv | undefined;
  afterEach(async () => {
    await env?.close();
    env = undefined;
  });

  it("creates one request for a modal submitted twice", async () => {
    env = await startTestEnv();
    const form = await env.openForm("alice");
    const [a, b] = await Promise.all([
      env.submitForm("alice", form, { "Job title": "Twice" }),
      env.submitForm("alice", form, { "Job title": "Twice" }),
    ]);
    assert.equal(a.json?.response_action, "update");
    assert.equal(b.json?.response_action, "update");
    const requests = await env.app.store.listRequestsByRequester(PEOPLE.alice.slackId, 10);
    assert.equal(requests.length, 1);
    await env.approvalMessage(requests[0]?.id ?? 0);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(
      env.slack.callsTo("chat.postMessage").filter((c) => c.args.channel === env?.config.slack.approvalChannelId)
        .length,
      1,
    );
  });

  it("lets the requester withdraw a pending request from the receipt DM", async () => {
    env = await startTestEnv();
    const id = await submitted(env);
    await waitUntil(() => receiptDm(env as TestEnv, id) !== undefined, 3000, "the receipt DM");
    const receipt = receiptDm(env, id);
    const button = (receipt?.args.blocks as { type: string; elements?: { action_id: string; value: string }[] }[])
      .flatMap((b) => b.elements ?? [])
      .find((e) => e.action_id === ids.actions.cancel);
    assert.equal(button?.value, String(id));
    const dmChannel = String(receipt?.response.channel);
    const dmTs = String(receipt?.response.ts);

    // Someone else cannot withdraw it.
    const click = (user: string) =>
      sendInteraction(
        env?.baseUrl ?? "",
        SECRETS.signingSecret,
        blockActionsPayload({
          user,
          action_id: ids.actions.cancel,
          value: String(id),
          channel: dmChannel,
          message_ts: dmTs,
        }),
      );
    await click(PEOPLE.bob.slackId);
    await waitUntil(() => (env?.slack.ephemerals.length ?? 0) > 0, 3000, "a refusal");
    assert.match(env.slack.ephemerals.at(-1)?.text ?? "", /Only the person who made a request/);
    assert.equal((await env.app.store.getRequest(id))?.state, "pending");

    await click(PEOPLE.alice.slackId);
    await env.waitForState(id, "cancelled");
    const request = await env.app.store.getRequest(id);
    await waitUntil(
      () =>
        /Withdrawn/i.test(
          textOf(env?.slack.messages.get(`${request?.approvalChannel}:${request?.approvalTs}`)?.blocks),
        ),
      3000,
      "the approval message to say withdrawn",
    );
    const approval = env.slack.messages.get(`${request?.approvalChannel}:${request?.approvalTs}`);
    assert.equal(
      (approval?.blocks as { type: string }[]).some((b) => b.type === "actions"),
      false,
    );
    await waitUntil(
      () => (env?.slack.messages.get(`${dmChannel}:${dmTs}`)?.updates ?? 0) > 0,
      3000,
      "the receipt DM updated",
    );
    const dm = env.slack.messages.get(`${dmChannel}:${dmTs}`);
    assert.equal(JSON.stringify(dm?.blocks).includes(ids.actions.cancel), false);

    // An approval after the withdrawal changes nothing.
    await env.click("approver", "approve", id);
    await waitUntil(() => /withdrawn/.test(env?.slack.ephemerals.at(-1)?.text ?? ""), 3000, "already withdrawn");
    assert.equal(env.jc.bulkCalls.length, 0);
    assert.deepEqual(
      (await env.app.store.listAudit(id)).map((a) => [a.event, a.actor]),
      [
        ["submitted", PEOPLE.alice.slackId],
        ["cancelled", PEOPLE.alice.slackId],
      ],
    );
  });

  it("reminds once in the thread, then expires a request nobody decided", async () => {
    // 0.6 s to the reminder, 1.8 s to expiry.
    env = await startTestEnv({ env: { REMINDER_AFTER_MINUTES: "0.01", REQUEST_TTL_HOURS: "0.0005" } });
    const id = await submitted(env);
    const request = await env.app.store.getRequest(id);
    await env.waitForState(id, "expired", 6000);
    await waitUntil(
      () =>
        /Expired/i.test(textOf(env?.slack.messages.get(`${request?.approvalChannel}:${request?.approvalTs}`)?.blocks)),
      3000,
      "the approval message to say expired",
    );
    const reminders = env.slack.calls.filter(
      (c) => c.method === "chat.postMessage" && c.args.thread_ts === request?.approvalTs,
    );
    assert.equal(reminders.length, 1);
    assert.match(String(reminders[0]?.args.text), new RegExp(`#${id} is still waiting`));
    await waitUntil(
      () =>
        env?.slack.calls.some(
          (c) =>
            c.method === "chat.postMessage" &&
            c.args.channel === PEOPLE.alice.slackId &&
            /expired/i.test(String(c.args.text) + textOf(c.args.blocks)),
        ) ?? false,
      3000,
      "the requester told it expired",
    );
    assert.deepEqual(
      (await env.app.store.listAudit(id)).map((a) => a.event),
      ["submitted", "reminded", "expired"],
    );
    // Expired means undecidable.
    await env.click("approver", "approve", id);
    await waitUntil(() => /expired/.test(env?.slack.ephemerals.at(-1)?.text ?? ""), 3000, "already expired");
    assert.equal(env.jc.bulkCalls.length, 0);
  });

  it("takes approvers from a user group, and fails closed when the group cannot be read", async () => {
    env = await startTestEnv({ env: { APPROVER_USER_IDS: "", APPROVER_USERGROUP_ID: "S0000000001" } });
    env.slack.setUsergroup("S0000000001", [PEOPLE.approver2.slackId]);
    const id = await submitted(env);
    await env.click("approver", "approve", id);
    await waitUntil(
      () => /Only approvers/.test(env?.slack.ephemerals.at(-1)?.text ?? ""),
      3000,
      "refusal of a non-member",
    );
    await env.click("approver2", "approve", id);
    await env.waitForState(id, "applied");
  });

  it("refuses everyone when the approver group lookup fails", async () => {
    env = await startTestEnv({ env: { APPROVER_USER_IDS: "", APPROVER_USERGROUP_ID: "S0000000001" } });
    env.slack.setUsergroup("S0000000001", [PEOPLE.approver2.slackId]);
    const id = await submitted(env);
    env.slack.failNext("usergroups.users.list", { error: "fatal_error" });
    await env.click("approver2", "approve", id);
    await waitUntil(() => /Only approvers/.test(env?.slack.ephemerals.at(-1)?.text ?? ""), 3000, "fail closed");
    assert.equal((await env.app.store.getRequest(id))?.state, "pending");
  });
});
