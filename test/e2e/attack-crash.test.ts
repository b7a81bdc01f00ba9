import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, it } from "node:test";
import Database from "better-sqlite3";
import { type FakeJumpCloud, startFakeJumpCloud } from "../../src/sim/fake-jumpcloud.js";
import { ids } from "../../src/slack/ids.js";
import { type FakeSlack, type SlackCall, startFakeSlack } from "../support/fake-slack.js";
import {
  blockActionsPayload,
  bulkFormValues,
  sendInteraction,
  sendSlashCommand,
  viewSubmissionPayload,
} from "../support/slack-request.js";
import { APPROVAL_CHANNEL, PEOPLE, SECRETS, seedUsers, waitUntil } from "../support/start-test-env.js";

/**
 * The bot as a child process on a file database, killed with SIGKILL at chosen points and
 * restarted on the same file. Runs the TypeScript entry point through tsx (same code as dist/).
 */
interface Bot {
  child: ChildProcess;
  port: number;
  output: () => string;
  exit: Promise<number | null>;
}

function startBot(env: Record<string, string>, port: number): Bot {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    env: { PATH: process.env.PATH ?? "", ...env, PORT: String(port) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d) => (out += d));
  child.stderr?.on("data", (d) => (out += d));
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, port, output: () => out, exit };
}

async function healthy(bot: Bot): Promise<void> {
  await waitUntil(
    async () => (await fetch(`http://127.0.0.1:${bot.port}/healthz`).catch(() => undefined))?.status === 200,
    15_000,
    "bot /healthz",
    async () => bot.output().slice(-2000),
  );
}

async function kill9(bot: Bot): Promise<void> {
  bot.child.kill("SIGKILL");
  await bot.exit;
}

