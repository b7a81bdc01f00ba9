import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { parse } from "csv-parse/sync";
import type { SeedUser } from "../../src/sim/fake-jumpcloud.js";
import { messageProblems } from "../support/block-limits.js";
import { seedUsers, startTestEnv, type TestEnv, textOf, waitUntil } from "../support/start-test-env.js";

const ROWS = 5000;
const RATE = 100;
const idOf = (i: number) => `5f${i.toString(16).padStart(22, "0")}`;

/** A directory of 6,000 people, 5,000 of whom move to a renamed department. */
function directory(): SeedUser[] {
  const people = Array.from({ length: 6000 }, (_, i) => ({
    _id: idOf(i),
    email: `person${i}@corp.example`,
    username: `person${i}`,
    department: "Sales",
    attributes: [{ name: "costCode", value: "OLD" }],
  }));
  return [...seedUsers(), ...people];
}

describe("a 5,000-row bulk request", () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv({
      users: directory(),
      env: {
        JUMPCLOUD_REQUESTS_PER_SECOND: String(RATE),
        JUMPCLOUD_CONCURRENCY: "4",
        BATCH_MAX_SIZE: "100",
        LOG_LEVEL: "info",
      },
      jc: { rateLimitPerSecond: RATE },
    });
  });
  after(async () => env.close());

  it("resolves in batched calls within the rate limit, stays within Slack's limits, applies all in 50 calls with progress", async () => {
    const { slack, jc, app } = env;
    // As a spreadsheet saves it: BOM, CRLF, a quoted value with a comma, a blank line at the end.
    const lines = ["\ufeffEmail,Department,attributes.costCode"];
    for (let i = 0; i < ROWS; i++) lines.push(`PERSON${i}@corp.example,"Revenue, EMEA",C-${i % 7}`);
    const file = `${lines.join("\r\n")}\r\n\r\n`;

    const outcome = await env.bulk("admin", { file: { name: "reorg.csv", content: file } });
    assert.ok(outcome.ok, outcome.ok ? "" : outcome.problems);
    const id = outcome.requestId;

    // Identity resolution: a size probe, then the cheaper of searching (an exact and a text search
    // per 100 rows: 100 calls) and listing the 6,005 users (61 pages): the listing.
    const lookups = jc.calls.filter((c) => c.path === "/api/search/systemusers" || c.path === "/api/systemusers");
    assert.deepEqual(
      lookups.map((c) => `${c.method} ${c.path}`),
      Array(1 + Math.ceil(6005 / 100)).fill("GET /api/systemusers"),
    );
    assert.equal(jc.calls.filter((c) => c.status === 429).length, 0);

    const request = await app.store.getRequest(id);
    assert.deepEqual(request?.bulk, {
      users: ROWS,
      fields: ["department", "attributes.costCode"],
      skippedRows: 0,
      identity: "email",
      source: "reorg.csv",
    });
    const rows = await app.store.listRequestRows(id);
    assert.equal(rows.length, ROWS);
    assert.deepEqual(rows[4999], {
      row: 5001,
      userId: idOf(4999),
      label: "person4999@corp.example", // as JumpCloud spells it, not as the CSV wrote it
      changes: [
        { field: "department", oldValue: "Sales", newValue: "Revenue, EMEA" },
        { field: "attributes.costCode", oldValue: "OLD", newValue: `C-${4999 % 7}` },
      ],
    });

    // The approval message: summary and the first 10 rows, within Slack's limits.
    const posted = await env.approvalMessage(id);
    const message = { text: posted.text, blocks: posted.blocks };
    assert.deepEqual(messageProblems(message), []);
    const shown = textOf(posted.blocks);
    assert.match(shown, /\*5,000 users\* · fields: Department, costCode/);
    assert.match(shown, /First 10 of 5,000 users/);
    assert.match(shown, /person9@corp\.example\* \(row 11\)/);
    assert.match(shown, /…and 4,990 more users/);
    await waitUntil(() => slack.uploads.some((u) => u.filename.endsWith("-diff.csv")), 10_000, "diff upload");
    const diff = slack.uploads.find((u) => u.filename === `jc-update-${id}-diff.csv`);
    assert.equal((parse(diff?.content ?? "", { bom: true }) as string[][]).length, 1 + 2 * ROWS);

    const approvedAt = jc.calls.length;
    await env.click("approver", "approve", id);
    await env.waitForState(id, "applied", 120_000);

    const patches = jc.bulkCalls;
    assert.equal(patches.length, ROWS / 100, "batches of BATCH_MAX_SIZE users");
    assert.ok(patches.every((p) => p.body.length === 100));
    assert.equal(new Set(patches.flatMap((p) => p.body.map((u) => u.id))).size, ROWS, "every user once");
    assert.deepEqual(jc.schemaViolations, []);
    assert.equal(jc.calls.slice(approvedAt).filter((c) => c.status === 429).length, 0);
    const person = jc.users.get(idOf(1234));
    assert.equal(person?.department, "Revenue, EMEA");
    assert.deepEqual(person?.attributes, [{ name: "costCode", value: `C-${1234 % 7}` }]);

    // Progress was shown while it ran, and the end says what happened.
    const updates = slack
      .callsTo("chat.update")
      .filter((c) => c.args.ts === posted.ts)
      .map((c) => textOf(c.args.blocks));
    assert.ok(
      updates.some(
        (t) => /Calls sent: [1-9]\d* of 50 · applied \d/.test(t) && !/Calls sent: 50 of 50 · applied 5,000/.test(t),
      ),
      "an intermediate progress line",
    );
    assert.ok(updates.length <= 2 * (ROWS / 100) + 3, `progress updates coalesce (${updates.length} chat.update)`);
    await waitUntil(
      async () =>
        /Applied in JumpCloud: all 5,000 users \(50 calls\)/.test(textOf((await env.approvalMessage(id)).blocks)),
      10_000,
      "the final approval message",
    );
    await slack.waitFor(
      "chat.postMessage",
      (c) => c.args.thread_ts === posted.ts && /finished/.test(String(c.args.text)),
    );
  });
});
