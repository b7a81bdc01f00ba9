import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parse } from "csv-parse/sync";
import { messageProblems } from "../support/block-limits.js";
import { PEOPLE, startTestEnv, type TestEnv, textOf, waitUntil } from "../support/start-test-env.js";

const run = promisify(execFile);
const rowsOf = (csv: string) => parse(csv, { bom: true }) as string[][];
const HOSTILE = "<!channel> <https://evil.example|click here> *bold* `code` &amp;";

/** Every message the bot sent or updated in Slack, as text people could read. */
function botTexts(env: TestEnv): string[] {
  return env.slack.calls
    .filter((c) => c.method === "chat.postMessage" || c.method === "chat.update" || c.method === "chat.postEphemeral")
    .map((c) => `${String(c.args.text ?? "")}\n${textOf(c.args.blocks)}`);
}

describe("attack: bulk dispatch and lifecycle", () => {
  let env: TestEnv;
  let databaseUrl: string;
  before(async () => {
    databaseUrl = `sqlite:${join(mkdtempSync(join(tmpdir(), "jc-bulk-dispatch-")), "bot.db")}`;
    env = await startTestEnv({ env: { DATABASE_URL: databaseUrl } });
  });
  after(async () => env.close());
  beforeEach(() => env.jc.reset());

  it("a user deleted from JumpCloud between request and approval fails alone, named in the failed-rows CSV", async () => {
    const outcome = await env.bulk("admin", {
      csv: `email,department\n${PEOPLE.bob.email},Gone\n${PEOPLE.alice.email},Gone\n`,
    });
    assert.ok(outcome.ok, outcome.ok ? "" : outcome.problems);
    const id = outcome.requestId;
    await env.approvalMessage(id);
    env.jc.users.delete(PEOPLE.bob.jcId);
    await env.click("approver", "approve", id);
    await env.waitForState(id, "partially_applied");
    assert.equal(env.jc.users.get(PEOPLE.alice.jcId)?.department, "Gone");
    await waitUntil(
      () => env.slack.uploads.some((u) => u.filename === `jc-update-${id}-failed.csv`),
      5000,
      "failed CSV",
    );
    const failed = rowsOf(env.slack.uploads.find((u) => u.filename === `jc-update-${id}-failed.csv`)?.content ?? "");
    assert.deepEqual(failed.slice(1), [[PEOPLE.bob.email, "Gone", "2", "This user no longer exists in JumpCloud."]]);
  });

  it("two bulk requests over the same users apply in approval order; the last approved value stays", async () => {
    const first = await env.bulk("admin", {
      csv: `email,department\n${PEOPLE.alice.email},First\n${PEOPLE.bob.email},First\n`,
    });
    const second = await env.bulk("admin", {
      csv: `email,department\n${PEOPLE.bob.email},Second\n${PEOPLE.alice.email},Second\n`,
    });
    assert.ok(first.ok && second.ok);
    await env.approvalMessage(first.requestId);
    await env.approvalMessage(second.requestId);
    await env.click("approver", "approve", second.requestId);
    await env.waitForState(second.requestId, "applied");
    await env.click("approver", "approve", first.requestId);
    await env.waitForState(first.requestId, "applied");
    assert.equal(env.jc.users.get(PEOPLE.alice.jcId)?.department, "First");
    assert.equal(env.jc.users.get(PEOPLE.bob.jcId)?.department, "First");
  });

  it("the audit export of a bulk request says which users were changed, from what to what", async () => {
    const outcome = await env.bulk("admin", {
      csv: `email,jobTitle\n${PEOPLE.bob.email},Audited Title\n`,
    });
    assert.ok(outcome.ok, outcome.ok ? "" : outcome.problems);
    await env.click("approver", "approve", outcome.requestId);
    await env.waitForState(outcome.requestId, "applied");
    const cli = fileURLToPath(new URL("../../src/audit-cli.ts", import.meta.url));
    const { stdout } = await run(process.execPath, ["--import", "tsx", cli, "--since", "2000-01-01"], {
      cwd: fileURLToPath(new URL("../..", import.meta.url)),
      env: { PATH: process.env.PATH ?? "", DATABASE_URL: databaseUrl, DOTENV_CONFIG_PATH: "/nonexistent" },
    });
    const rows = (parse(stdout, { bom: true, columns: true }) as Record<string, string>[]).filter(
      (r) => r.request_id === String(outcome.requestId),
    );
    assert.ok(rows.some((r) => r.event === "applied"));
    // The transition export summarises the request and points to the per-user export…
    assert.match(
      rows[0]?.changes ?? "",
      /^bulk CSV \(pasted CSV\): 1 user; fields Job title \(per user: --per-user\)$/,
    );
    // …which names every user changed, from what to what, who approved it and what became of it.
    const perUser = await run(process.execPath, ["--import", "tsx", cli, "--since", "2000-01-01", "--per-user"], {
      cwd: fileURLToPath(new URL("../..", import.meta.url)),
      env: { PATH: process.env.PATH ?? "", DATABASE_URL: databaseUrl, DOTENV_CONFIG_PATH: "/nonexistent" },
    });
    const changes = (parse(perUser.stdout, { bom: true, columns: true }) as Record<string, string>[]).filter(
      (r) => r.request_id === String(outcome.requestId),
    );
    assert.deepEqual(
      changes.map((r) => [r.kind, r.row, r.user_id, r.user, r.field, r.before, r.after, r.state, r.approved_by]),
      [
        [
          "bulk",
          "2",
          PEOPLE.bob.jcId,
          PEOPLE.bob.email,
          "jobTitle",
          "Builder",
          "Audited Title",
          "applied",
          PEOPLE.approver.slackId,
        ],
      ],
    );
  });

  it("status <id> of a bulk request fits Slack and names it as bulk", async () => {
    const outcome = await env.bulk("admin", {
      csv: `email,department\n${PEOPLE.bob.email},Status\n`,
      file: undefined,
    });
    assert.ok(outcome.ok);
    const answer = await env.command("admin", `status ${outcome.requestId}`);
    const json = answer.json as { text: string; blocks: unknown[] };
    assert.deepEqual(messageProblems(json), []);
    assert.match(
      textOf(json.blocks),
      new RegExp(`#${outcome.requestId}\\* · bulk \\(pasted CSV\\) · Waiting for approval · .* · 1 user`),
    );
  });
});