describe("attack: kill -9 and restart on the same database", () => {
  let slack: FakeSlack;
  let jc: FakeJumpCloud;
  let bots: Bot[] = [];
  let dbFile = "";
  let baseEnv: Record<string, string> = {};
  const port = 30000 + Math.floor(Math.random() * 20000);

  async function setup(jcOptions: { jobDelayMs?: number } = {}, extra: Record<string, string> = {}) {
    slack = await startFakeSlack();
    for (const [name, p] of Object.entries(PEOPLE))
      slack.addUser({ id: p.slackId, email: p.email, name, realName: name });
    jc = await startFakeJumpCloud({ apiKey: SECRETS.apiKey, users: seedUsers(), ...jcOptions });
    dbFile = join(mkdtempSync(join(tmpdir(), "jc-attack-")), "bot.db");
    baseEnv = {
      SLACK_BOT_TOKEN: SECRETS.botToken,
      SLACK_SIGNING_SECRET: SECRETS.signingSecret,
      SLACK_API_URL: slack.url,
      APPROVAL_CHANNEL_ID: APPROVAL_CHANNEL,
      APPROVER_USER_IDS: `${PEOPLE.approver.slackId},${PEOPLE.approver2.slackId}`,
      ADMIN_USER_IDS: PEOPLE.admin.slackId,
      JUMPCLOUD_API_KEY: SECRETS.apiKey,
      JUMPCLOUD_API_URL: jc.url,
      DATABASE_URL: `sqlite:${dbFile}`,
      BATCH_WINDOW_MS: "200",
      RETRY_BASE_DELAY_MS: "50",
      RESULTS_POLL_INTERVAL_MS: "100",
      LOG_LEVEL: "info",
      ...extra,
    };
  }

  async function boot(): Promise<Bot> {
    const bot = startBot(baseEnv, port);
    bots.push(bot);
    await healthy(bot);
    return bot;
  }

  function db<T>(query: (d: Database.Database) => T): T {
    const d = new Database(dbFile, { readonly: true, fileMustExist: true });
    try {
      return query(d);
    } finally {
      d.close();
    }
  }

  async function request(bot: Bot, jobTitle: string): Promise<number> {
    const base = `http://127.0.0.1:${bot.port}`;
    const seen = slack.calls.length;
    const after = (c: SlackCall) => slack.calls.indexOf(c) >= seen;
    await sendSlashCommand(base, SECRETS.signingSecret, {
      user_id: PEOPLE.bob.slackId,
      text: "",
      trigger_id: slack.issueTrigger(PEOPLE.bob.slackId),
      response_url: slack.responseUrl(),
    });
    const update = await slack.waitFor(
      "views.update",
      (c) => after(c) && (c.args.view as { callback_id?: string }).callback_id === ids.requestModal.callbackId,
      8000,
    );
    const view = update.args.view as { private_metadata: string };
    const answer = await sendInteraction(
      base,
      SECRETS.signingSecret,
      viewSubmissionPayload({
        user: PEOPLE.bob.slackId,
        view: {
          callback_id: ids.requestModal.callbackId,
          private_metadata: view.private_metadata,
          state: {
            values: {
              "field:jobTitle": { value: { type: "plain_text_input", value: jobTitle } },
              reason: { value: { type: "plain_text_input", value: "crash test" } },
            },
          },
        },
      }),
    );
    assert.equal((answer.json as { response_action?: string }).response_action, "update", answer.body);
    const id = db((d) => (d.prepare("select max(id) as id from requests").get() as { id: number }).id);
    await waitUntil(
      () =>
        db((d) =>
          Boolean(
            (d.prepare("select approval_ts from requests where id = ?").get(id) as { approval_ts: string | null })
              .approval_ts,
          ),
        ),
      5000,
      "approval post",
    );
    return id;
  }

  async function approve(bot: Bot, id: number): Promise<void> {
    const ts = db(
      (d) =>
        (d.prepare("select approval_ts from requests where id = ?").get(id) as { approval_ts: string }).approval_ts,
    );
    await sendInteraction(
      `http://127.0.0.1:${bot.port}`,
      SECRETS.signingSecret,
      blockActionsPayload({
        user: PEOPLE.approver.slackId,
        action_id: ids.actions.approve,
        value: String(id),
        channel: APPROVAL_CHANNEL,
        message_ts: ts,
        trigger_id: slack.issueTrigger(PEOPLE.approver.slackId),
      }),
    );
  }

  const stateOf = (id: number) =>
    db((d) => (d.prepare("select state from requests where id = ?").get(id) as { state: string }).state);
  const dmTexts = () =>
    slack.calls
      .filter((c) => c.method === "chat.postMessage" && c.args.channel === PEOPLE.bob.slackId && c.response.ok)
      .map((c) => String(c.args.text).replace(/#\d+/, "#N"));

  afterEach(async () => {
    for (const b of bots) b.child.kill("SIGKILL");
    await Promise.all(bots.map((b) => b.exit));
    bots = [];
    await slack?.close();
    await jc?.close();
  });

  it("killed right after the approval (before the batch window closed): the change is applied once after restart, DMs once", async () => {
    await setup({}, { BATCH_WINDOW_MS: "3000" });
    const bot = await boot();
    const id = await request(bot, "Crash after approval");
    await approve(bot, id);
    await waitUntil(
      () => stateOf(id) === "queued",
      3000,
      "queued",
      async () => `${stateOf(id)}\n${bot.output().slice(-3000)}`,
    );
    // Kill once Slack has been told everything so far (a DM on the wire at kill time is sent again:
    // chat.postMessage has no idempotency key; that window is not what this test is about).
    await waitUntil(
      () =>
        db(
          (d) => (d.prepare("select count(*) as n from outbox where state = 'pending'").get() as { n: number }).n === 0,
        ),
      3000,
      "outbox drained",
    );
    await kill9(bot);
    assert.equal(jc.bulkCalls.length, 0);
    await boot();
    await waitUntil(() => stateOf(id) === "applied", 15_000, "applied after restart");
    await waitUntil(() => dmTexts().length >= 3, 5000, "3 DMs");
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(jc.bulkCalls.length, 1);
    assert.equal(jc.users.get(PEOPLE.bob.jcId)?.jobTitle, "Crash after approval");
    assert.deepEqual(dmTexts(), [
      "Your JumpCloud update request #N was sent for approval",
      "Your JumpCloud update request #N was approved",
      "Your JumpCloud update request #N was applied",
    ]);
  });

  it("killed after the PATCH left but before its job id was stored: sent again once (the documented window), applied, DMs once", async () => {
    await setup();
    const bot = await boot();
    const id = await request(bot, "Crash mid-PATCH");
    // JumpCloud answers slowly: the PATCH is on the wire when the process dies.
    jc.setLatency(1500, "bulk");
    await approve(bot, id);
    await waitUntil(() => jc.calls.some((c) => c.route === "bulk"), 5000, "the PATCH to arrive");
    assert.equal(
      db((d) => (d.prepare("select count(*) as n from items where state = 'sending'").get() as { n: number }).n),
      1,
    );
    await kill9(bot);
    jc.setLatency(0, "bulk");
    await boot();
    await waitUntil(() => stateOf(id) === "applied", 15_000, "applied after restart");
    await waitUntil(() => dmTexts().length >= 3, 5000, "3 DMs");
    await new Promise((r) => setTimeout(r, 500));
    const patches = jc.calls.filter((c) => c.route === "bulk");
    assert.equal(patches.length, 2, "one resend: the job id of the first was never stored");
    assert.deepEqual(
      patches[1]?.body,
      patches[0]?.body,
      "the resend carries the same values (harmless if the first was applied)",
    );
    assert.equal(jc.users.get(PEOPLE.bob.jcId)?.jobTitle, "Crash mid-PATCH");
    assert.equal(dmTexts().filter((t) => /applied/.test(t)).length, 1);
  });

  it("killed while the job is running (job id stored): polled again after restart, never sent twice", async () => {
    await setup({ jobDelayMs: 2500 });
    const bot = await boot();
    const id = await request(bot, "Crash while polling");
    await approve(bot, id);
    await waitUntil(() => stateOf(id) === "submitted", 5000, "submitted");
    await kill9(bot);
    await boot();
    await waitUntil(() => stateOf(id) === "applied", 15_000, "applied after restart");
    await waitUntil(() => dmTexts().length >= 3, 5000, "3 DMs");
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(jc.bulkCalls.length, 1, "the stored job is polled, not resent");
    assert.equal(dmTexts().filter((t) => /applied/.test(t)).length, 1);
    const approvalPosts = slack.calls.filter(
      (c) => c.method === "chat.postMessage" && c.args.channel === APPROVAL_CHANNEL && c.response.ok,
    );
    assert.equal(approvalPosts.length, 1);
  });

  it("killed while Slack was failing: undelivered DMs and updates are sent after restart, each once", async () => {
    await setup();
    const bot = await boot();
    const id = await request(bot, "Crash with Slack down");
    slack.failNext("chat.postMessage", { status: 503, count: 1000 });
    slack.failNext("chat.update", { status: 503, count: 1000 });
    await approve(bot, id);
    await waitUntil(() => stateOf(id) === "applied", 8000, "applied");
    await new Promise((r) => setTimeout(r, 300));
    await kill9(bot);
    await boot();
    // Slack recovers: use up the injected failures so the restarted bot's next tries succeed.
    for (let i = 0; i < 1000; i++) {
      for (const method of ["chat.postMessage", "chat.update"]) {
        await fetch(`${slack.url}${method}`, {
          method: "POST",
          headers: { authorization: "Bearer x", "content-type": "application/json" },
          body: "{}",
        });
      }
    }
    await waitUntil(
      () => dmTexts().length >= 3,
      45_000,
      "DMs after restart",
      async () => JSON.stringify(dmTexts()),
    );
    await new Promise((r) => setTimeout(r, 1000));
    const msg = slack.messages.get(
      `${APPROVAL_CHANNEL}:${db((d) => (d.prepare("select approval_ts from requests where id = ?").get(id) as { approval_ts: string }).approval_ts)}`,
    );
    assert.match(JSON.stringify(msg?.blocks), /Applied in JumpCloud/);
    assert.deepEqual(dmTexts(), [
      "Your JumpCloud update request #N was sent for approval",
      "Your JumpCloud update request #N was approved",
      "Your JumpCloud update request #N was applied",
    ]);
  });

  /** `/jc-update bulk` as the admin, then submits `csv`; returns the modal's view id. */
  async function submitBulk(bot: Bot, csv: string): Promise<string> {
    const base = `http://127.0.0.1:${bot.port}`;
    const seen = slack.calls.length;
    await sendSlashCommand(base, SECRETS.signingSecret, {
      user_id: PEOPLE.admin.slackId,
      text: "bulk",
      trigger_id: slack.issueTrigger(PEOPLE.admin.slackId),
      response_url: slack.responseUrl(),
    });
    const opened = await slack.waitFor("views.open", (c) => slack.calls.indexOf(c) >= seen, 8000);
    const view = opened.args.view as { private_metadata: string; callback_id: string };
    const viewId = (opened.response.view as { id: string }).id;
    const answer = await sendInteraction(
      base,
      SECRETS.signingSecret,
      viewSubmissionPayload({
        user: PEOPLE.admin.slackId,
        view: {
          id: viewId,
          callback_id: view.callback_id,
          private_metadata: view.private_metadata,
          state: { values: bulkFormValues({ csv, reason: "crash test" }) },
        },
      }),
    );
    assert.equal((answer.json as { response_action?: string }).response_action, "update", answer.body);
    return viewId;
  }

  it("killed while a bulk CSV was being checked: nothing stored, and the admin is told after restart", async () => {
    await setup();
    const bot = await boot();
    jc.setLatency(60_000, "lookup"); // the check hangs in JumpCloud
    const viewId = await submitBulk(bot, `email,department\n${PEOPLE.alice.email},Crashed\n`);
    await waitUntil(
      () => db((d) => (d.prepare("select count(*) as n from bulk_checks").get() as { n: number }).n === 1),
      5000,
      "the check recorded",
    );
    await kill9(bot);
    jc.setLatency(0);
    await boot();
    const dm = await slack.waitFor(
      "chat.postMessage",
      (c) => c.args.channel === PEOPLE.admin.slackId && /interrupted/.test(String(c.args.text)),
      10_000,
    );
    assert.match(String(dm.args.text), /Nothing was stored\. Run `\/jc-update bulk` and send it again\./);
    const modal = slack.calls.find((c) => c.method === "views.update" && c.args.view_id === viewId);
    assert.match(JSON.stringify(modal?.args.view), /interrupted/);
    assert.equal(
      db((d) => (d.prepare("select count(*) as n from requests").get() as { n: number }).n),
      0,
    );
    await waitUntil(
      () => db((d) => (d.prepare("select count(*) as n from bulk_checks").get() as { n: number }).n === 0),
      5000,
      "the check closed",
    );
    assert.equal(jc.bulkCalls.length, 0);
  });

  it("killed after a bulk approval: every row is applied once after restart", async () => {
    // The batch window keeps the rows queued until well after the kill (a full batch would go out
    // at once, and a PATCH on the wire at kill time is the documented resend window).
    await setup({}, { BATCH_WINDOW_MS: "6000" });
    const bot = await boot();
    const people = [PEOPLE.alice, PEOPLE.bob, PEOPLE.approver2];
    await submitBulk(bot, ["email,department", ...people.map((p) => `${p.email},Crash Bulk`)].join("\n"));
    await waitUntil(
      () =>
        db((d) =>
          Boolean(
            (
              d.prepare("select approval_ts from requests where id = 1").get() as
                | { approval_ts: string | null }
                | undefined
            )?.approval_ts,
          ),
        ),
      10_000,
      "bulk approval post",
    );
    await approve(bot, 1);
    await waitUntil(() => stateOf(1) === "queued", 5000, "queued");
    await kill9(bot);
    await boot();
    await waitUntil(
      () => stateOf(1) === "applied",
      20_000,
      "applied after restart",
      async () => stateOf(1),
    );
    for (const p of people) assert.equal(jc.users.get(p.jcId)?.department, "Crash Bulk");
    const sent = jc.bulkCalls.flatMap((c) => c.body.map((u) => u.id));
    assert.deepEqual([...sent].sort(), people.map((p) => p.jcId).sort(), "each user sent exactly once");
  });
});
