import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse } from "csv-parse/sync";
import { formatDiffCsv } from "../../src/csv/format-diff-csv.js";
import { formatFailedRowsCsv } from "../../src/csv/format-failed-rows-csv.js";
import { diffBulkRows, emailsToLookUp } from "../../src/requests/diff-bulk-rows.js";
import { DEFAULT_ADMIN_FIELDS, DEFAULT_SELF_SERVICE_FIELDS } from "../../src/requests/fields.js";
import { BULK_MAX_ROWS, describeBulkError, parseBulkCsv } from "../../src/requests/parse-bulk-csv.js";
import type { BulkSummary, ItemRecord, JcUser } from "../../src/requests/types.js";

const POLICY = { selfService: DEFAULT_SELF_SERVICE_FIELDS, admin: DEFAULT_ADMIN_FIELDS };
const problems = (csv: string) => parseBulkCsv(csv, POLICY).errors.map(describeBulkError);
const HEX = (n: number) => n.toString(16).padStart(24, "0");

describe("parseBulkCsv", () => {
  it("reads a spreadsheet export: BOM, CRLF, quoted commas, blank trailing lines; empty cell = unchanged", () => {
    const csv = '\ufeffEmail,Department,Job title\r\na@x.com,"Sales, EMEA",\r\nB@X.com,,"Lead ""writer"""\r\n\r\n\r\n';
    const parsed = parseBulkCsv(csv, POLICY);
    assert.deepEqual(parsed.errors, []);
    assert.equal(parsed.identity, "email");
    assert.deepEqual(parsed.fields, ["department", "jobTitle"]);
    assert.deepEqual(parsed.rows, [
      { row: 2, identity: "a@x.com", values: { department: "Sales, EMEA" } },
      { row: 3, identity: "B@X.com", values: { jobTitle: 'Lead "writer"' } },
    ]);
  });

  it("numbers rows like a spreadsheet, also across quoted line breaks and rows of empty cells", () => {
    const csv = 'email,department\na@x.com,"two\nlines"\n,\nb@x.com,ok\n';
    assert.deepEqual(problems(csv), [
      'Row 2, column "department": Remove control or invisible characters (tabs, line breaks, zero-width or direction marks).',
    ]);
    assert.deepEqual(
      parseBulkCsv(csv, POLICY).rows.map((r) => r.row),
      [2, 4],
    );
  });

  it("reads semicolon- and tab-separated exports", () => {
    for (const sep of [";", "\t"]) {
      const parsed = parseBulkCsv(`username${sep}costCenter\nada${sep}CC-1, Berlin\n`, POLICY);
      assert.deepEqual(parsed.errors, []);
      assert.deepEqual(parsed.rows, [{ row: 2, identity: "ada", values: { costCenter: "CC-1, Berlin" } }]);
    }
  });

  it("accepts keys or labels in any case, attributes and phones", () => {
    const parsed = parseBulkCsv(
      `ID,jobtitle,Work phone,attributes.costCode,MANAGER\n${HEX(1)},A,+1 555,C-9,m@x.com\n`,
      POLICY,
    );
    assert.deepEqual(parsed.errors, []);
    assert.equal(parsed.identity, "id");
    assert.deepEqual(parsed.fields, ["jobTitle", "phone.work", "attributes.costCode", "manager"]);
  });

  it("unknown and duplicate columns name the column; the first lists the allowed ones", () => {
    assert.deepEqual(problems("email,dept,department,Department,salary\na@x.com,1,2,3,4\n"), [
      'Row 1, column "dept": Unknown column (column 2). Allowed after "email": firstname, middlename, lastname, displayname, jobTitle, department, location, phone.work, phone.mobile, email, username, alternateEmail, employeeIdentifier, employeeType, company, costCenter, manager, attributes.<name>; keys or labels, any case.',
      'Row 1, column "Department": This field has two columns.',
      'Row 1, column "salary": Unknown column (column 5).',
    ]);
  });

  it("header problems do not hide the rows' own problems (one round of fixes)", () => {
    assert.deepEqual(problems("email,phone.mobile,dept\na@x.com,abc,x\na@x.com,,\n").slice(1), [
      'Row 2, column "phone.mobile": Use digits, spaces and + - ( ) . only, 3 to 30 characters.',
      'Row 3, column "email": Same user as row 2.',
    ]);
  });

  it("blank lines count as rows, as in a spreadsheet (also before the header)", () => {
    assert.deepEqual(problems("email,phone.work\na@x.com,1\n\nb@x.com,bad!\n"), [
      'Row 2, column "phone.work": Use digits, spaces and + - ( ) . only, 3 to 30 characters.',
      'Row 4, column "phone.work": Use digits, spaces and + - ( ) . only, 3 to 30 characters.',
    ]);
    assert.deepEqual(
      parseBulkCsv("\n\nemail,department\na@x.com,D\n", POLICY).rows.map((r) => r.row),
      [4],
    );
  });

  it("fields outside the policy are refused", () => {
    const policy = { selfService: ["department"], admin: ["jobTitle"] };
    assert.deepEqual(parseBulkCsv("email,company\na@x.com,ACME\n", policy).errors.map(describeBulkError), [
      'Row 1, column "company": This field may not be changed by the bot.',
    ]);
  });

  it("the first column must name the user", () => {
    assert.deepEqual(problems("department,email\nSales,a@x.com\n"), [
      'Row 1, column "department": The first column must name the user: id, email or username.',
    ]);
  });

  it("missing or malformed identities, the same user twice (any case), bad values: row and column", () => {
    const csv = [
      "email,department,phone.work,username,manager",
      "a@x.com,Sales,,,",
      ",Sales,,,",
      "not-an-email,Sales,,,",
      "A@X.COM,Support,,,",
      "b@x.com,,12ab,,",
      "c@x.com,,,has space,",
      "d@x.com,,,,Bob",
      `e@x.com,${"x".repeat(1025)},,,`,
    ].join("\n");
    assert.deepEqual(problems(csv), [
      'Row 3, column "email": Empty: every row needs the user\'s email.',
      'Row 4, column "email": Not an email address.',
      'Row 5, column "email": Same user as row 2.',
      'Row 6, column "phone.work": Use digits, spaces and + - ( ) . only, 3 to 30 characters.',
      'Row 7, column "username": Must start with a letter, with no spaces or @, at most 30 characters.',
      'Row 8, column "manager": Give the manager\'s email address.',
      'Row 9, column "department": At most 1024 characters.',
    ]);
  });

  it("ids must be JumpCloud ids; extra cells are refused", () => {
    assert.deepEqual(problems(`id,department\n123,Sales\n${HEX(2)},Sales,extra\n`), [
      'Row 2, column "id": Not a JumpCloud user id (24 hexadecimal characters).',
      "Row 3: 3 cells but the header has 2 columns.",
    ]);
  });

  it("empty, header-only, no field column, too many rows, unclosed quote", () => {
    assert.deepEqual(problems(""), ["The CSV is empty: give a header row and at least one row."]);
    assert.deepEqual(problems("email,department\n\n"), ["The CSV has a header but no rows."]);
    assert.deepEqual(problems("email\na@x.com\n"), [
      'No field to change: add columns after "email", e.g. department or jobTitle.',
    ]);
    const big = ["email,department", ...Array.from({ length: BULK_MAX_ROWS + 1 }, (_, i) => `u${i}@x.com,D`)].join(
      "\n",
    );
    assert.deepEqual(problems(big), ["At most 5,000 rows per request; this CSV has 5,001. Split it."]);
    assert.equal(
      parseBulkCsv(
        big
          .split("\n")
          .slice(0, BULK_MAX_ROWS + 1)
          .join("\n"),
        POLICY,
      ).rows.length,
      5000,
    );
    assert.match(problems('email,department\na@x.com,"never closed\n')[0] ?? "", /could not be read.*never closed/);
  });

  it("formula-looking values are plain text: kept as given", () => {
    const parsed = parseBulkCsv('email,jobTitle\na@x.com,"=HYPERLINK(""http://evil"",""x"")"\n', POLICY);
    assert.deepEqual(parsed.errors, []);
    assert.equal(parsed.rows[0]?.values.jobTitle, '=HYPERLINK("http://evil","x")');
  });
});

