import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { WebClient } from "@slack/web-api";
import type { FakeSlack, FakeSlackOptions } from "../support/fake-slack.js";
import { startFakeSlack } from "../support/fake-slack.js";

const TOKEN = "xoxb-test-token";

async function withSlack(options: FakeSlackOptions, fn: (slack: FakeSlack) => Promise<void>): Promise<void> {
  const slack = await startFakeSlack(options);
  try {
    await fn(slack);
  } finally {
    await slack.close();
  }
}

/** Posts the way WebClient does: form-encoded, objects as JSON strings, Bearer token. */
async function api(slack: FakeSlack, method: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
  const form: Record<string, string> = {};
  for (const [k, v] of Object.entries(args)) form[k] = typeof v === "string" ? v : JSON.stringify(v);
  const res = await fetch(`${slack.url}${method}`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form).toString(),
  });
  return (await res.json()) as Record<string, unknown>;
}

function client(slack: FakeSlack): WebClient {
  return new WebClient(TOKEN, { slackApiUrl: slack.url, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true });
}

const section = (text: string) => ({ type: "section", text: { type: "mrkdwn", text } });
const plain = (text: string) => ({ type: "plain_text", text });
const modal = (over: Record<string, unknown> = {}) => ({
  type: "modal",
  callback_id: "jc_update_modal",
  title: plain("JumpCloud update"),
  submit: plain("Submit"),
  close: plain("Cancel"),
  blocks: [
    {
      type: "input",
      block_id: "reason",
      label: plain("Reason"),
      element: { type: "plain_text_input", action_id: "reason_input", max_length: 500 },
    },
  ],
  ...over,
});

