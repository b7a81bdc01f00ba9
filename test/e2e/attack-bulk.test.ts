import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { parse } from "csv-parse/sync";
import { ids } from "../../src/slack/ids.js";
import { blockActionsPayload, sendInteraction, viewSubmissionPayload } from "../support/slack-request.js";
import {
  APPROVAL_CHANNEL,
  PEOPLE,
  SECRETS,
  startTestEnv,
  type TestEnv,
  textOf,
  waitUntil,
} from "../support/start-test-env.js";

const rowsOf = (csv: string) => parse(csv, { bom: true }) as string[][];

describe("attack: bulk requests end to end", () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv();
  });
  after(async () => env.close());
  beforeEach(() => {
    env.jc.reset();
  });

  const dmsTo = (who: string) =>
    env.slack.calls.filter((c) => c.method === "chat.postMessage" && c.args.channel === who && c.response.ok);
  const requestsOf = async (who: string) => env.app.store.listRequestsByRequester(who, 100);

  it("formula-looking and mrkdwn-hostile values: stored as text, neutralised in the diff CSV, escaped in Slack", async () => {
    const csv = [
      "email,department,jobTitle",
      `${PEOPLE.alice.email},"=HYPERLINK(""http://evil.example"",""x"")","<!channel> <http://evil.example|Payroll>"`,
    ].join("\r\n");
    const outcome = await env.bulk("admin", { file: { name: "<!here>.csv", content: `\ufeff${csv}\r\n` } });
    assert.ok(outcome.ok, outcome.ok ? "" : outcome.problems);
    const id = outcome.requestId;
    const [row] = await env.app.store.listRequestRows(id);
    assert.deepEqual(
      row?.changes.map((c) => c.newValue),
      ['=HYPERLINK("http://evil.example","x")', "<!channel> <http://evil.example|Payroll>"],
    );
    const posted = await env.approvalMessage(id);
    const shown = `${posted.text}\n${textOf(posted.blocks)}`;
    assert.doesNotMatch(shown, /<!channel>|<!here>|<http:\/\/evil/);
    await env.slack.waitFor("files.completeUploadExternal", (c) => JSON.stringify(c.args).includes("diff"));
    const diff = env.slack.uploads.find((u) => u.filename === `jc-update-${id}-diff.csv`);
    for (const cell of rowsOf(diff?.content ?? "").flat()) assert.doesNotMatch(cell, /^[=+\-@]/, cell);
    assert.doesNotMatch(String(diff?.initial_comment), /<!here>|<!channel>/);
  });

  it("the 'Checking…' modal escapes the uploaded file's name (no disguised link in mrkdwn)", async () => {
    const form = await env.openBulk("admin");
    const answer = await env.submitBulk("admin", form, {
      file: { name: "<http://evil.example|payroll>.csv", content: "email,department\nalice@example.com,X\n" },
    });
    assert.equal(answer.json?.response_action, "update");
    assert.doesNotMatch(textOf((answer.json?.view as { blocks: unknown })?.blocks), /<http:\/\/evil/);
  });

  it("an id column with ids in upper case finds the users", async () => {
    const outcome = await env.bulk("admin", {
      csv: `id,department\n${PEOPLE.bob.jcId.toUpperCase()},Upper Case\n`,
    });
    assert.ok(outcome.ok, outcome.ok ? "" : outcome.problems);
  });

  it("partial failure: the failed-rows CSV from the thread can be submitted again as it is", async () => {
    const csv = [
      "email,department,phone.work",
      `${PEOPLE.alice.email},Ops,+1 555 0100`,
      `${PEOPLE.bob.email},Ops,`,
    ].join("\n");
    env.jc.failUser(PEOPLE.alice.jcId, "Phone rejected");
    const outcome = await env.bulk("admin", { csv });
    assert.ok(outcome.ok, outcome.ok ? "" : outcome.problems);
    const id = outcome.requestId;
    await env.click("approver", "approve", id);
    await env.waitForState(id, "partially_applied");
    await waitUntil(
      () => env.slack.uploads.some((u) => u.filename === `jc-update-${id}-failed.csv`),
      5000,
      "failed-rows CSV",
    );
    const failed = env.slack.uploads.find((u) => u.filename === `jc-update-${id}-failed.csv`)?.content ?? "";
    assert.equal(rowsOf(failed).length, 2, failed);
    env.jc.reset();
    const again = await env.bulk("admin", { file: { name: `jc-update-${id}-failed.csv`, content: failed } });
    assert.ok(again.ok, again.ok ? "" : again.problems);
    const [row] = await env.app.store.listRequestRows(again.requestId);
    assert.deepEqual(
      row?.changes.map((c) => [c.field, c.newValue]),
      [
        ["department", "Ops"],
        ["phone.work", "+1 555 0100"],
      ],
    );
  });

  it("modal closed while checking: the problems arrive by DM; a good CSV is stored and the receipt DMed", async () => {
    const before = dmsTo(PEOPLE.admin.slackId).length;
    env.slack.failNext("views.update", { error: "not_found" });
    const form = await env.openBulk("admin");
    const answer = await env.submitBulk("admin", form, { csv: "email,department\nnobody@example.com,X\n" });
    assert.equal(answer.json?.response_action, "update");
    // (Other DMs of earlier tests may still arrive: look for this one.)
    await waitUntil(
      () =>
        dmsTo(PEOPLE.admin.slackId)
          .slice(before)
          .some((c) => /was not sent/.test(String(c.args.text))),
      5000,
      "problems DM",
    );
    const dm = dmsTo(PEOPLE.admin.slackId)
      .slice(before)
      .find((c) => /was not sent/.test(String(c.args.text)));
    assert.match(String(dm?.args.text), /nobody@example\.com/);

    const stored = (await requestsOf(PEOPLE.admin.slackId)).length;
    env.slack.failNext("views.update", { error: "not_found" });
    const form2 = await env.openBulk("admin");
    await env.submitBulk("admin", form2, { csv: `email,department\n${PEOPLE.bob.email},Closed Modal\n` });
    await waitUntil(async () => (await requestsOf(PEOPLE.admin.slackId)).length > stored, 5000, "stored request");
    await waitUntil(
      () => dmsTo(PEOPLE.admin.slackId).some((c) => /was sent for approval/.test(String(c.args.text))),
      5000,
      "receipt DM",
    );
  });

  it("JumpCloud answering 503 to every lookup: the form says so, nothing is stored", async () => {
    const stored = (await requestsOf(PEOPLE.admin.slackId)).length;
    env.jc.inject({ route: "lookup", status: 503, count: 50 });
    const outcome = await env.bulk("admin", { csv: `email,department\n${PEOPLE.bob.email},Down\n` });
    assert.equal(outcome.ok, false);
    if (!outcome.ok) assert.match(outcome.problems, /JumpCloud/);
    assert.equal((await requestsOf(PEOPLE.admin.slackId)).length, stored);
  });

  it("the same modal submitted twice at once stores one request and posts one approval message", async () => {
    const stored = (await requestsOf(PEOPLE.admin.slackId)).length;
    const form = await env.openBulk("admin");
    const input = { csv: `email,department\n${PEOPLE.bob.email},Twice\n` };
    const answers = await Promise.all([env.submitBulk("admin", form, input), env.submitBulk("admin", form, input)]);
    for (const a of answers) assert.equal(a.status, 200);
    await waitUntil(async () => (await requestsOf(PEOPLE.admin.slackId)).length > stored, 5000, "stored");
    await new Promise((r) => setTimeout(r, 500));
    const now = await requestsOf(PEOPLE.admin.slackId);
    assert.equal(now.length, stored + 1);
    const id = now[0]?.id ?? 0;
    await env.approvalMessage(id);
    const posts = env.slack.calls.filter(
      (c) =>
        c.method === "chat.postMessage" &&
        c.args.channel === APPROVAL_CHANNEL &&
        !c.args.thread_ts &&
        String(c.args.text).includes(`#${id} `),
    );
    assert.equal(posts.length, 1);
  });

  it("a non-admin forging the bulk submission is refused before any lookup", async () => {
    const form = await env.openBulk("admin");
    // Calls of earlier tests (dispatch, polling) may still come in: count only this CSV's lookups.
    const lookupsOfThisCsv = () =>
      env.jc.calls.filter((c) => JSON.stringify([c.path, c.query, c.body]).includes("alice@example.com")).length;
    const lookups = lookupsOfThisCsv();
    const m = ids.bulkModal;
    const answer = await sendInteraction(
      env.baseUrl,
      SECRETS.signingSecret,
      viewSubmissionPayload({
        user: PEOPLE.bob.slackId,
        view: {
          id: form.viewId,
          callback_id: m.callbackId,
          private_metadata: form.view.private_metadata,
          state: {
            values: {
              [m.csvBlock]: {
                [m.csvAction]: { type: "plain_text_input", value: "email,department\nalice@example.com,X" },
              },
              [m.fileBlock]: { [m.fileAction]: { type: "file_input", files: [] } },
              [m.reasonBlock]: { [m.reasonAction]: { type: "plain_text_input", value: "forged" } },
            },
          },
        },
      }),
    );
    assert.equal((answer.json as { response_action?: string })?.response_action, "errors");
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(lookupsOfThisCsv(), lookups);
    assert.equal((await requestsOf(PEOPLE.bob.slackId)).filter((r) => r.kind === "bulk").length, 0);
  });

  it("Slack refuses the diff upload (missing scope): the approval thread still gets the diff or a notice", async () => {
    env.slack.failNext("files.getUploadURLExternal", { error: "missing_scope", count: 1 });
    const outcome = await env.bulk("admin", { csv: `email,department\n${PEOPLE.bob.email},No Upload\n` });
    assert.ok(outcome.ok, outcome.ok ? "" : outcome.problems);
    const posted = await env.approvalMessage(outcome.requestId);
    await waitUntil(
      () => env.slack.calls.some((c) => c.method === "files.getUploadURLExternal"),
      5000,
      "upload attempt",
    );
    await new Promise((r) => setTimeout(r, 1500));
    const threadReplies = env.slack.calls.filter(
      (c) => c.method === "chat.postMessage" && c.args.thread_ts === posted.ts && c.response.ok,
    );
    const message = await env.approvalMessage(outcome.requestId);
    const claimsFile = /full before → after diff is a CSV file in this message's thread/.test(textOf(message.blocks));
    assert.ok(
      threadReplies.length > 0 || !claimsFile,
      "no diff reached the thread, yet the approval message says the diff is a CSV file in its thread",
    );
  });

  it("deny a bulk request: nothing reaches JumpCloud, the message loses its buttons, the requester is told", async () => {
    const outcome = await env.bulk("admin", { csv: `email,department\n${PEOPLE.bob.email},Denied\n` });
    assert.ok(outcome.ok);
    const id = outcome.requestId;
    await env.approvalMessage(id);
    await env.click("approver", "deny", id);
    await env.submitDeny("approver", id, "not now <!channel>");
    await env.waitForState(id, "denied");
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(env.jc.bulkCalls.length, 0);
    assert.deepEqual(await env.app.store.listItems(id), []);
    const message = await env.approvalMessage(id);
    assert.ok(!(message.blocks as { type: string }[]).some((b) => b.type === "actions"));
    assert.doesNotMatch(textOf(message.blocks), /<!channel>/);
    await waitUntil(
      () => dmsTo(PEOPLE.admin.slackId).some((c) => String(c.args.text).includes(`#${id} was denied`)),
      5000,
      "deny DM",
    );
  });

  it("withdraw a bulk request from the receipt DM: cancelled, message updated, approve afterwards changes nothing", async () => {
    const outcome = await env.bulk("admin", { csv: `email,department\n${PEOPLE.bob.email},Withdrawn\n` });
    assert.ok(outcome.ok);
    const id = outcome.requestId;
    await env.approvalMessage(id);
    await sendInteraction(
      env.baseUrl,
      SECRETS.signingSecret,
      blockActionsPayload({
        user: PEOPLE.admin.slackId,
        action_id: ids.actions.cancel,
        value: String(id),
        channel: `D${PEOPLE.admin.slackId}`,
      }),
    );
    await env.waitForState(id, "cancelled");
    await env.click("approver", "approve", id);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await env.app.store.getRequest(id))?.state, "cancelled");
    assert.equal(env.jc.bulkCalls.length, 0);
    await waitUntil(
      async () => /Withdrawn/.test(textOf((await env.approvalMessage(id)).blocks)),
      5000,
      "withdrawn message",
    );
  });

  it("progress while applying: the approval message shows calls sent and users applied/failed/waiting", async () => {
    env.jc.setJobDelay(400);
    env.jc.failUser(PEOPLE.bob.jcId, "nope");
    const outcome = await env.bulk("admin", {
      csv: `email,department\n${PEOPLE.bob.email},Progress\n${PEOPLE.alice.email},Progress\n`,
    });
    assert.ok(outcome.ok);
    const id = outcome.requestId;
    const posted = await env.approvalMessage(id);
    await env.click("approver", "approve", id);
    await waitUntil(
      () => /Calls sent: 1 of 1/.test(textOf(env.slack.messages.get(`${posted.channel}:${posted.ts}`)?.blocks)),
      5000,
      "progress shown",
    );
    await env.waitForState(id, "partially_applied");
    await waitUntil(
      () =>
        /Partially applied in JumpCloud: 1 user applied, 1 user failed/.test(
          textOf(env.slack.messages.get(`${posted.channel}:${posted.ts}`)?.blocks),
        ),
      5000,
      "final counts",
    );
    await waitUntil(
      () => env.slack.uploads.some((u) => u.filename === `jc-update-${id}-failed.csv`),
      5000,
      "failed CSV",
    );
    const failed = rowsOf(env.slack.uploads.find((u) => u.filename === `jc-update-${id}-failed.csv`)?.content ?? "");
    assert.deepEqual(failed, [
      ["email", "department", "source_row", "jumpcloud_message"],
      [PEOPLE.bob.email, "Progress", "2", "nope"],
    ]);
  });

  it("a bulk request and a single request for the same user both apply, never in one call together", async () => {
    const single = await env.request("bob", { "Job title": "Head Builder" });
    const outcome = await env.bulk("admin", {
      csv: `email,department\n${PEOPLE.bob.email},Construction\n${PEOPLE.alice.email},Construction\n`,
    });
    assert.ok(outcome.ok, outcome.ok ? "" : outcome.problems);
    await Promise.all([env.click("approver", "approve", single), env.click("approver2", "approve", outcome.requestId)]);
    await env.waitForState(single, "applied");
    await env.waitForState(outcome.requestId, "applied");
    const bob = env.jc.users.get(PEOPLE.bob.jcId);
    assert.equal(bob?.jobTitle, "Head Builder");
    assert.equal(bob?.department, "Construction");
    for (const call of env.jc.bulkCalls) {
      const idsInCall = call.body.map((u) => u.id);
      assert.equal(new Set(idsInCall).size, idsInCall.length, "one user twice in a call");
    }
    assert.deepEqual(env.jc.schemaViolations, []);
  });

  it("a file that is not UTF-8, or Slack's HTML login page: clear problems under the file input", async () => {
    const latin1 = Buffer.from("email,department\nalice@example.com,M\xfcller\n", "latin1");
    const bad = await env.bulk("admin", { file: { name: "export.csv", content: latin1 } });
    assert.equal(bad.ok, false);
    if (!bad.ok) assert.match(bad.problems, /UTF-8/);
    env.slack.filesScope = false;
    try {
      const html = await env.bulk("admin", { file: { name: "export.csv", content: "email,department\n" } });
      assert.equal(html.ok, false);
      if (!html.ok) assert.match(html.problems, /files:read/);
    } finally {
      env.slack.filesScope = true;
    }
  });

  it("a CSV whose new email belongs to someone else is refused, naming the row", async () => {
    const outcome = await env.bulk("admin", { csv: `username,email\nbob,${PEOPLE.alice.email.toUpperCase()}\n` });
    assert.equal(outcome.ok, false);
    if (!outcome.ok) assert.match(outcome.problems, /Row 2, column &quot;email&quot;|Row 2, column "email"/);
  });
});

