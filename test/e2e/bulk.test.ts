import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { parse } from "csv-parse/sync";
import { ids } from "../../src/slack/ids.js";
import { APPROVAL_CHANNEL, PEOPLE, startTestEnv, type TestEnv, textOf } from "../support/start-test-env.js";

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
    await slack.waitFor("files.completeUploadExternal", (c) => JSON.stringify(c.args).includes("diff"));
    const diff = slack.uploads.find((u) => u.filename === `jc-update-${id}-diff.csv`);
    assert.equal(diff?.thread_ts, posted.ts);
    assert.equal(diff?.channel, APPROVAL_CHANNEL);
    assert.deepEqual(rowsOf(diff?.content ?? ""), [
      ["row", "email", "user_id", "field", "before", "after"],
      ["2", PEOPLE.alice.email, PEOPLE.alice.jcId, "department", "R&D", "Data Platform"],
      ["3", PEOPLE.bob.email, PEOPLE.bob.jcId, "department", "", "Data Platform"],
      ["3", PEOPLE.bob.email, PEOPLE.bob.jcId, "jobTitle", "Builder", "Builder, senior"],
    ]);

    // The identities were resolved with one batched search, not one call per row.
    const lookups = jc.calls.filter((c) => c.path.startsWith("/api/search/systemusers"));
    assert.equal(lookups.length, 1);

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
    assert.match(String(thread.args.text), /2 users applied, 0 users not applied/);
    const dm = await slack.waitFor(
      "chat.postMessage",
      (c) => c.args.channel === PEOPLE.admin.slackId && /applied/.test(String(c.args.text)),
    );
    assert.match(textOf(dm.args.blocks), /2 users/);
    const final = await env.approvalMessage(id);
    assert.match(textOf(final.blocks), /Applied in JumpCloud: all 2 users \(1 call\)/);
  });
});
