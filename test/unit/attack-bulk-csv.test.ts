import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse } from "csv-parse/sync";
import { formatDiffCsv } from "../../src/csv/format-diff-csv.js";
import { formatFailedRowsCsv } from "../../src/csv/format-failed-rows-csv.js";
import { neutraliseCell } from "../../src/csv/neutralise-cell.js";
import { diffBulkRows } from "../../src/requests/diff-bulk-rows.js";
import { DEFAULT_ADMIN_FIELDS, DEFAULT_SELF_SERVICE_FIELDS } from "../../src/requests/fields.js";
import { describeBulkError, parseBulkCsv } from "../../src/requests/parse-bulk-csv.js";
import type { BulkSummary, ItemRecord, JcUser } from "../../src/requests/types.js";
import { formatBulkRows, formatBulkSummary, formatProblems } from "../../src/slack/blocks/index.js";
import { sectionBlock } from "../../src/slack/blocks/mrkdwn.js";

const policy = { selfService: DEFAULT_SELF_SERVICE_FIELDS, admin: DEFAULT_ADMIN_FIELDS };
const problems = (text: string) => parseBulkCsv(text, policy).errors.map(describeBulkError);

function failedItem(over: Partial<ItemRecord>): ItemRecord {
  return {
    id: 1,
    requestId: 1,
    userId: "64a000000000000000000001",
    state: "failed",
    seq: 1,
    attempts: 1,
    batchId: null,
    jobId: null,
    message: "boom",
    readyAt: "2026-01-01T00:00:00.000Z",
    createdAt: "2026-01-01T00:00:00.000Z",
    updatedAt: "2026-01-01T00:00:00.000Z",
    changes: [],
    label: "alice@example.com",
    row: 2,
    ...over,
  } as ItemRecord;
}

describe("attack: bulk CSV parsing", () => {
  it("real-world spreadsheet export: BOM, CRLF, quoted commas and line breaks, trailing empty columns, blank lines", () => {
    const csv = parseBulkCsv(
      '\ufeffEmail,Department,Job title,,\r\nalice@example.com,"Sales, EMEA",,,\r\n\r\nbob@example.com,,"Lead",,\r\n\r\n',
      policy,
    );
    assert.deepEqual(csv.errors, []);
    assert.equal(csv.identity, "email");
    assert.deepEqual(csv.fields, ["department", "jobTitle"]);
    assert.deepEqual(
      csv.rows.map((r) => r.values),
      [{ department: "Sales, EMEA" }, { jobTitle: "Lead" }],
    );
  });

  it("semicolon-separated export (European Excel) is read", () => {
    const csv = parseBulkCsv("email;department\r\nalice@example.com;Sales, EMEA\r\n", policy);
    assert.deepEqual(csv.errors, []);
    assert.deepEqual(csv.rows[0]?.values, { department: "Sales, EMEA" });
  });

  it("header only: one clear problem, no rows", () => {
    assert.deepEqual(problems("email,department\r\n"), ["The CSV has a header but no rows."]);
  });

  it("5,000 rows pass, 5,001 rows are refused with the count", () => {
    const lines = (n: number) =>
      ["email,department", ...Array.from({ length: n }, (_, i) => `u${i}@example.com,D`)].join("\n");
    assert.equal(parseBulkCsv(lines(5000), policy).rows.length, 5000);
    const over = problems(lines(5001));
    assert.ok(
      over.some((p) => /5,001/.test(p)),
      over.join("\n"),
    );
  });

  it("duplicate users that differ only in case are caught, naming the earlier row", () => {
    const errs = problems("email,department\nAlice@Example.com,A\nalice@example.com,B\n");
    assert.deepEqual(errs, ['Row 3, column "email": Same user as row 2.']);
  });

  it("a stray quote inside an unquoted value gets the helpful explanation, not a generic one", () => {
    const errs = problems('email,department\nalice@example.com,5" screens\n');
    assert.equal(errs.length, 1);
    assert.match(errs[0] ?? "", /quote/i, errs[0]);
  });

  it("id column: an id in upper case names the same user as in lower case (ids are hexadecimal)", () => {
    const errs = problems("id,department\n64A000000000000000000001,A\n64a000000000000000000001,B\n");
    assert.equal(errs.length, 1, `expected a duplicate-user problem, got: ${JSON.stringify(errs)}`);
    assert.match(errs[0] ?? "", /Same user as row 2/);
  });

  it("attributes. with no name and attributes.* are unknown columns", () => {
    assert.ok(problems("email,attributes.\nalice@example.com,x\n").some((p) => /Unknown column/.test(p)));
    assert.ok(problems("email,attributes.*\nalice@example.com,x\n").some((p) => /Unknown column/.test(p)));
  });

  it("values failing SPEC §3 rules are refused with row and column", () => {
    const long = "x".repeat(1025);
    const errs = problems(
      [
        "email,department,phone.work,username,employeeIdentifier,alternateEmail",
        `alice@example.com,${long},12,1abc,${"e".repeat(257)},not-an-email`,
        'bob@example.com,"tab\there",,,,',
      ].join("\n"),
    );
    for (const column of ["department", "phone.work", "username", "employeeIdentifier", "alternateEmail"]) {
      assert.ok(
        errs.some((e) => e.startsWith(`Row 2, column "${column}"`)),
        `${column}: ${errs.join("\n")}`,
      );
    }
    assert.ok(
      errs.some((e) => e.startsWith('Row 3, column "department"')),
      errs.join("\n"),
    );
  });

  it("a formula-looking value is kept as text, exactly", () => {
    const csv = parseBulkCsv('email,department\nalice@example.com,"=HYPERLINK(""http://evil"",""x"")"\n', policy);
    assert.deepEqual(csv.errors, []);
    assert.equal(csv.rows[0]?.values.department, '=HYPERLINK("http://evil","x")');
  });
});

