import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { parse } from "csv-parse/sync";
import { ids } from "../../src/slack/ids.js";
import { APPROVAL_CHANNEL, PEOPLE, startTestEnv, type TestEnv, textOf, waitUntil } from "../support/start-test-env.js";

/** Rows of a CSV the bot wrote (BOM and CRLF as spreadsheets like them). */
function rowsOf(csv: string): string[][] {
  assert.ok(csv.startsWith("\ufeff"), "CSV files start with a BOM so spreadsheets read UTF-8");
  return parse(csv, { bom: true }) as string[][];
}

describe("bulk requests from a CSV, end to end", () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv();
  });
  after(async () => env.close());
  beforeEach(() => {
    env.jc.reset();
  });
  /** A file the bot uploaded to Slack, once it is there. */
  const uploaded = async (filename: string) => {
    await waitUntil(() => env.slack.uploads.some((u) => u.filename === filename), 5000, `upload of ${filename}`);
    return env.slack.uploads.find((u) => u.filename === filename);
  };

  it("pasted CSV: checked, stored, approved once, applied per user, reported in the thread and by DM", async () => {
    const { slack, jc, app } = env;
    const csv = [
      "email,department,jobTitle",
      `${PEOPLE.alice.email},Data Platform,`,
      `${PEOPLE.bob.email},Data Platform,"Builder, senior"`,
      `${PEOPLE.approver.email},,`,
    ].join("\r\n");
    const outcome = await env.bulk("admin", { csv, reason: "Department renamed" });
    assert.ok(outcome.ok, outcome.ok ? "" : outcome.problems);
    const id = outcome.requestId;

    const request = await app.store.getRequest(id);
    assert.equal(request?.kind, "bulk");
    assert.equal(request?.state, "pending");
    assert.deepEqual(request?.bulk, {
      users: 2,
      fields: ["department", "jobTitle"],
      skippedRows: 1,
      identity: "email",
      source: "pasted CSV",
    });
    assert.deepEqual(await app.store.listRequestRows(id), [
      {
        row: 2,
        userId: PEOPLE.alice.jcId,
        label: PEOPLE.alice.email,
        changes: [{ field: "department", oldValue: "R&D", newValue: "Data Platform" }],
      },
      {
        row: 3,
        userId: PEOPLE.bob.jcId,
        label: PEOPLE.bob.email,
        changes: [
          { field: "department", oldValue: "", newValue: "Data Platform" },
          { field: "jobTitle", oldValue: "Builder", newValue: "Builder, senior" },
        ],
      },
    ]);

    // The approval message: summary, first rows, buttons; the full diff as a file in its thread.
    const posted = await env.approvalMessage(id);
    assert.equal(posted.channel, APPROVAL_CHANNEL);
    const shown = textOf(posted.blocks);
    assert.match(shown, /JumpCloud bulk request #\d+/);
    assert.match(shown, /\*2 users\* · fields: Department, Job title · 1 row skipped/);
    assert.match(shown, /alice@example\.com\* \(row 2\): \*Department\*: R&amp;D → Data Platform/);
    assert.match(shown, /Department renamed/);
    const buttons = (posted.blocks as { type: string; elements?: { action_id: string }[] }[])
      .find((b) => b.type === "actions")
      ?.elements?.map((e) => e.action_id);
    assert.deepEqual(buttons, [ids.actions.approve, ids.actions.deny]);
    const diff = await uploaded(`jc-update-${id}-diff.csv`);
    assert.equal(diff?.thread_ts, posted.ts);
    assert.equal(diff?.channel, APPROVAL_CHANNEL);
    assert.deepEqual(rowsOf(diff?.content ?? ""), [
      ["row", "email", "user_id", "field", "before", "after"],
      ["2", PEOPLE.alice.email, PEOPLE.alice.jcId, "department", "R&D", "Data Platform"],
      ["3", PEOPLE.bob.email, PEOPLE.bob.jcId, "department", "", "Data Platform"],
      ["3", PEOPLE.bob.email, PEOPLE.bob.jcId, "jobTitle", "Builder", "Builder, senior"],
    ]);

    // The identities were resolved with one batched exact search and one batched text search
    // (which finds users differing only in case), not one call per row.
    const lookups = jc.calls.filter((c) => c.path.startsWith("/api/search/systemusers"));
    assert.deepEqual(
      lookups.map((c) => Object.keys(c.body as object).sort()),
      [
        ["filter", "limit", "skip"],
        ["limit", "searchFilter", "skip"],
      ],
    );

    assert.equal((await env.click("approver", "approve", id)).status, 200);
    await env.waitForState(id, "applied");
    assert.equal(jc.users.get(PEOPLE.alice.jcId)?.department, "Data Platform");
    assert.equal(jc.users.get(PEOPLE.bob.jcId)?.jobTitle, "Builder, senior");
    assert.equal(jc.users.get(PEOPLE.approver.jcId)?.department, undefined, "a skipped row changes nothing");
    assert.deepEqual(jc.schemaViolations, []);
    // Both users went out in one bulk call.
    assert.equal(jc.bulkCalls.length, 1);
    assert.deepEqual(
      jc.bulkCalls[0]?.body.map((u) => u.id),
      [PEOPLE.alice.jcId, PEOPLE.bob.jcId],
    );

    const thread = await slack.waitFor(
      "chat.postMessage",
      (c) => c.args.thread_ts === posted.ts && /finished/.test(String(c.args.text)),
    );
    assert.match(String(thread.args.text), /finished: both users applied\./);
    const dm = await slack.waitFor(
      "chat.postMessage",
      (c) => c.args.channel === PEOPLE.admin.slackId && /applied/.test(String(c.args.text)),
    );
    assert.match(textOf(dm.args.blocks), /2 users/);
    const final = await env.approvalMessage(id);
    assert.match(textOf(final.blocks), /Applied in JumpCloud: both users \(1 call\)/);
  });

  it("uploaded spreadsheet export (BOM, CRLF, quoted commas): downloaded with the bot token, checked, stored", async () => {
    const { slack, app } = env;
    const file = `\ufeffusername,Cost center,attributes.costCode\r\nbob,"CC-7, Berlin",B-1\r\n\r\n`;
    const outcome = await env.bulk("admin", { file: { name: "rebrand.csv", content: file } });
    assert.ok(outcome.ok, outcome.ok ? "" : outcome.problems);
    assert.match(textOf(outcome.answer.json?.view), /Reading rebrand\.csv/);
    assert.deepEqual(slack.downloads.at(-1), { id: slack.downloads.at(-1)?.id, authorized: true });
    const request = await app.store.getRequest(outcome.requestId);
    assert.equal(request?.bulk?.source, "rebrand.csv");
    assert.deepEqual(await app.store.listRequestRows(outcome.requestId), [
      {
        row: 2,
        userId: PEOPLE.bob.jcId,
        label: "bob",
        changes: [
          { field: "costCenter", oldValue: "", newValue: "CC-7, Berlin" },
          { field: "attributes.costCode", oldValue: "", newValue: "B-1" },
        ],
      },
    ]);
    await env.click("approver", "deny", outcome.requestId);
  });

  it("problems found without JumpCloud are answered at once, under the CSV box (first few and the count)", async () => {
    const csv = ["email,dept,jobTitle", ...Array.from({ length: 9 }, (_, i) => `u${i}@x.com,,`)].join("\n");
    const first = await env.bulk("admin", { csv });
    assert.equal(first.ok, false);
    assert.equal(first.answer.json?.response_action, "errors");
    assert.deepEqual(Object.keys(first.answer.json?.errors ?? {}), [ids.bulkModal.csvBlock]);
    assert.match(first.ok ? "" : first.problems, /Row 1, column "dept": Unknown column \(column 2\)/);
    assert.match(first.ok ? "" : first.problems, /Unknown column \(column 2\)\. Allowed after "email": .*department/);

    const many = ["email,phone.work", ...Array.from({ length: 12 }, (_, i) => `u${i}@x.com,abc`)].join("\n");
    const second = await env.bulk("admin", { csv: many });
    const text = second.ok ? "" : second.problems;
    assert.match(text, /^12 problems:\nRow 2, column "phone\.work": Use digits/);
    assert.match(text, /…and 2 more\.$/);

    const neither = await env.bulk("admin", { csv: "  " });
    assert.deepEqual(neither.answer.json?.errors, {
      [ids.bulkModal.csvBlock]: "Paste a CSV here, or upload a CSV file below.",
    });
    const both = await env.bulk("admin", { csv: "email,department\na@x.com,D", file: { name: "x.csv", content: "x" } });
    assert.deepEqual(both.answer.json?.errors, {
      [ids.bulkModal.fileBlock]: "Use the box or a file, not both: remove one of them.",
    });
    const noReason = await env.bulk("admin", { csv: "email,department\na@x.com,D", reason: " " });
    assert.deepEqual(Object.keys(noReason.answer.json?.errors ?? {}), [ids.bulkModal.reasonBlock]);
  });

  it("problems found in JumpCloud: the form comes back with the CSV still there and the problems under it", async () => {
    const { app, jc } = env;
    jc.addUser({ _id: "64a0000000000000000000d1", email: "twin@example.com", username: "twin1" });
    jc.addUser({ _id: "64a0000000000000000000d2", email: "twin@example.com", username: "twin2" });
    const csv = [
      "email,department,manager",
      `${PEOPLE.alice.email},Data,`,
      "ghost@example.com,Data,",
      "twin@example.com,Data,",
      `${PEOPLE.bob.email},Data,nobody@example.com`,
    ].join("\n");
    const before = (await app.store.listRequestsByRequester(PEOPLE.admin.slackId, 100)).length;
    const outcome = await env.bulk("admin", { csv });
    assert.equal(outcome.ok, false);
    assert.equal(outcome.answer.json?.response_action, "update");
    assert.match(textOf(outcome.answer.json?.view), /Checking 4 rows against JumpCloud/);
    if (outcome.ok) return;
    assert.match(outcome.problems, /3 problems/);
    assert.match(outcome.problems, /Row 3, column "email": No JumpCloud user has the email ghost@example\.com\./);
    assert.match(outcome.problems, /Row 4, column "email": 2 JumpCloud users match this email; use their id instead\./);
    assert.match(outcome.problems, /Row 5, column "manager": No JumpCloud user has the email nobody@example\.com\./);
    const box = (outcome.view?.blocks ?? []).find((b) => b.block_id === ids.bulkModal.csvBlock);
    assert.equal(box?.element?.initial_value, csv, "the CSV is still there to fix");
    const order = (outcome.view?.blocks ?? []).map((b) => b.block_id ?? b.type);
    assert.equal(order[order.indexOf(ids.bulkModal.csvBlock) + 1], "section", "problems right under the CSV box");
    assert.equal((await app.store.listRequestsByRequester(PEOPLE.admin.slackId, 100)).length, before, "nothing stored");
  });

  it("a manager change shows the manager replaced by email, looked up in one batched call", async () => {
    const { jc } = env;
    const oldBoss = { _id: "64b000000000000000000b01", email: "old.boss@example.com", username: "oldboss" };
    jc.addUser(oldBoss);
    const bob = jc.users.get(PEOPLE.bob.jcId);
    assert.ok(bob);
    jc.users.set(PEOPLE.bob.jcId, { ...bob, manager: oldBoss._id });
    const before = jc.calls.length;
    const outcome = await env.bulk("admin", {
      csv: `email,manager\n${PEOPLE.bob.email},${PEOPLE.approver.email}\n${PEOPLE.alice.email},${PEOPLE.approver.email}\n`,
    });
    assert.ok(outcome.ok, outcome.ok ? "" : outcome.problems);
    const rows = await env.app.store.listRequestRows(outcome.requestId);
    assert.deepEqual(
      rows.map((r) => r.changes),
      [
        [
          {
            field: "manager",
            oldValue: oldBoss._id,
            newValue: PEOPLE.approver.jcId,
            newDisplay: PEOPLE.approver.email,
            oldDisplay: oldBoss.email,
          },
        ],
        [
          {
            field: "manager",
            oldValue: "",
            newValue: PEOPLE.approver.jcId,
            newDisplay: PEOPLE.approver.email,
            oldDisplay: null,
          },
        ],
      ],
    );
    // Users and the new manager by email (an exact and a text search each), the old manager by
    // id (one exact search): never one call per row.
    const searches = jc.calls.slice(before).filter((c) => c.path.startsWith("/api/search/systemusers"));
    assert.deepEqual(
      searches.map((c) => ("searchFilter" in (c.body as object) ? "text" : "exact")),
      ["exact", "text", "exact", "text", "exact"],
    );
    const posted = await env.approvalMessage(outcome.requestId);
    assert.match(
      textOf(posted.blocks),
      /\*Manager\*: old\.boss@example\.com \(64b000000000000000000b01\) → approver@example\.com/,
    );
    const diff = await uploaded(`jc-update-${outcome.requestId}-diff.csv`);
    assert.deepEqual(rowsOf(diff?.content ?? "")[1]?.slice(3), [
      "manager",
      `${oldBoss.email} (${oldBoss._id})`,
      `${PEOPLE.approver.email} (${PEOPLE.approver.jcId})`,
    ]);
  });

  it("a CSV that changes nothing is refused with the count", async () => {
    const outcome = await env.bulk("admin", { csv: `email,jobTitle\n${PEOPLE.bob.email},Builder\n` });
    assert.equal(outcome.ok, false);
    assert.match(outcome.ok ? "" : outcome.problems, /Nothing to change: 1 row already matches JumpCloud\./);
  });

  it("only admins: the command and a forged submission are refused", async () => {
    const { slack } = env;
    const seen = slack.calls.length;
    await env.command("alice", "bulk");
    const reply = await slack.waitFor("response_url", (c) => slack.calls.indexOf(c) >= seen);
    assert.match(String(reply.args.text), /Only admins can make bulk/);
    assert.equal(slack.callsTo("views.open").filter((c) => slack.calls.indexOf(c) >= seen).length, 0);
    const form = await env.openBulk("admin");
    const forged = await env.submitBulk("alice", form, { csv: `email,department\n${PEOPLE.alice.email},X` });
    assert.deepEqual(forged.json?.errors, { [ids.bulkModal.csvBlock]: "Only admins can make bulk requests." });
  });

  it("formula-looking values are stored as text, escaped in Slack, neutralised in every CSV written back", async () => {
    const { slack, app, jc } = env;
    const evil = '=HYPERLINK("http://evil.example","<!channel> click")';
    jc.failUser(PEOPLE.bob.jcId, "-Invalid title <@U0BAD>");
    const csv = `email,jobTitle\n${PEOPLE.alice.email},"${evil.replaceAll('"', '""')}"\n${PEOPLE.bob.email},"+cmd"\n`;
    const outcome = await env.bulk("admin", { csv });
    assert.ok(outcome.ok, outcome.ok ? "" : outcome.problems);
    const id = outcome.requestId;
    const rows = await app.store.listRequestRows(id);
    assert.equal(rows[0]?.changes[0]?.newValue, evil);
    const posted = await env.approvalMessage(id);
    const shown = textOf(posted.blocks);
    assert.ok(!shown.includes("<!channel>"), "no channel ping");
    assert.match(shown, /&lt;!channel&gt; click/);
    const diff = await uploaded(`jc-update-${id}-diff.csv`);
    const diffRows = rowsOf(diff?.content ?? "");
    assert.equal(diffRows[1]?.[5], `'${evil}`);
    assert.equal(diffRows[2]?.[5], "'+cmd");

    await env.click("approver", "approve", id);
    await env.waitForState(id, "partially_applied");
    assert.equal(jc.users.get(PEOPLE.alice.jcId)?.jobTitle, evil, "JumpCloud gets the text as written");
    const failed = await uploaded(`jc-update-${id}-failed.csv`);
    assert.equal(failed?.thread_ts, posted.ts);
    assert.match(failed?.initial_comment ?? "", /1 user applied, 1 user not applied/);
    assert.deepEqual(rowsOf(failed?.content ?? ""), [
      ["email", "jobTitle", "source_row", "jumpcloud_message"],
      [PEOPLE.bob.email, "'+cmd", "3", "'-Invalid title <@U0BAD>"],
    ]);
    const final = textOf((await env.approvalMessage(id)).blocks);
    assert.match(final, /Partially applied in JumpCloud: 1 user applied, 1 user failed/);
    assert.match(final, /bob@example\.com: -Invalid title &lt;@U0BAD&gt;/);
    const dm = await slack.waitFor(
      "chat.postMessage",
      (c) => c.args.channel === PEOPLE.admin.slackId && /partly applied/.test(String(c.args.text)),
    );
    assert.match(
      textOf(dm.args.blocks),
      /The other 1 user was updated\. Every row not applied, with the reason, is a CSV file in the thread/,
    );
  });
});
