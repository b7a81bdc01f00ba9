import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { ids } from "../../src/slack/ids.js";
import { sendSlashCommand, signBody } from "../support/slack-request.js";
import { PEOPLE, SECRETS, startTestEnv, type TestEnv, textOf, waitUntil } from "../support/start-test-env.js";

describe("the request form", () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv();
  });
  after(async () => env.close());
  afterEach(() => env.jc.setLatency(0, "lookup"));

  it("opens the modal inside the trigger window when JumpCloud is slow, then fills it in", async () => {
    env.jc.setLatency(3500, "lookup");
    const started = Date.now();
    const form = await env.openForm("alice");
    const open = env.slack.callsTo("views.open").at(-1);
    assert.equal(open?.response.ok, true, "views.open must succeed: the trigger id was still valid");
    assert.ok((open?.at ?? 0) - started < 1500, "the loading modal opened before JumpCloud answered");
    assert.equal((open?.args.view as { callback_id: string }).callback_id, ids.loadingModal.callbackId);
    assert.ok(Date.now() - started >= 3500, "the form came after the slow lookup");
    assert.equal(form.view.blocks.find((b) => b.label?.text === "First name")?.element?.initial_value, "Alice");
  });

  it("shows each validation error under its field and stores nothing", async () => {
    const form = await env.openForm("alice");
    const before = await env.app.store.listRequestsByRequester(PEOPLE.alice.slackId, 100);
    const answer = await env.submitForm(
      "alice",
      form,
      { "Work phone": "call me maybe", "First name": "A\u0007lice" },
      "   ",
    );
    assert.equal(answer.json?.response_action, "errors");
    assert.deepEqual(Object.keys(answer.json?.errors ?? {}).sort(), [
      ids.requestModal.fieldBlock("firstname"),
      ids.requestModal.fieldBlock("phone.work"),
      ids.requestModal.reasonBlock,
    ]);
    assert.match(answer.json?.errors?.[ids.requestModal.fieldBlock("phone.work")] ?? "", /digits/i);
    assert.deepEqual(await env.app.store.listRequestsByRequester(PEOPLE.alice.slackId, 100), before);
  });

  it("says so when nothing changed", async () => {
    const form = await env.openForm("alice");
    const answer = await env.submitForm("alice", form, {});
    assert.equal(answer.json?.response_action, "errors");
    assert.match(Object.values(answer.json?.errors ?? {}).join(" "), /Nothing changed/);
  });

  it("sends the whole phone list, changing only the work number", async () => {
    const form = await env.openForm("alice");
    const answer = await env.submitForm("alice", form, { "Work phone": "+49 30 999999" });
    assert.equal(answer.json?.response_action, "update");
    const id = (await env.app.store.listRequestsByRequester(PEOPLE.alice.slackId, 1))[0]?.id ?? 0;
    await env.click("approver", "approve", id);
    await env.waitForState(id, "applied");
    const body = env.jc.bulkCalls.at(-1)?.body;
    assert.deepEqual(body, [
      {
        id: PEOPLE.alice.jcId,
        phoneNumbers: [
          { type: "work", number: "+49 30 999999" },
          { type: "home", number: "+49 30 7654321" },
        ],
      },
    ]);
    assert.deepEqual(env.jc.schemaViolations, []);
  });

  it("lets an admin open another user's record by email, with admin fields", async () => {
    const form = await env.openForm("admin", PEOPLE.bob.email);
    const labels = form.view.blocks.filter((b) => b.type === "input").map((b) => b.label?.text);
    assert.ok(labels.includes("Email") && labels.includes("Cost center") && labels.includes("Manager"));
    const answer = await env.submitForm("admin", form, { "Cost center": "CC-42" }, "Reorg");
    assert.equal(answer.json?.response_action, "update");
    const request = (await env.app.store.listRequestsByRequester(PEOPLE.admin.slackId, 1))[0];
    assert.equal(request?.targetUserId, PEOPLE.bob.jcId);
    assert.deepEqual(request?.changes, [{ field: "costCenter", oldValue: "", newValue: "CC-42" }]);
  });

  it("refuses another user's email that is already taken", async () => {
    const form = await env.openForm("admin", PEOPLE.bob.email);
    const answer = await env.submitForm("admin", form, { Email: PEOPLE.alice.email }, "typo");
    assert.equal(answer.json?.response_action, "errors");
    assert.match(answer.json?.errors?.[ids.requestModal.fieldBlock("email")] ?? "", /already has this email/);
  });

  it("tells a non-admin, ephemerally, that they may only change their own record", async () => {
    const opensBefore = env.slack.callsTo("views.open").length;
    const answer = await env.command("alice", `<@${PEOPLE.bob.slackId}|bob>`);
    assert.equal(answer.status, 200);
    await waitUntil(() => env.slack.responses.length > 0, 3000, "an ephemeral response");
    const reply = env.slack.responses.at(-1)?.body as { response_type?: string; text?: string };
    assert.equal(reply.response_type, "ephemeral");
    assert.match(reply.text ?? "", /only change your own/);
    assert.equal(env.slack.callsTo("views.open").length, opensBefore);
  });

  it("refuses a hand-made submission that sets an admin field", async () => {
    const form = await env.openForm("alice");
    form.view.blocks.splice(1, 0, {
      type: "input",
      block_id: ids.requestModal.fieldBlock("costCenter"),
      label: { text: "Cost center" },
      element: { type: "plain_text_input", action_id: ids.requestModal.fieldAction },
    });
    const answer = await env.submitForm("alice", form, { "Cost center": "CC-HACK", "Job title": "CEO" });
    assert.equal(answer.json?.response_action, "errors");
    assert.match(answer.json?.errors?.[ids.requestModal.fieldBlock("costCenter")] ?? "", /may not change/);
  });

  it("answers help and unknown text with usage, ephemerally", async () => {
    const reply = async (text: string) => {
      const seen = env.slack.responses.length;
      const ack = await env.command("alice", text);
      assert.equal(ack.status, 200);
      assert.equal(ack.body, "", "acked at once, before any lookup");
      await waitUntil(() => env.slack.responses.length > seen, 3000, "the ephemeral usage");
      return env.slack.responses.at(-1)?.body as { response_type?: string };
    };
    const help = await reply("help");
    assert.equal(help.response_type, "ephemeral");
    assert.match(textOf(help), /\/jc-update status/);
    assert.doesNotMatch(textOf(help), /\/jc-update bulk/, "admin-only usage is not shown to employees");
    const unknown = await reply("please do things");
    assert.match(textOf(unknown), /did not understand/);
  });

  it("lists the requester's own requests with status", async () => {
    const status = await env.command("alice", "status");
    assert.equal((status.json as { response_type: string }).response_type, "ephemeral");
    assert.match(textOf(status.json), /#\d+/);
  });

  it("refuses a bad signature with 401 and does nothing", async () => {
    const calls = env.slack.calls.length;
    const requests = await env.app.store.listRequestsByRequester(PEOPLE.alice.slackId, 100);
    const wrong = await sendSlashCommand(env.baseUrl, "not-the-secret", {
      user_id: PEOPLE.alice.slackId,
      trigger_id: env.slack.issueTrigger(),
    });
    assert.equal(wrong.status, 401);
    const stale = Math.floor(Date.now() / 1000) - 6 * 60;
    const old = await sendSlashCommand(
      env.baseUrl,
      SECRETS.signingSecret,
      { user_id: PEOPLE.alice.slackId },
      { timestamp: stale },
    );
    assert.equal(old.status, 401);
    const missing = await sendSlashCommand(
      env.baseUrl,
      SECRETS.signingSecret,
      { user_id: PEOPLE.alice.slackId },
      { omitHeaders: true },
    );
    assert.equal(missing.status, 401);
    assert.ok(signBody("x", 1, "y").startsWith("v0="));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(env.slack.calls.length, calls);
    assert.deepEqual(await env.app.store.listRequestsByRequester(PEOPLE.alice.slackId, 100), requests);
  });
});