describe("attack: a 5,000-row uploaded CSV", () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv({ jc: { rateLimitPerSecond: 5 } });
  });
  after(async () => env.close());

  it("answers at once, resolves with few calls inside the rate limit, and the approval message fits Slack", async () => {
    const lines = ["email,department,attributes.costCode"];
    for (let i = 0; i < 5000; i += 1) {
      const id = `65b${i.toString(16).padStart(21, "0")}`;
      const email = `user${i}@example.com`;
      env.jc.addUser({ _id: id, email, username: `user${i}`, firstname: "U", lastname: String(i) });
      lines.push(`${email},<!channel> ${"x".repeat(200)},=cmd|' /C calc'!A${i}`);
    }
    const form = await env.openBulk("admin");
    const started = Date.now();
    const seen = env.slack.calls.length;
    const answer = await env.submitBulk("admin", form, { file: { name: "all.csv", content: lines.join("\r\n") } });
    assert.ok(Date.now() - started < 2500, "answered within Slack's 3 s");
    assert.equal(answer.json?.response_action, "update");
    const update = await env.slack.waitFor(
      "views.update",
      (c) =>
        env.slack.calls.indexOf(c) >= seen &&
        c.args.view_id === form.viewId &&
        (c.args.view as { callback_id?: string }).callback_id !== ids.checkingModal.callbackId,
      45_000,
    );
    assert.equal(update.response.ok, true, JSON.stringify(update.response));
    const request = (await env.app.store.listRequestsByRequester(PEOPLE.admin.slackId, 1))[0];
    assert.ok(request, textOf((update.args.view as { blocks: unknown }).blocks));
    assert.equal(request.bulk?.users, 5000);
    const lookups = env.jc.calls.filter((c) => c.route === "lookup");
    assert.ok(lookups.length <= 60, `${lookups.length} lookups`);
    assert.ok(
      lookups.every((c) => c.status !== 429),
      "a lookup walked into JumpCloud's rate limit",
    );
    const posted = await env.approvalMessage(request.id);
    assert.ok(posted.blocks.length <= 50);
    assert.doesNotMatch(textOf(posted.blocks), /<!channel>/);
    await waitUntil(
      () => env.slack.uploads.some((u) => u.filename === `jc-update-${request.id}-diff.csv`),
      10_000,
      "diff upload",
    );
    const diff = env.slack.uploads.find((u) => u.filename === `jc-update-${request.id}-diff.csv`);
    const rows = rowsOf(diff?.content ?? "");
    assert.equal(rows.length, 1 + 5000 * 2);
    for (const cell of rows.flat()) assert.doesNotMatch(cell, /^[=+\-@]/);
  });
});