describe("attack: bulk expiry and reminder", () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv({ env: { REMINDER_AFTER_MINUTES: "0.01", REQUEST_TTL_HOURS: "0.0005" } });
  });
  after(async () => env.close());

  it("a bulk request nobody decides gets one reminder in its thread, then expires: buttons gone, admin told", async () => {
    const outcome = await env.bulk("admin", { csv: `email,department\n${PEOPLE.bob.email},Late\n` });
    assert.ok(outcome.ok, outcome.ok ? "" : outcome.problems);
    const id = outcome.requestId;
    const posted = await env.approvalMessage(id);
    await env.waitForState(id, "expired", 8000);
    await waitUntil(
      () => /Expired/i.test(textOf(env.slack.messages.get(`${posted.channel}:${posted.ts}`)?.blocks)),
      5000,
      "expired message",
    );
    const message = env.slack.messages.get(`${posted.channel}:${posted.ts}`);
    assert.ok(!(message?.blocks as { type: string }[]).some((b) => b.type === "actions"));
    const reminders = env.slack.calls.filter(
      (c) => c.method === "chat.postMessage" && c.args.thread_ts === posted.ts && /Reminder/.test(String(c.args.text)),
    );
    assert.equal(reminders.length, 1);
    await waitUntil(
      () =>
        env.slack.calls.some(
          (c) =>
            c.method === "chat.postMessage" &&
            c.args.channel === PEOPLE.admin.slackId &&
            /expired/i.test(String(c.args.text)),
        ),
      5000,
      "expiry DM",
    );
    await env.click("approver", "approve", id);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await env.app.store.getRequest(id))?.state, "expired");
    assert.equal(env.jc.bulkCalls.length, 0);
  });
});