function user(n: number, extra: Partial<JcUser> = {}): JcUser {
  return { _id: HEX(n), email: `u${n}@x.com`, username: `u${n}`, ...extra };
}

describe("diffBulkRows", () => {
  it("rows that give no value are counted apart, without a lookup", () => {
    const parsed = parseBulkCsv("email,department\nu1@x.com,\nu2@x.com,Ops\n", POLICY);
    const diff = diffBulkRows(parsed, {
      users: new Map([["u2@x.com", [user(2, { department: "Ops" })]]]),
      byEmail: new Map(),
    });
    assert.deepEqual([diff.empty, diff.skipped, diff.errors, diff.rows], [[2], [3], [], []]);
  });

  it("an email column after the email identity changes the email (identified by the old one)", () => {
    const parsed = parseBulkCsv("email,email\nold@x.com,new@x.com\n", POLICY);
    assert.deepEqual(parsed.errors, []);
    const diff = diffBulkRows(parsed, {
      users: new Map([["old@x.com", [user(1, { email: "old@x.com" })]]]),
      byEmail: new Map([["new@x.com", []]]),
    });
    assert.deepEqual(diff.rows[0]?.changes, [{ field: "email", oldValue: "old@x.com", newValue: "new@x.com" }]);
  });

  it("names not found, ambiguous, unknown manager, taken and repeated new emails", () => {
    const parsed = parseBulkCsv(
      [
        "email,department,manager",
        "u1@x.com,Sales,boss@x.com",
        "U2@x.com,Sales,",
        "ghost@x.com,Sales,",
        "dup@x.com,Sales,",
        "u3@x.com,Ops,nobody@x.com",
        "u7@x.com,Ops,u7@x.com",
      ].join("\n"),
      POLICY,
    );
    assert.deepEqual(parsed.errors, []);
    const boss = user(9, { email: "boss@x.com" });
    const users = new Map<string, JcUser[]>([
      ["u1@x.com", [user(1, { department: "Ops" })]],
      ["u2@x.com", [user(2, { department: "Sales" })]],
      ["ghost@x.com", []],
      ["dup@x.com", [user(4, { email: "dup@x.com" }), user(5, { email: "DUP@x.com" })]],
      ["u3@x.com", [user(3)]],
      ["u7@x.com", [user(7)]],
    ]);
    const byEmail = new Map<string, JcUser[]>([
      ["boss@x.com", [boss]],
      ["nobody@x.com", []],
      ["u7@x.com", [user(7)]],
    ]);
    assert.deepEqual(emailsToLookUp(parsed).sort(), ["boss@x.com", "nobody@x.com", "u7@x.com"]);
    const diff = diffBulkRows(parsed, { users, byEmail });
    assert.deepEqual(diff.errors.map(describeBulkError), [
      'Row 4, column "email": No JumpCloud user has the email ghost@x.com.',
      'Row 5, column "email": 2 JumpCloud users match this email; use their id instead.',
      'Row 6, column "manager": No JumpCloud user has the email nobody@x.com.',
      'Row 7, column "manager": A user cannot be their own manager.',
    ]);
    assert.deepEqual(diff.skipped, [3]);
    assert.deepEqual(diff.rows, [
      {
        row: 2,
        userId: HEX(1),
        label: "u1@x.com",
        changes: [
          { field: "department", oldValue: "Ops", newValue: "Sales" },
          { field: "manager", oldValue: "", newValue: HEX(9), newDisplay: "boss@x.com", oldDisplay: null },
        ],
      },
    ]);
  });

  it("a new email must be free, and not given twice", () => {
    const parsed = parseBulkCsv(["username,email", "u4,u1@x.com", "u5,free@x.com", "u6,Free@x.com"].join("\n"), POLICY);
    const users = new Map<string, JcUser[]>([
      ["u4", [user(4)]],
      ["u5", [user(5)]],
      ["u6", [user(6)]],
    ]);
    const byEmail = new Map<string, JcUser[]>([
      ["u1@x.com", [user(1)]],
      ["free@x.com", []],
    ]);
    const diff = diffBulkRows(parsed, { users, byEmail });
    assert.deepEqual(diff.errors.map(describeBulkError), [
      'Row 2, column "email": Another JumpCloud user already has this email.',
      'Row 4, column "email": Row 3 gives the same new email.',
    ]);
    assert.deepEqual(
      diff.rows.map((r) => [r.row, r.changes]),
      [[3, [{ field: "email", oldValue: "u5@x.com", newValue: "free@x.com" }]]],
    );
  });

  it("the same JumpCloud user reached twice (ids differing only in how they were found) is refused", () => {
    const parsed = parseBulkCsv("username,department\nada,Sales\nada.l,Sales\n", POLICY);
    const ada = user(1);
    const diff = diffBulkRows(parsed, {
      users: new Map([
        ["ada", [ada]],
        ["ada.l", [ada]],
      ]),
      byEmail: new Map(),
    });
    assert.deepEqual(diff.errors.map(describeBulkError), ['Row 3, column "username": Same JumpCloud user as row 2.']);
  });
});