describe("the Manager picker and health", () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv();
  });
  after(async () => env.close());

  it("prefills the manager's Slack user and maps a new pick to that person's JumpCloud id", async () => {
    const bob = env.jc.users.get(PEOPLE.bob.jcId);
    assert.ok(bob);
    bob.manager = PEOPLE.admin.jcId;
    const form = await env.openForm("admin", PEOPLE.bob.email);
    const manager = form.view.blocks.find((b) => b.label?.text === "Manager");
    assert.equal(manager?.element?.type, "users_select");
    assert.equal(manager?.element?.initial_user, PEOPLE.admin.slackId);

    const id = await env.request(
      "admin",
      { Manager: PEOPLE.approver.slackId },
      { text: PEOPLE.bob.email, reason: "Reorg" },
    );
    const request = await env.app.store.getRequest(id);
    assert.deepEqual(request?.changes, [
      {
        field: "manager",
        oldValue: PEOPLE.admin.jcId,
        newValue: PEOPLE.approver.jcId,
        oldSlackUser: PEOPLE.admin.slackId,
        newSlackUser: PEOPLE.approver.slackId,
      },
    ]);
    // Approvers read people, not JumpCloud ids.
    const shown = textOf((await env.approvalMessage(id)).blocks);
    assert.ok(
      shown.includes(`*Manager*: <@${PEOPLE.admin.slackId}> (${PEOPLE.admin.jcId}) → <@${PEOPLE.approver.slackId}> (`),
      shown,
    );
    await env.click("approver2", "approve", id);
    await env.waitForState(id, "applied");
    assert.deepEqual(env.jc.bulkCalls.at(-1)?.body, [{ id: PEOPLE.bob.jcId, manager: PEOPLE.approver.jcId }]);
  });

  it("keeps the manager when the picker is left as it was", async () => {
    const form = await env.openForm("admin", PEOPLE.bob.email);
    const answer = await env.submitForm("admin", form, { "Cost center": "CC-7" }, "Budget");
    assert.equal(answer.json?.response_action, "update");
    const request = (await env.app.store.listRequestsByRequester(PEOPLE.admin.slackId, 1))[0];
    assert.deepEqual(request?.changes, [{ field: "costCenter", oldValue: "", newValue: "CC-7" }]);
  });

  it("answers /healthz 503 when the store is unreachable", async () => {
    const ok = await fetch(`${env.baseUrl}/healthz`);
    assert.equal(ok.status, 200);
    await env.app.store.close();
    const down = await fetch(`${env.baseUrl}/healthz`);
    assert.equal(down.status, 503);
    assert.deepEqual(await down.json(), { ok: false, error: "store unreachable" });
  });
});
