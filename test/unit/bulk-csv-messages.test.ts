import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_ADMIN_FIELDS, DEFAULT_SELF_SERVICE_FIELDS } from "../../src/requests/fields.js";
import { describeBulkError, parseBulkCsv } from "../../src/requests/parse-bulk-csv.js";

const policy = { selfService: DEFAULT_SELF_SERVICE_FIELDS, admin: DEFAULT_ADMIN_FIELDS };
const problems = (text: string) => parseBulkCsv(text, policy).errors.map(describeBulkError);

/** Mistakes a newcomer made in a trial, and the message that points at the fix. */
describe("bulk CSV messages that point at the fix", () => {
  it("a wrong first column comes with the header's other problems: one round of fixes", () => {
    const found = problems("mail,title,phone.work\nada@example.com,Boss,abc\n");
    assert.equal(found.length, 2);
    assert.equal(found[0], 'Row 1, column "mail": The first column must name the user: id, email or username.');
    assert.match(
      found[1] ?? "",
      /^Row 1, column "title": Unknown column \(column 2\)\. Allowed after the user column: firstname, /,
    );
  });

  it("a value under a trailing empty header cell names the column with no name", () => {
    assert.deepEqual(problems("email,jobTitle,\nada@example.com,Boss,oops\n"), [
      "Row 2: Column 3 has a value but no name in the header: name the column or empty it.",
    ]);
  });

  it("cells beyond the header still say how many", () => {
    assert.deepEqual(problems("email,jobTitle,\nada@example.com,Boss,,extra\n"), [
      "Row 2: 4 cells but the header has 3 columns.",
    ]);
  });

  it("a ;-separated row in a comma file says so, not 'not an email address'", () => {
    assert.deepEqual(problems("email,jobTitle\nada@example.com;Countess\nbob@example.com,Builder\n"), [
      'Row 2: 1 cell but the header has 2 columns: this row is separated by ";", the header by ",". Use one separator.',
    ]);
  });

  it("a row giving only the user is counted as giving no value, not refused", () => {
    const csv = parseBulkCsv("email,jobTitle\nada@example.com\n", policy);
    assert.deepEqual(csv.errors, []);
    assert.deepEqual(
      csv.rows.map((r) => [r.row, r.values]),
      [[2, {}]],
    );
  });
});
