import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ids } from "../../src/slack/ids.js";
import { APPROVAL_CHANNEL, PEOPLE, SECRETS, startTestEnv, type TestEnv, textOf } from "../support/start-test-env.js";

describe("a self-service request, end to end", () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv();
  });
  after(async () => env.close());

  it("goes from /jc-update to an applied change, with approval message and DMs", async () => {
    const { slack, jc, app } = env;
    const form = await env.openForm("alice");

    // The modal shows the self-service fields, prefilled, and nothing admin-only.
    const labels = form.view.blocks.filter((b) => b.type === "input").map((b) => b.label?.text);
    assert.deepEqual(labels, [
      "First name",
      "Middle name",
      "Last name",
      "Display name",
      "Job title",
      "Department",
      "Location",
      "Work phone",
      "Mobile phone",
      "Reason",
    ]);
    const jobTitle = form.view.blocks.find((b) => b.label?.text === "Job title");
    assert.equal(jobTitle?.element?.initial_value, "Engineer");

    const answer = await env.submitForm("alice", form, { "Job title": "Staff Engineer" }, "Promotion");
    assert.equal(answer.status, 200);
    assert.equal(answer.json?.response_action, "update");
    assert.match(textOf(answer.json?.view), /Request #1 sent for approval/);

    const request = await app.store.getRequest(1);
    assert.equal(request?.state, "pending");
    assert.deepEqual(request?.changes, [{ field: "jobTitle", oldValue: "Engineer", newValue: "Staff Engineer" }]);

    const posted = await env.approvalMessage(1);
    assert.equal(posted.channel, APPROVAL_CHANNEL);
    const shown = textOf(posted.blocks);
    assert.match(shown, /\*Job title\*: Engineer → Staff Engineer/);
    assert.match(shown, /Promotion/);
    const actions = (posted.blocks as { type: string; elements?: { action_id: string; value: string }[] }[]).find(
      (b) => b.type === "actions",
    );
    assert.deepEqual(
      actions?.elements?.map((e) => [e.action_id, e.value]),
      [
        [ids.actions.approve, "1"],
        [ids.actions.deny, "1"],
      ],
    );

    const click = await env.click("approver", "approve", 1);
    assert.equal(click.status, 200);
    await env.waitForState(1, "applied");

    // Exactly one bulk call, with exactly the change.
    assert.equal(jc.bulkCalls.length, 1);
    assert.deepEqual(jc.bulkCalls[0]?.body, [{ id: PEOPLE.alice.jcId, jobTitle: "Staff Engineer" }]);
    assert.equal(jc.bulkCalls[0]?.query.suppressEmail, "true");
    assert.deepEqual(jc.schemaViolations, []);
    assert.equal(jc.users.get(PEOPLE.alice.jcId)?.jobTitle, "Staff Engineer");

    // The approval message was updated in place: no buttons, who approved, applied.
    await waitForMessage(env, posted, /Applied in JumpCloud/);
    const final = slack.messages.get(`${posted.channel}:${posted.ts}`);
    assert.ok(final && final.updates >= 1);
    assert.equal((final.blocks as { type: string }[]).filter((b) => b.type === "actions").length, 0);
    assert.match(textOf(final.blocks), new RegExp(`<@${PEOPLE.approver.slackId}>`));

    // The requester got the receipt, the decision and the outcome.
    const dms = await waitForDms(env, PEOPLE.alice.slackId, 3);
    assert.match(dms[0] ?? "", /#1/);
    assert.match(dms[1] ?? "", /approved/i);
    assert.match(dms[2] ?? "", /applied/i);

    // No secret anywhere: logs of the whole run (debug level), Slack traffic, JumpCloud bodies.
    assert.ok(env.logs.length > 10, "the run's logs were captured");
    const everything = [
      ...env.logs,
      JSON.stringify(slack.calls.map((c) => c.args)),
      JSON.stringify(jc.calls.map((c) => c.body)),
    ].join("\n");
    for (const secret of Object.values(SECRETS)) assert.ok(!everything.includes(secret), "a secret leaked");

    const audit = (await app.store.listAudit(1)).map((a) => [a.event, a.actor]);
    assert.deepEqual(audit, [
      ["submitted", PEOPLE.alice.slackId],
      ["approved", PEOPLE.approver.slackId],
      ["queued", "system"],
      ["submitted_to_jumpcloud", "system"],
      ["applied", "system"],
    ]);
  });
});

async function waitForMessage(env: TestEnv, at: { channel: string; ts: string }, pattern: RegExp): Promise<void> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const m = env.slack.messages.get(`${at.channel}:${at.ts}`);
    if (m && pattern.test(textOf(m.blocks))) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(
    `approval message never matched ${pattern}: ${textOf(env.slack.messages.get(`${at.channel}:${at.ts}`)?.blocks)}`,
  );
}

async function waitForDms(env: TestEnv, userId: string, count: number): Promise<string[]> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const dms = env.slack.calls
      .filter((c) => c.method === "chat.postMessage" && c.args.channel === userId && c.response.ok === true)
      .map((c) => `${String(c.args.text)}\n${textOf(c.args.blocks)}`);
    if (dms.length >= count || Date.now() > deadline) return dms;
    await new Promise((r) => setTimeout(r, 10));
  }
}