describe("attack: a 50-call bulk run through 503s and a 429", () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv({
      env: {
        BATCH_MAX_SIZE: "10",
        JUMPCLOUD_REQUESTS_PER_SECOND: "200",
        RETRY_MAX_ATTEMPTS: "2",
        RETRY_BASE_DELAY_MS: "10",
      },
    });
  });
  after(async () => env.close());

  it("every user is applied exactly once and the message ends with the final counts", async () => {
    const lines = ["email,department"];
    for (let i = 0; i < 500; i += 1) {
      const email = `runner${i}@example.com`;
      env.jc.addUser({ _id: `66c${i.toString(16).padStart(21, "0")}`, email, username: `runner${i}` });
      lines.push(`${email},Run`);
    }
    const outcome = await env.bulk("admin", { csv: lines.join("\n") });
    assert.ok(outcome.ok, outcome.ok ? "" : outcome.problems);
    const id = outcome.requestId;
    const posted = await env.approvalMessage(id);
    env.jc.inject({ route: "bulk", status: 503, count: 7 });
    env.jc.inject({ route: "bulk", status: 429, count: 1, retryAfter: 1 });
    await env.click("approver", "approve", id);
    await env.waitForState(id, "applied", 30_000);
    const sent = new Map<string, number>();
    for (const call of env.jc.bulkCalls) {
      for (const u of call.body) sent.set(String(u.id), (sent.get(String(u.id)) ?? 0) + 1);
    }
    assert.equal(sent.size, 500);
    assert.deepEqual(
      [...sent.values()].filter((n) => n !== 1),
      [],
      "a user was sent twice",
    );
    assert.deepEqual(env.jc.schemaViolations, []);
    // Every job the request rode in is in its audit trail, with how many of its users it took.
    const submits = (await env.app.store.listAudit(id)).filter((a) => a.event === "submitted_to_jumpcloud");
    assert.deepEqual(
      submits.map((a) => a.detail).sort(),
      [...env.jc.jobs.keys()].map((job) => `job ${job} (10 users)`).sort(),
    );
    assert.equal(submits.length, 50);
    await waitUntil(
      () =>
        /Applied in JumpCloud: all 500 users/.test(
          textOf(env.slack.messages.get(`${posted.channel}:${posted.ts}`)?.blocks),
        ),
      5000,
      "final message",
    );
    const final = env.slack.messages.get(`${posted.channel}:${posted.ts}`);
    assert.doesNotMatch(
      textOf(final?.blocks),
      /Waiting for JumpCloud/,
      "a stale 'waiting' note stays on a finished request",
    );
    const updates = env.slack.calls.filter((c) => c.method === "chat.update" && c.args.ts === posted.ts);
    assert.ok(updates.every((c) => c.response.ok === true));
  });
});

describe("attack: thousands of hostile failures", () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv();
  });
  after(async () => env.close());

  it("1,500 failed rows with mrkdwn in JumpCloud's message: every message fits Slack, nothing pings or links", async () => {
    const lines = ["username,department"];
    for (let i = 0; i < 1500; i += 1) {
      const id = `67d${i.toString(16).padStart(21, "0")}`;
      const username = `h${i}${"x".repeat(24)}`.slice(0, 30);
      env.jc.addUser({ _id: id, email: `${"l".repeat(60)}${i}@example.com`, username });
      env.jc.failUser(id, `${HOSTILE} ${"y".repeat(3000)}`);
      lines.push(`${username},${HOSTILE}`);
    }
    const outcome = await env.bulk("admin", { csv: lines.join("\n") });
    assert.ok(outcome.ok, outcome.ok ? "" : outcome.problems);
    const id = outcome.requestId;
    const posted = await env.approvalMessage(id);
    await waitUntil(
      () => env.slack.uploads.some((u) => u.filename === `jc-update-${id}-diff.csv`),
      10_000,
      "diff upload",
    );
    // The failed-rows file is refused: the thread gets text instead.
    env.slack.failNext("files.getUploadURLExternal", { error: "missing_scope", count: 1 });
    await env.click("approver", "approve", id);
    await env.waitForState(id, "failed", 30_000);
    await waitUntil(
      () =>
        env.slack.calls.some(
          (c) =>
            c.method === "chat.postMessage" &&
            c.args.thread_ts === posted.ts &&
            /Not applied/.test(String(c.args.text)),
        ),
      10_000,
      "text fallback of the failed rows",
    );
    await waitUntil(
      () =>
        env.slack.calls.some(
          (c) =>
            c.method === "chat.postMessage" &&
            c.args.channel === PEOPLE.admin.slackId &&
            /failed/.test(String(c.args.text)),
        ),
      10_000,
      "outcome DM",
    );
    await waitUntil(
      () => /Not applied in JumpCloud/.test(textOf(env.slack.messages.get(`${posted.channel}:${posted.ts}`)?.blocks)),
      5000,
      "final message",
    );
    const bad = env.slack.calls.filter(
      (c) => (c.method === "chat.postMessage" || c.method === "chat.update") && c.response.ok !== true,
    );
    assert.deepEqual(
      bad.map((c) => [c.method, c.response.error]),
      [],
    );
    for (const text of botTexts(env)) {
      assert.doesNotMatch(text, /<!channel>/);
      assert.doesNotMatch(text, /<https:\/\/evil/);
      assert.ok(text.length < 40_000);
    }
    const final = env.slack.messages.get(`${posted.channel}:${posted.ts}`);
    assert.deepEqual(messageProblems({ text: final?.text ?? "", blocks: final?.blocks ?? [] }), []);
    assert.match(textOf(final?.blocks), /1,500 users failed/);
  });
});
