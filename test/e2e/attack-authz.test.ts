import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { ids } from "../../src/slack/ids.js";
import {
  blockActionsPayload,
  interactionBody,
  sendInteraction,
  sendSignedForm,
  viewSubmissionPayload,
} from "../support/slack-request.js";
import {
  APPROVAL_CHANNEL,
  PEOPLE,
  type Person,
  SECRETS,
  startTestEnv,
  type TestEnv,
  waitUntil,
} from "../support/start-test-env.js";

describe("attack: authorization and decisions", () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv({ env: { BATCH_WINDOW_MS: "30" } });
  });
  after(async () => env.close());

  const newRequest = (
    who: Person = "bob",
    values: Record<string, string> = { "Job title": `T ${randomUUID().slice(0, 8)}` },
  ) => env.request(who, values);

  function denySubmit(who: Person, privateMetadata: string, reason = "no") {
    return sendInteraction(
      env.baseUrl,
      SECRETS.signingSecret,
      viewSubmissionPayload({
        user: PEOPLE[who].slackId,
        view: {
          callback_id: ids.denyModal.callbackId,
          private_metadata: privateMetadata,
          state: {
            values: {
              [ids.denyModal.reasonBlock]: {
                [ids.denyModal.reasonAction]: { type: "plain_text_input", value: reason },
              },
            },
          },
        },
      }),
    );
  }

  it("non-admins cannot reach another user's record by any spelling, not even their own mention", async () => {
    const views = env.slack.callsTo("views.open").length;
    for (const text of [
      `<@${PEOPLE.alice.slackId}>`,
      `<@${PEOPLE.alice.slackId}|alice>`,
      "alice@example.com",
      "<mailto:alice@example.com|alice@example.com>",
      "alice",
      "ALICE@EXAMPLE.COM",
    ]) {
      const answer = await env.command("bob", text);
      assert.equal(answer.status, 200);
    }
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(env.slack.callsTo("views.open").length, views, "no modal opened for another user's record");
    const refusals = env.slack.responses.filter((r) => /only change your own/.test(JSON.stringify(r.body)));
    assert.ok(refusals.length >= 6, `refusals: ${refusals.length}`);
  });

  it("a form someone else opened cannot be submitted by another user", async () => {
    const adminForm = await env.openForm("admin", "alice@example.com");
    const before = (await env.app.store.listRequestsByRequester(PEOPLE.bob.slackId, 100)).length;
    const answer = await env.submitForm("bob", adminForm, { Email: "bob-owns-this@example.com" });
    assert.equal(answer.json?.response_action, "errors");
    assert.match(JSON.stringify(answer.json?.errors), /belongs to someone else/);
    assert.equal((await env.app.store.listRequestsByRequester(PEOPLE.bob.slackId, 100)).length, before);
  });

  it("a requester who lost admin rights after opening an admin form can neither target others nor set admin fields", async () => {
    // A draft as it was saved while bob was an admin.
    const base = {
      requesterId: PEOPLE.bob.slackId,
      isAdmin: true,
      current: { jobTitle: "Builder", email: PEOPLE.bob.email },
      allowed: ["jobTitle", "email"],
      managerSlackId: null,
      createdAt: new Date().toISOString(),
    };
    const selfDraft = {
      ...base,
      id: randomUUID(),
      targetUserId: PEOPLE.bob.jcId,
      targetLabel: PEOPLE.bob.email,
      targetSlackId: PEOPLE.bob.slackId,
    };
    const otherDraft = {
      ...base,
      id: randomUUID(),
      targetUserId: PEOPLE.alice.jcId,
      targetLabel: PEOPLE.alice.email,
      targetSlackId: null,
    };
    await env.app.store.saveDraft(selfDraft);
    await env.app.store.saveDraft(otherDraft);
    const before = (await env.app.store.listRequestsByRequester(PEOPLE.bob.slackId, 100)).length;
    const form = (draftId: string) => ({
      viewId: "V_STALE",
      view: {
        callback_id: ids.requestModal.callbackId,
        private_metadata: JSON.stringify({ draftId }),
        blocks: [
          {
            type: "input",
            block_id: "field:email",
            label: { text: "Email" },
            element: { type: "plain_text_input", action_id: "value", initial_value: "x" },
          },
          {
            type: "input",
            block_id: "reason",
            label: { text: "Reason" },
            element: { type: "plain_text_input", action_id: "value" },
          },
        ],
      },
    });
    const a = await env.submitForm("bob", form(selfDraft.id), { Email: "bob2@example.com" });
    assert.equal(a.json?.response_action, "errors");
    assert.ok(a.json?.errors?.["field:email"], JSON.stringify(a.json));
    const b = await env.submitForm("bob", form(otherDraft.id), { Email: "alice2@example.com" });
    assert.equal(b.json?.response_action, "errors");
    assert.match(JSON.stringify(b.json?.errors), /only change your own/);
    assert.equal((await env.app.store.listRequestsByRequester(PEOPLE.bob.slackId, 100)).length, before);
  });

  it("20 concurrent approve/deny clicks and deny-modal submissions from two approvers: exactly one decision, at most one bulk call", async () => {
    const id = await newRequest();
    const bulkBefore = env.jc.bulkCalls.length;
    const who: Person[] = ["approver", "approver2"];
    const tasks: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) {
      const p = who[i % 2] as Person;
      if (i % 3 === 0) tasks.push(denySubmit(p, JSON.stringify({ requestId: id }), `deny ${i}`));
      else tasks.push(env.click(p, i % 3 === 1 ? "approve" : "deny", id));
    }
    await Promise.all(tasks);
    const decisions = (await env.app.store.listAudit(id)).filter((a) => a.event === "approved" || a.event === "denied");
    assert.equal(decisions.length, 1, JSON.stringify(decisions));
    const state = (await env.app.store.getRequest(id))?.state;
    if (decisions[0]?.event === "approved") await env.waitForState(id, "applied");
    else assert.equal(state, "denied");
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(env.jc.bulkCalls.length - bulkBefore, decisions[0]?.event === "approved" ? 1 : 0);
    // The requester heard of the decision once.
    await waitUntil(
      () =>
        env.slack.calls.filter(
          (c) =>
            c.method === "chat.postMessage" &&
            c.args.channel === PEOPLE.bob.slackId &&
            /was (approved|denied)/.test(String(c.args.text)),
        ).length >= 1,
      3000,
      "decision DM",
    );
  });

  it("deny modal: refuses a non-approver, the requester, an unknown request and tampered metadata", async () => {
    const id = await newRequest("alice");
    const cases: [Person, string][] = [
      ["bob", JSON.stringify({ requestId: id })],
      ["admin", JSON.stringify({ requestId: id })],
      ["approver", JSON.stringify({ requestId: 999_999 })],
      ["approver", JSON.stringify({ requestId: `${id}` })],
      ["approver", JSON.stringify({ requestId: -id })],
      ["approver", "{"],
      ["approver", ""],
    ];
    for (const [p, meta] of cases) {
      const answer = await denySubmit(p, meta);
      assert.equal((answer.json as { response_action?: string })?.response_action, "errors", `${p} ${meta}`);
    }
    assert.equal((await env.app.store.getRequest(id))?.state, "pending");
  });

  it("a decision click is only taken from the approval message itself (channel and message ts)", async () => {
    const id = await newRequest();
    await sendInteraction(
      env.baseUrl,
      SECRETS.signingSecret,
      blockActionsPayload({
        user: PEOPLE.approver.slackId,
        action_id: ids.actions.approve,
        value: String(id),
        channel: "C0OTHERCHAN",
        message_ts: "1234.5678",
      }),
    );
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await env.app.store.getRequest(id))?.state, "pending");
  });

  it("button values that are not a plain decimal request id are refused (0x1, 1e0, ' 1', '1.0')", async () => {
    const id = await newRequest();
    const hex = `0x${id.toString(16)}`;
    for (const value of [hex, `${id}e0`, ` ${id}`, `${id}.0`]) {
      await env.click("approver", "approve", value);
    }
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await env.app.store.getRequest(id))?.state, "pending");
  });

  it("refuses NaN, a 10,000-digit number, empty and missing values without deciding anything", async () => {
    const id = await newRequest();
    const seen = env.slack.ephemerals.length;
    for (const value of ["NaN", "9".repeat(10_000), "", "Infinity", `${id} `.repeat(2)]) {
      const answer = await env.click("approver", "approve", value);
      assert.equal(answer.status, 200);
    }
    await waitUntil(() => env.slack.ephemerals.length - seen >= 5, 3000, "five refusals");
    for (const e of env.slack.ephemerals.slice(seen)) assert.match(e.text, /does not exist/);
    assert.equal((await env.app.store.getRequest(id))?.state, "pending");
  });

  it("forged requests: wrong secret, stale timestamp, missing headers, and a body altered after signing do nothing", async () => {
    const id = await newRequest();
    const payload = blockActionsPayload({
      user: PEOPLE.approver.slackId,
      action_id: ids.actions.approve,
      value: String(id),
      channel: APPROVAL_CHANNEL,
    });
    const body = interactionBody(payload);
    const now = Math.floor(Date.now() / 1000);
    const answers = [
      await sendSignedForm(env.baseUrl, "wrong-secret", body),
      await sendSignedForm(env.baseUrl, SECRETS.signingSecret, body, { timestamp: now - 301 }),
      await sendSignedForm(env.baseUrl, SECRETS.signingSecret, body, { omitHeaders: true }),
      await sendSignedForm(env.baseUrl, SECRETS.signingSecret, body, {
        signature: (await import("../support/slack-request.js")).signBody(
          SECRETS.signingSecret,
          now,
          body.replace("U0000000002", "U0000000003"),
        ),
      }),
    ];
    for (const a of answers) assert.equal(a.status, 401, a.body);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await env.app.store.getRequest(id))?.state, "pending");
  });

  it("fails closed when the approver user group cannot be read, and re-checks after the group changes", async () => {
    const groupEnv = await startTestEnv({ env: { APPROVER_USER_IDS: "", APPROVER_USERGROUP_ID: "S0APPROVERS" } });
    try {
      groupEnv.slack.setUsergroup("S0APPROVERS", [PEOPLE.approver.slackId]);
      const form = await groupEnv.openForm("bob");
      await groupEnv.submitForm("bob", form, { "Job title": "Grouped" });
      const id = (await groupEnv.app.store.listRequestsByRequester(PEOPLE.bob.slackId, 1))[0]?.id ?? 0;
      await groupEnv.approvalMessage(id);
      groupEnv.slack.failNext("usergroups.users.list", { error: "fatal_error" });
      const seen = groupEnv.slack.ephemerals.length;
      await groupEnv.click("approver", "approve", id);
      await waitUntil(() => groupEnv.slack.ephemerals.length > seen, 3000, "refusal");
      assert.match(groupEnv.slack.ephemerals.at(-1)?.text ?? "", /Only approvers/);
      assert.equal((await groupEnv.app.store.getRequest(id))?.state, "pending");
      // Not a member (approver2) stays refused once the group is readable again.
      await groupEnv.click("approver2", "approve", id);
      await waitUntil(() => groupEnv.slack.ephemerals.length > seen + 1, 3000, "refusal 2");
      assert.equal((await groupEnv.app.store.getRequest(id))?.state, "pending");
      await groupEnv.click("approver", "approve", id);
      await groupEnv.waitForState(id, "applied");
    } finally {
      await groupEnv.close();
    }
  });

  it("withdraw: only the requester, only while pending; racing an approval gives one outcome", async () => {
    const id = await newRequest();
    const cancel = (who: Person) =>
      sendInteraction(
        env.baseUrl,
        SECRETS.signingSecret,
        blockActionsPayload({
          user: PEOPLE[who].slackId,
          action_id: ids.actions.cancel,
          value: String(id),
          channel: `D${PEOPLE[who].slackId}`,
        }),
      );
    await cancel("alice");
    await cancel("approver");
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await env.app.store.getRequest(id))?.state, "pending");
    await Promise.all([cancel("bob"), env.click("approver", "approve", id), cancel("bob")]);
    await new Promise((r) => setTimeout(r, 300));
    const events = (await env.app.store.listAudit(id)).map((a) => a.event);
    const decided = events.filter((e) => e === "approved" || e === "cancelled");
    assert.equal(decided.length, 1, events.join(","));
  });
});