describe("CSV files the bot writes", () => {
  const rows = [
    {
      row: 2,
      userId: HEX(1),
      label: "=cmd|' /C calc'!A0",
      changes: [
        { field: "jobTitle", oldValue: "+1", newValue: '=HYPERLINK("http://evil","x")' },
        { field: "manager", oldValue: "", newValue: HEX(9), newDisplay: "boss@x.com" },
      ],
    },
  ];

  it("the diff: one line per change, formula-looking cells neutralised, BOM and CRLF", () => {
    const csv = formatDiffCsv("username", rows);
    assert.ok(csv.startsWith("\ufeff"));
    assert.ok(csv.includes("\r\n"));
    assert.deepEqual(parse(csv, { bom: true }), [
      ["row", "username", "user_id", "field", "before", "after"],
      ["2", "'=cmd|' /C calc'!A0", HEX(1), "jobTitle", "'+1", '\'=HYPERLINK("http://evil","x")'],
      ["2", "'=cmd|' /C calc'!A0", HEX(1), "manager", "", `boss@x.com (${HEX(9)})`],
    ]);
  });

  it("the failed rows: the input's shape plus row and message, and they parse back as a bulk CSV", () => {
    const bulk: BulkSummary = {
      users: 3,
      fields: ["department", "manager"],
      skippedRows: 0,
      identity: "email",
      source: "x.csv",
    };
    const item = (over: Partial<ItemRecord>): ItemRecord => ({
      id: 1,
      requestId: 1,
      userId: HEX(1),
      state: "failed",
      seq: 1,
      attempts: 1,
      readyAt: "",
      queuedAt: "",
      batchId: 1,
      jobId: "j",
      message: "Invalid department",
      changes: [{ field: "department", oldValue: "", newValue: "Sales" }],
      label: "a@x.com",
      row: 5,
      ...over,
    });
    const csv = formatFailedRowsCsv(bulk, [
      item({
        row: 7,
        label: "c@x.com",
        message: "-bad",
        changes: [{ field: "manager", oldValue: "", newValue: HEX(9), newDisplay: "boss@x.com" }],
      }),
      item({ state: "applied", label: "b@x.com", row: 6 }),
      item({}),
      item({ state: "unknown", message: null, row: 8, label: "d@x.com" }),
    ]);
    assert.deepEqual(parse(csv, { bom: true }), [
      ["email", "department", "manager", "source_row", "jumpcloud_message"],
      ["a@x.com", "Sales", "", "5", "Invalid department"],
      ["c@x.com", "", "boss@x.com", "7", "'-bad"],
      ["d@x.com", "Sales", "", "8", "no result from JumpCloud for this user"],
    ]);
    const again = parseBulkCsv(csv, POLICY);
    assert.deepEqual(again.errors, []);
    assert.deepEqual(
      again.rows.map((r) => [r.identity, r.values]),
      [
        ["a@x.com", { department: "Sales" }],
        ["c@x.com", { manager: "boss@x.com" }],
        ["d@x.com", { department: "Sales" }],
      ],
    );
  });
});
