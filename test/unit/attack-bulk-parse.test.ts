import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { diffBulkRows } from "../../src/requests/diff-bulk-rows.js";
import { DEFAULT_ADMIN_FIELDS, DEFAULT_SELF_SERVICE_FIELDS } from "../../src/requests/fields.js";
import { describeBulkError, identityKey, parseBulkCsv } from "../../src/requests/parse-bulk-csv.js";
import type { JcUser } from "../../src/requests/types.js";

const policy = { selfService: DEFAULT_SELF_SERVICE_FIELDS, admin: DEFAULT_ADMIN_FIELDS };
const problems = (text: string) => parseBulkCsv(text, policy).errors.map(describeBulkError);

describe("attack: bulk CSV parsing", () => {
  // README: blank lines are read, and "the header is the first line with something in it"
  // (parse-bulk-csv.ts); ";"- and tab-separated files are read. delimiterOf() only looks at the
  // very first line of the text, so a blank line before the header makes it pick ",".
  it("a ;-separated export with a blank line before the header is read like one without", () => {
    assert.deepEqual(problems("email;department\nalice@example.com;Ops\n"), []);
    assert.deepEqual(problems("\nemail;department\nalice@example.com;Ops\n"), []);
  });

  it("a tab-separated paste with a blank first line is read", () => {
    assert.deepEqual(problems("\nemail\tdepartment\nalice@example.com\tOps\n"), []);
  });

  // A header line ending in CRLF followed by rows ending in LF (an Excel export with rows appended
  // by a script or another editor): csv-parse locks onto "\r\n" and reads every LF row into one
  // record, so the admin is told "Row 2: 3 cells but the header has 2 columns", which is not true.
  it("mixed line endings (CRLF header, LF rows): every row is read as a row", () => {
    const csv = parseBulkCsv("email,department\r\nalice@example.com,Ops\nbob@example.com,Ops\n", policy);
    assert.deepEqual(csv.errors.map(describeBulkError), []);
    assert.deepEqual(
      csv.rows.map((r) => r.identity),
      ["alice@example.com", "bob@example.com"],
    );
  });

  // A column whose header cell is empty is ignored without a word, even when its cells hold values.
  // (A header cell deleted by mistake silently drops that column's changes from the request.)
  it("values under an empty header cell are not dropped silently", () => {
    const csv = parseBulkCsv("email,,jobTitle\nalice@example.com,Operations,Engineer\n", policy);
    assert.deepEqual(csv.errors.map(describeBulkError), [
      "Row 2: Column 2 has a value but no name in the header: name the column or empty it.",
    ]);
    // A column with no name and no values is harmless (a spreadsheet's spacer column).
    assert.deepEqual(parseBulkCsv("email,,jobTitle\nalice@example.com,,Engineer\n", policy).errors, []);
  });
});

describe("attack: bulk diff", () => {
  const user = (n: number, username: string): JcUser => ({
    _id: n.toString(16).padStart(24, "0"),
    email: `u${n}@example.com`,
    username,
  });

  // A new email given twice in one CSV is refused at check time ("Row N gives the same new
  // email"); the same new username given to two users is not checked at all: both rows are
  // stored, approved, and one of them fails in JumpCloud ("username already exists").
  it("the same new username given to two users in one CSV is refused before storing", () => {
    const a = user(1, "a");
    const b = user(2, "b");
    const csv = parseBulkCsv("email,username\nu1@example.com,shared\nu2@example.com,shared\n", policy);
    assert.deepEqual(csv.errors, []);
    const users = new Map([
      [identityKey(a.email), [a]],
      [identityKey(b.email), [b]],
    ]);
    const diff = diffBulkRows(csv, { users, byEmail: users });
    assert.deepEqual(diff.errors.map(describeBulkError), [
      'Row 3, column "username": Row 2 gives the same new username.',
    ]);
    assert.deepEqual(
      diff.rows.map((r) => r.row),
      [2],
      "the first row alone is fine; nothing is stored while any row has a problem",
    );
  });
});

describe("attack: a very wide header", () => {
  // Work per column grew with the square of the columns: a 0.5 MB file of 30,000 attribute
  // columns blocked the bot's one event loop for 40 s. The header is now capped.
  it("more than 100 named columns: one problem with the count, no per-column work", () => {
    const header = `email,${Array.from({ length: 30_000 }, (_, i) => `attributes.a${i}`).join(",")}`;
    assert.deepEqual(problems(`${header}\nalice@example.com,x\n`), [
      "Row 1: At most 100 columns; this header has 30,001. Split the CSV.",
    ]);
  });

  it("100 named columns and trailing empty header cells (a spreadsheet export) are read", () => {
    const header = `email,${Array.from({ length: 99 }, (_, i) => `attributes.a${i}`).join(",")}${",".repeat(500)}`;
    const csv = parseBulkCsv(`${header}\nalice@example.com,x\n`, policy);
    assert.deepEqual(csv.errors, []);
    assert.equal(csv.fields.length, 99);
    assert.deepEqual(csv.rows[0]?.values, { "attributes.a0": "x" });
  });
});
