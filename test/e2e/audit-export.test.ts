import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parse } from "csv-parse/sync";
import { neutraliseCell } from "../../src/csv/neutralise-cell.js";
import { PEOPLE, SECRETS, startTestEnv, type TestEnv } from "../support/start-test-env.js";

const run = promisify(execFile);
const CLI = fileURLToPath(new URL("../../dist/audit-cli.js", import.meta.url));

describe("audit export (npm run audit)", () => {
  let env: TestEnv;
  let databaseUrl: string;
  const hostile = '=HYPERLINK("http://evil.example","click")';

  before(async () => {
    databaseUrl = `sqlite:${join(mkdtempSync(join(tmpdir(), "jc-audit-")), "bot.db")}`;
    env = await startTestEnv({ env: { DATABASE_URL: databaseUrl } });
    // One applied request, one denied with a formula-looking reason.
    for (const [title, decision] of [
      ["Applied title", "approve"],
      ["Denied title", "deny"],
    ] as const) {
      const form = await env.openForm("alice");
      await env.submitForm("alice", form, { "Job title": title }, "@SUM(A1:A9)");
      const id = (await env.app.store.listRequestsByRequester(PEOPLE.alice.slackId, 1))[0]?.id ?? 0;
      if (decision === "approve") {
        await env.click("approver", "approve", id);
        await env.waitForState(id, "applied");
      } else {
        await env.submitDeny("approver", id, hostile);
        await env.waitForState(id, "denied");
      }
    }
  });
  after(async () => env.close());

  async function exportAudit(...args: string[]) {
    return run(process.execPath, [CLI, ...args], {
      cwd: mkdtempSync(join(tmpdir(), "jc-audit-cwd-")),
      env: { PATH: process.env.PATH ?? "", DATABASE_URL: databaseUrl },
    });
  }

  it("exports every transition since a date as CSV, formulas neutralised", async () => {
    const { stdout, stderr } = await exportAudit("--since", "2000-01-01");
    const rows = parse(stdout, { bom: true, columns: true }) as Record<string, string>[];
    assert.deepEqual(
      rows.map((r) => [r.request_id, r.event, r.actor]),
      [
        ["1", "submitted", PEOPLE.alice.slackId],
        ["1", "approved", PEOPLE.approver.slackId],
        ["1", "queued", "system"],
        ["1", "submitted_to_jumpcloud", "system"],
        ["1", "applied", "system"],
        ["2", "submitted", PEOPLE.alice.slackId],
        ["2", "denied", PEOPLE.approver.slackId],
      ],
    );
    assert.match(rows[3]?.detail ?? "", /^job [0-9a-f]{24}$/);
    assert.equal(rows[6]?.detail, `'${hostile}`);
    assert.equal(rows[0]?.target, "alice@example.com");
    assert.equal(rows[0]?.changes, "Job title: Engineer → Applied title");
    assert.equal(rows[5]?.changes, "Job title: Applied title → Denied title"); // made after #1 applied
    assert.equal(rows[0]?.target_user_id, PEOPLE.alice.jcId);
    for (const row of rows) for (const cell of Object.values(row)) assert.doesNotMatch(cell, /^[=+\-@]/);
    assert.match(stderr, /7 audit entries since 2000-01-01T00:00:00.000Z/);
    for (const secret of Object.values(SECRETS)) assert.ok(!stdout.includes(secret));
  });

  it("exports JSON, and --since / --until bound the entries", async () => {
    const all = JSON.parse((await exportAudit("--since", "2000-01-01", "--format", "json")).stdout) as {
      at: string;
      event: string;
    }[];
    assert.equal(all.length, 7);
    const cut = all[5]?.at ?? "";
    const later = JSON.parse((await exportAudit("--since", cut, "--format", "json")).stdout) as { event: string }[];
    assert.deepEqual(
      later.map((r) => r.event),
      ["submitted", "denied"],
    );
    const earlier = JSON.parse(
      (await exportAudit("--since", "2000-01-01", "--until", cut, "--format", "json")).stdout,
    ) as unknown[];
    assert.equal(earlier.length, 5);
    const future = JSON.parse((await exportAudit("--since", "2999-01-01", "--format", "json")).stdout) as unknown[];
    assert.deepEqual(future, []);
  });

  it("--per-user: one line per field of each approved user change, with what became of it", async () => {
    const { stdout, stderr } = await exportAudit("--since", "2000-01-01", "--per-user");
    const rows = parse(stdout, { bom: true, columns: true }) as Record<string, string>[];
    assert.deepEqual(
      rows.map((r) => [
        r.request_id,
        r.kind,
        r.row,
        r.user_id,
        r.user,
        r.field,
        r.before,
        r.after,
        r.state,
        r.approved_by,
        r.job_id,
      ]),
      [
        [
          "1",
          "single",
          "",
          PEOPLE.alice.jcId,
          PEOPLE.alice.email,
          "jobTitle",
          "Engineer",
          "Applied title",
          "applied",
          PEOPLE.approver.slackId,
          [...env.jc.jobs.keys()][0],
        ],
      ],
    );
    assert.equal(env.jc.jobs.size, 1);
    assert.match(stderr, /1 approved user changes since/);
    const json = JSON.parse((await exportAudit("--since", "2000-01-01", "--per-user", "--format", "json")).stdout);
    assert.equal(json[0]?.after, "Applied title");
  });

  it("refuses a missing or bad --since with usage, exit 2", async () => {
    for (const args of [[], ["--since", "yesterday-ish"], ["--since", "2026-01-01", "--format", "xlsx"], ["--bogus"]]) {
      await assert.rejects(exportAudit(...args), (error: { code?: number; stderr?: string }) => {
        assert.equal(error.code, 2);
        assert.match(error.stderr ?? "", /usage: npm run -s audit/);
        return true;
      });
    }
  });

  it("refuses a database file that does not exist (a typo must not create an empty one)", async () => {
    const missing = join(mkdtempSync(join(tmpdir(), "jc-audit-missing-")), "typo.db");
    await assert.rejects(
      run(process.execPath, [CLI, "--since", "2000-01-01"], {
        env: { PATH: process.env.PATH ?? "", DATABASE_URL: `sqlite:${missing}` },
      }),
      (error: { code?: number; stderr?: string }) => {
        assert.equal(error.code, 1);
        assert.match(error.stderr ?? "", /no database file at/);
        return true;
      },
    );
    assert.equal(existsSync(missing), false);
  });

  it("neutralises every formula prefix and leaves other text alone", () => {
    assert.deepEqual(["=1+1", "+cmd", "-2", "@SUM(1)", "\tx", "\rx", "plain", "", "a=b"].map(neutraliseCell), [
      "'=1+1",
      "'+cmd",
      "'-2",
      "'@SUM(1)",
      "'\tx",
      "'\rx",
      "plain",
      "",
      "a=b",
    ]);
  });
});