describe("fake Slack", () => {
  it("serves WebClient: auth.test, users, DMs, messages and updates", async () => {
    await withSlack({}, async (slack) => {
      assert.ok(slack.url.endsWith("/api/"));
      slack.addUser({ id: "U1", email: "ada@example.com", name: "ada", realName: "Ada Lovelace" });
      const web = client(slack);
      const auth = await web.auth.test();
      assert.equal(auth.user_id, "U0000000BOT");
      assert.equal(auth.team_id, "T0000000001");

      const info = await web.users.info({ user: "U1" });
      assert.equal(info.user?.profile?.email, "ada@example.com");
      slack.emailScope = false;
      const noEmail = await web.users.info({ user: "U1" });
      assert.equal(noEmail.user?.profile?.email, undefined);
      await assert.rejects(web.users.info({ user: "U404" }), /user_not_found/);
      const byEmail = await web.users.lookupByEmail({ email: "ADA@example.com" });
      assert.equal(byEmail.user?.id, "U1");
      await assert.rejects(web.users.lookupByEmail({ email: "x@y" }), /users_not_found/);

      slack.setUsergroup("S1", ["U1", "U2"]);
      assert.deepEqual((await web.usergroups.users.list({ usergroup: "S1" })).users, ["U1", "U2"]);
      await assert.rejects(web.usergroups.users.list({ usergroup: "S2" }), /no_such_subteam/);

      const open = await web.conversations.open({ users: "U1" });
      assert.equal(open.channel?.id, "DU1");
      await web.chat.postMessage({ channel: "DU1", text: "Your request #1 was approved" });
      assert.equal(slack.dms.length, 1);
      assert.equal(slack.dms[0]?.userId, "U1");

      const posted = await web.chat.postMessage({
        channel: "C2",
        text: "Request #1",
        blocks: [section("*Request #1*")],
      });
      const posted2 = await web.chat.postMessage({ channel: "C2", text: "Request #2" });
      assert.ok(Number(posted2.ts) > Number(posted.ts));
      assert.match(String(posted.ts), /^\d{10}\.\d{6}$/);
      const call = await slack.waitFor("chat.postMessage", (c) => c.args.channel === "C2");
      assert.deepEqual(call.args.blocks, [section("*Request #1*")]); // JSON-decoded
      assert.equal(call.args.token, undefined);

      await web.chat.update({
        channel: "C2",
        ts: String(posted.ts),
        text: "Request #1 approved",
        blocks: [section("done")],
      });
      const stored = slack.messages.get(`C2:${posted.ts}`);
      assert.equal(stored?.updates, 1);
      assert.equal(stored?.text, "Request #1 approved");
      await assert.rejects(web.chat.update({ channel: "C2", ts: "1.000001", text: "x" }), /message_not_found/);

      await web.chat.postEphemeral({ channel: "C1", user: "U1", text: "Only you can see this" });
      assert.equal(slack.ephemerals[0]?.user, "U1");

      slack.setChannelMembers("C3", false);
      await assert.rejects(web.chat.postMessage({ channel: "C3", text: "hi" }), /not_in_channel/);
      assert.equal((await api(slack, "chat.postMessage", { channel: "C2" })).error, "no_text");
      const unknown = await api(slack, "chat.scheduleMessage", { channel: "C2", text: "later" });
      assert.deepEqual(unknown, { ok: false, error: "unknown_method" });
      assert.equal(slack.callsTo("chat.postMessage").length, 5); // 3 ok, not_in_channel, no_text
    });
  });

  it("enforces Block Kit limits on messages", async () => {
    await withSlack({}, async (slack) => {
      const blocks51 = Array.from({ length: 51 }, (_, i) => section(`row ${i}`));
      let r = await api(slack, "chat.postMessage", { channel: "C1", text: "t", blocks: blocks51 });
      assert.equal(r.ok, false);
      assert.equal(r.error, "invalid_blocks");
      assert.match(JSON.stringify(r.response_metadata), /no more than 50 items/);
      r = await api(slack, "chat.postMessage", { channel: "C1", text: "t", blocks: blocks51.slice(0, 50) });
      assert.equal(r.ok, true);

      const cases: [string, unknown[], RegExp][] = [
        ["section text > 3000", [section("x".repeat(3001))], /less than 3001/],
        ["empty section text", [section("")], /more than 0 characters/],
        ["header > 150", [{ type: "header", text: plain("h".repeat(151)) }], /less than 151/],
        [
          "11 fields",
          [{ type: "section", fields: Array.from({ length: 11 }, () => ({ type: "mrkdwn", text: "f" })) }],
          /10 items/,
        ],
        [
          "button text > 75",
          [{ type: "actions", elements: [{ type: "button", text: plain("b".repeat(76)), action_id: "a" }] }],
          /less than 76/,
        ],
        [
          "button value > 2000",
          [
            {
              type: "actions",
              elements: [{ type: "button", text: plain("ok"), value: "v".repeat(2001), action_id: "a" }],
            },
          ],
          /less than 2001/,
        ],
        [
          "duplicate block_id",
          [
            { ...section("a"), block_id: "b" },
            { ...section("b"), block_id: "b" },
          ],
          /duplicate block_id/,
        ],
        [
          "input in message",
          [{ type: "input", label: plain("x"), element: { type: "plain_text_input" } }],
          /input blocks/,
        ],
        ["unknown type", [{ type: "table" }], /unknown or missing block type/],
        ["context > 10", [{ type: "context", elements: Array.from({ length: 11 }, () => plain("c")) }], /10 items/],
      ];
      for (const [name, blocks, pattern] of cases) {
        const res = await api(slack, "chat.postMessage", { channel: "C1", text: "t", blocks });
        assert.equal(res.error, "invalid_blocks", name);
        assert.match(JSON.stringify(res.errors), pattern, name);
      }
      r = await api(slack, "chat.postMessage", { channel: "C1", text: "x".repeat(40001) });
      assert.equal(r.error, "msg_too_long");
      assert.equal(slack.messages.size, 1);
    });
  });

  it("makes trigger_ids single-use and expire after the TTL", async () => {
    let clock = 1_700_000_000_000;
    await withSlack({ now: () => clock }, async (slack) => {
      const web = client(slack);
      const trigger = slack.issueTrigger("U1");
      const opened = await web.views.open({ trigger_id: trigger, view: modal() as never });
      assert.match(String(opened.view?.id), /^V/);
      assert.deepEqual(opened.view?.state, { values: {} });
      assert.equal(opened.view?.callback_id, "jc_update_modal");
      assert.equal(slack.views.get(String(opened.view?.id))?.userId, "U1");
      await assert.rejects(web.views.open({ trigger_id: trigger, view: modal() as never }), /expired_trigger_id/);
      await assert.rejects(web.views.open({ trigger_id: "123.456.abc", view: modal() as never }), /invalid_trigger_id/);

      const late = slack.issueTrigger();
      clock += 2999;
      const fresh = slack.issueTrigger();
      clock += 2; // late is now 3001 ms old
      await assert.rejects(web.views.open({ trigger_id: late, view: modal() as never }), /expired_trigger_id/);
      const ok = await api(slack, "views.open", { trigger_id: fresh, view: modal() });
      assert.equal(ok.ok, true);

      // views.push follows the same trigger rules.
      const pushTrigger = slack.issueTrigger();
      assert.equal((await api(slack, "views.push", { trigger_id: pushTrigger, view: modal() })).ok, true);
      assert.equal(
        (await api(slack, "views.push", { trigger_id: pushTrigger, view: modal() })).error,
        "expired_trigger_id",
      );
    });
  });

  it("rejects invalid views with invalid_arguments", async () => {
    await withSlack({ triggerTtlMs: 60_000 }, async (slack) => {
      const open = (view: unknown) => api(slack, "views.open", { trigger_id: slack.issueTrigger(), view });
      let r = await open(modal({ title: plain("x".repeat(25)) }));
      assert.equal(r.error, "invalid_arguments");
      assert.deepEqual((r.response_metadata as { messages: string[] }).messages, [
        "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]",
      ]);
      assert.equal((await open(modal({ title: plain("x".repeat(24)) }))).ok, true);
      r = await open(modal({ private_metadata: "m".repeat(3001) }));
      assert.match(JSON.stringify(r.response_metadata), /private_metadata/);
      r = await open(modal({ submit: undefined }));
      assert.match(JSON.stringify(r.response_metadata), /submit is required/);
      r = await open(modal({ blocks: Array.from({ length: 101 }, () => ({ type: "divider" })) }));
      assert.match(JSON.stringify(r.response_metadata), /no more than 100 items/);
      const input = (element: Record<string, unknown>) =>
        modal({ blocks: [{ type: "input", block_id: "b", label: plain("Job title"), element }] });
      r = await open(
        input({ type: "plain_text_input", action_id: "a", max_length: 30, initial_value: "y".repeat(31) }),
      );
      assert.match(JSON.stringify(r.response_metadata), /initial_value/);
      r = await open(input({ type: "plain_text_input", action_id: "a", max_length: 3001 }));
      assert.match(JSON.stringify(r.response_metadata), /max_length/);
      r = await open(
        modal({ blocks: [{ type: "input", label: plain("l".repeat(2001)), element: { type: "plain_text_input" } }] }),
      );
      assert.match(JSON.stringify(r.response_metadata), /label\/text/);
      assert.equal(slack.views.size, 1);
    });
  });

  it("updates views by id or external_id and detects hash conflicts", async () => {
    await withSlack({}, async (slack) => {
      const opened = await api(slack, "views.open", {
        trigger_id: slack.issueTrigger(),
        view: modal({ external_id: "req-1", blocks: [section("Loading…")] }),
      });
      const view = opened.view as { id: string; hash: string };
      const u1 = await api(slack, "views.update", { view_id: view.id, hash: view.hash, view: modal() });
      assert.equal(u1.ok, true);
      const newHash = (u1.view as { hash: string }).hash;
      assert.notEqual(newHash, view.hash);
      const stale = await api(slack, "views.update", { view_id: view.id, hash: view.hash, view: modal() });
      assert.equal(stale.error, "hash_conflict");
      const byExternal = await api(slack, "views.update", {
        external_id: "req-1",
        view: modal({ external_id: "req-1" }),
      });
      assert.equal(byExternal.ok, true);
      assert.equal((byExternal.view as { id: string }).id, view.id);
      assert.equal((await api(slack, "views.update", { view_id: "V404", view: modal() })).error, "not_found");
      const bad = await api(slack, "views.update", { view_id: view.id, view: modal({ title: plain("t".repeat(30)) }) });
      assert.equal(bad.error, "invalid_arguments");
      assert.equal(slack.views.get(view.id)?.hash, (byExternal.view as { hash: string }).hash);
    });
  });

  it("fails calls on demand: 429 with Retry-After and ok:false errors", async () => {
    await withSlack({}, async (slack) => {
      slack.failNext("chat.postMessage", { status: 429, retryAfter: 2 });
      const res = await fetch(`${slack.url}chat.postMessage`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/x-www-form-urlencoded" },
        body: "channel=C1&text=hi",
      });
      assert.equal(res.status, 429);
      assert.equal(res.headers.get("retry-after"), "2");
      assert.deepEqual(await res.json(), { ok: false, error: "ratelimited" });
      assert.equal((await api(slack, "chat.postMessage", { channel: "C1", text: "hi" })).ok, true);

      slack.failNext("views.open", { error: "internal_error", count: 2 });
      const t = slack.issueTrigger();
      assert.equal((await api(slack, "views.open", { trigger_id: t, view: modal() })).error, "internal_error");
      assert.equal((await api(slack, "views.open", { trigger_id: t, view: modal() })).error, "internal_error");
      assert.equal((await api(slack, "views.open", { trigger_id: t, view: modal() })).ok, true);

      const noToken = await fetch(`${slack.url}auth.test`, { method: "POST" });
      assert.deepEqual(await noToken.json(), { ok: false, error: "not_authed" });
      await assert.rejects(
        slack.waitFor("chat.update", undefined, 50),
        /no matching chat.update call.*chat.postMessage\(ratelimited\)/,
      );
    });
  });

  it("supports files.uploadV2 and response_url posts", async () => {
    await withSlack({}, async (slack) => {
      const web = client(slack);
      const posted = await web.chat.postMessage({ channel: "C2", text: "Bulk request #7" });
      await web.filesUploadV2({
        channel_id: "C2",
        thread_ts: String(posted.ts),
        filename: "diff.csv",
        title: "Full diff",
        content: "email,department\na@x,IT\n",
        initial_comment: "Full diff attached",
      });
      assert.equal(slack.uploads.length, 1);
      assert.deepEqual(slack.uploads[0], {
        id: slack.uploads[0]?.id,
        filename: "diff.csv",
        title: "Full diff",
        content: "email,department\na@x,IT\n",
        channel: "C2",
        thread_ts: String(posted.ts),
        initial_comment: "Full diff attached",
      });

      const url = slack.responseUrl();
      const r = await fetch(url, {
        method: "POST",
        body: JSON.stringify({ response_type: "ephemeral", text: "hello" }),
      });
      assert.equal(r.status, 200);
      const call = await slack.waitFor("response_url", (c) => c.args.text === "hello", 500);
      assert.equal(call.args.response_type, "ephemeral");
      assert.equal(slack.responses.length, 1);

      slack.reset();
      assert.equal(slack.calls.length, 0);
      assert.equal(slack.messages.size, 0);
    });
  });
});