describe("attack: CSVs the bot writes back", () => {
  const bulk: BulkSummary = {
    users: 1,
    fields: ["phone.work", "department"],
    skippedRows: 0,
    identity: "email",
    source: "x.csv",
  };

  it("every formula-looking cell of the diff CSV is neutralised", () => {
    const text = formatDiffCsv("email", [
      {
        row: 2,
        userId: "64a000000000000000000001",
        label: "alice@example.com",
        changes: [
          { field: "department", oldValue: "@SUM(A1)", newValue: '=HYPERLINK("http://evil","x")' },
          { field: "jobTitle", oldValue: "-1+1", newValue: "+cmd|' /C calc'!A0" },
        ],
      },
    ]);
    const rows = parse(text, { bom: true }) as string[][];
    for (const cell of rows.flat()) assert.doesNotMatch(cell, /^[=+\-@\t\r]/, cell);
  });

  it("the failed-rows CSV is resubmittable as is: a work phone in +country form reads back as the same number", () => {
    const text = formatFailedRowsCsv(bulk, [
      failedItem({
        changes: [
          { field: "phone.work", oldValue: "", newValue: "+1 555 0100" },
          { field: "department", oldValue: "R&D", newValue: "Ops" },
        ],
      }),
    ]);
    const again = parseBulkCsv(text, policy);
    assert.deepEqual(again.errors.map(describeBulkError), []);
    assert.deepEqual(again.rows[0]?.values, { "phone.work": "+1 555 0100", department: "Ops" });
  });

  it("the failed-rows CSV is resubmittable as is: a formula-looking value comes back as the same text", () => {
    const text = formatFailedRowsCsv(bulk, [
      failedItem({ changes: [{ field: "department", oldValue: "", newValue: '=HYPERLINK("http://evil","x")' }] }),
    ]);
    // Neutralised in the file…
    assert.match(text, /'=HYPERLINK/);
    // …but submitting the file again must not store the apostrophe.
    const again = parseBulkCsv(text, policy);
    assert.deepEqual(again.errors, []);
    assert.equal(again.rows[0]?.values.department, '=HYPERLINK("http://evil","x")');
  });

  it("neutraliseCell covers the OWASP leading characters", () => {
    for (const v of ["=1", "+1", "-1", "@a", "\t=1", "\r=1"]) assert.ok(neutraliseCell(v).startsWith("'"), v);
    assert.equal(neutraliseCell("plain"), "plain");
  });
});

describe("attack: bulk diff and Slack text", () => {
  const user = (id: string, email: string, extra: Partial<JcUser> = {}): JcUser =>
    ({ _id: id, email, username: email.split("@")[0], ...extra }) as JcUser;

  it("a new email that another row's user already has is refused (no swap in one request)", () => {
    const csv = parseBulkCsv("username,email\nalice,bob@example.com\n", policy);
    const alice = user("a".repeat(24), "alice@example.com");
    const bob = user("b".repeat(24), "bob@example.com");
    const diff = diffBulkRows(csv, {
      users: new Map([["alice", [alice]]]),
      byEmail: new Map([["bob@example.com", [bob]]]),
    });
    assert.equal(diff.rows.length, 0);
    assert.match(describeBulkError(diff.errors[0] ?? { message: "" }), /already has this email/);
  });

  it("ambiguous matches are refused and ask for the id", () => {
    const csv = parseBulkCsv("email,department\nx@example.com,A\n", policy);
    const diff = diffBulkRows(csv, {
      users: new Map([
        ["x@example.com", [user("a".repeat(24), "x@example.com"), user("b".repeat(24), "X@example.com")]],
      ]),
      byEmail: new Map(),
    });
    assert.match(
      describeBulkError(diff.errors[0] ?? { message: "" }),
      /2 JumpCloud users match this email; use their id/,
    );
  });

  it("hostile values in the summary and first rows are escaped: no pings, no disguised links", () => {
    const rows = [
      {
        row: 2,
        userId: "a".repeat(24),
        label: "<!channel>@example.com",
        changes: [{ field: "department", oldValue: "<!here>", newValue: "<http://evil.example|Payroll>" }],
      },
    ];
    const text =
      formatBulkRows(rows, 2800) +
      formatBulkSummary({
        users: 1,
        fields: ["attributes.<!everyone>"],
        skippedRows: 0,
        identity: "email",
        source: "<!subteam^S1>",
      }) +
      formatProblems(["Row 2: <!channel> <http://evil|x>"]);
    assert.doesNotMatch(text, /<!|<http/);
  });

  it("a summary of very many long attribute columns stays inside one section and still says rows were skipped", () => {
    const fields = Array.from({ length: 200 }, (_, i) => `attributes.${"n".repeat(90)}${i}`);
    const summary = formatBulkSummary({ users: 5, fields, skippedRows: 3, identity: "email", source: "x" });
    // As the approval message puts it: one section, cut by Slack's 3,000-character limit.
    const section = sectionBlock(`*Changes*: ${summary}`).text?.text ?? "";
    assert.ok(section.length <= 3000, `summary is ${section.length} characters`);
    assert.match(section, /3 rows skipped/, "the skipped count is cut off with the field list");
  });

  it("a wide row (every field changed, long values) still shows on the approval message's first rows", () => {
    const fields = [
      "firstname",
      "middlename",
      "lastname",
      "displayname",
      "jobTitle",
      "department",
      "location",
      "employeeType",
      "company",
      "costCenter",
      "employeeIdentifier",
      "alternateEmail",
    ];
    const rows = [1, 2].map((n) => ({
      row: n + 1,
      userId: String(n).repeat(24),
      label: `user${n}@example.com`,
      changes: fields.map((f) => ({ field: f, oldValue: "o".repeat(200), newValue: "n".repeat(200) })),
    }));
    const text = formatBulkRows(rows, 2800);
    assert.ok(text.length <= 2800);
    assert.match(text, /user1@example\.com/, `the approver sees no row at all: ${text}`);
  });
});
