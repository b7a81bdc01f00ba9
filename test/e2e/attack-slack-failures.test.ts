import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { PEOPLE, startTestEnv, type TestEnv, textOf, waitUntil } from "../support/start-test-env.js";

describe("attack: Slack and JumpCloud failing around the user", () => {
  let env: TestEnv | undefined;
  afterEach(async () => {
    await env?.close();
    env = undefined;
  });

  async function submit(e: TestEnv, title: string): Promise<number> {
    const form = await e.openForm("bob");
    const answer = await e.submitForm("bob", form, { "Job title": title });
    assert.equal(answer.json?.response_action, "update", JSON.stringify(answer.json));
    return (await e.app.store.listRequestsByRequester(PEOPLE.bob.slackId, 1))[0]?.id ?? 0;
  }

  const approvalPosts = (e: TestEnv) =>
    e.slack.calls.filter(
      (c) =>
        c.method === "chat.postMessage" &&
        c.args.channel === e.config.slack.approvalChannelId &&
        c.status === 200 &&
        c.response.ok,
    );
  const dmsTo = (e: TestEnv, id: string) =>
    e.slack.calls.filter((c) => c.method === "chat.postMessage" && c.args.channel === id && c.response.ok);

  it("Slack 429 then 500 on chat.postMessage: the approval message is posted exactly once, every DM exactly once", async () => {
    env = await startTestEnv();
    env.slack.failNext("chat.postMessage", { status: 429, retryAfter: 1 });
    env.slack.failNext("chat.postMessage", { status: 500, count: 1 });
    const id = await submit(env, "Retried");
    await env.approvalMessage(id);
    await env.click("approver", "approve", id);
    await env.waitForState(id, "applied");
    await waitUntil(() => dmsTo(env as TestEnv, PEOPLE.bob.slackId).length >= 3, 8000, "three DMs");
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(approvalPosts(env).length, 1);
    assert.deepEqual(
      dmsTo(env, PEOPLE.bob.slackId).map((c) => String(c.args.text).replace(/#\d+/, "#N")),
      [
        "Your JumpCloud update request #N was sent for approval",
        "Your JumpCloud update request #N was approved",
        "Your JumpCloud update request #N was applied",
      ],
    );
  });

  it("chat.update failing once (500) still leaves the approval message showing the final outcome", async () => {
    env = await startTestEnv();
    const id = await submit(env, "Updated");
    const msg = await env.approvalMessage(id);
    env.slack.failNext("chat.update", { status: 500, count: 2 });
    await env.click("approver", "approve", id);
    await env.waitForState(id, "applied");
    await waitUntil(
      () => /Applied in JumpCloud/.test(textOf(env?.slack.messages.get(`${msg.channel}:${msg.ts}`)?.blocks)),
      10_000,
      "approval message to show the outcome",
    );
  });

  it("the approval message cannot be posted (not_in_channel): it is retried, not dropped, so the request stays decidable", async () => {
    env = await startTestEnv();
    env.slack.failNext("chat.postMessage", { error: "not_in_channel", count: 2 });
    const id = await submit(env, "Nowhere");
    // Kept and retried (1 s, 2 s …) until an admin invites the bot: the request becomes decidable.
    await waitUntil(
      async () => Boolean((await env?.app.store.getRequest(id))?.approvalTs),
      10_000,
      "approval message posted after not_in_channel",
    );
    assert.equal(approvalPosts(env).length, 1);
  });

  it("views.open failing (Slack 429 / expired trigger) on /jc-update tells the user something", async () => {
    env = await startTestEnv();
    env.slack.failNext("views.open", { status: 429, retryAfter: 1 });
    const answer = await env.command("bob");
    assert.equal(answer.status, 200);
    await new Promise((r) => setTimeout(r, 800));
    const told =
      env.slack.responses.length +
      env.slack.ephemerals.length +
      env.slack.callsTo("views.open").filter((c) => c.response.ok).length;
    assert.ok(told > 0 || /./.test(answer.body), "some answer reached the user");
  });

  it("JumpCloud down while the modal opens: the modal says so (no stuck loading view)", async () => {
    env = await startTestEnv();
    env.jc.inject({ route: "lookup", status: 503, count: 10 });
    const seen = env.slack.calls.length;
    await env.command("bob");
    const update = await env.slack.waitFor(
      "views.update",
      (c) => env?.slack.calls.indexOf(c) !== undefined && (env?.slack.calls.indexOf(c) ?? 0) >= seen,
      8000,
    );
    assert.match(textOf((update.args.view as { blocks: unknown }).blocks), /Could not read JumpCloud.*503.*try again/s);
  });

  it("JumpCloud refusing the key (401) while the modal opens: the modal names the problem", async () => {
    env = await startTestEnv();
    env.jc.inject({ route: "lookup", status: 401, count: 1, body: { message: "no organization selected" } });
    const seen = env.slack.calls.length;
    await env.command("bob");
    const update = await env.slack.waitFor("views.update", (c) => (env?.slack.calls.indexOf(c) ?? 0) >= seen, 8000);
    const text = textOf((update.args.view as { blocks: unknown }).blocks);
    assert.match(text, /refused the bot.s API key/);
    assert.doesNotMatch(text, /JUMPCLOUD_ORG_ID/, "operator hints stay in the log, not in front of employees");
    assert.doesNotMatch(text, /test-jc-api-key/);
  });
});
