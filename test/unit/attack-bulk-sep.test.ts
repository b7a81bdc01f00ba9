import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_ADMIN_FIELDS, DEFAULT_SELF_SERVICE_FIELDS } from "../../src/requests/fields.js";
import { describeBulkError, parseBulkCsv } from "../../src/requests/parse-bulk-csv.js";

const policy = { selfService: DEFAULT_SELF_SERVICE_FIELDS, admin: DEFAULT_ADMIN_FIELDS };

describe("attack: bulk CSV parsing", () => {
  // Excel reads (and many tools write, to make Excel open the file right in any locale) a first
  // line `sep=;` / `sep=,` naming the delimiter. The bot takes it for the header and answers
  // 'Row 1, column "sep=": The first column must name the user', which sends the admin looking
  // at a header that is in fact correct.
  for (const [name, text] of [
    ["sep=;", "sep=;\r\nemail;department\r\nalice@example.com;Finance\r\n"],
    ["sep=,", "sep=,\r\nemail,department\r\nalice@example.com,Finance\r\n"],
    ["BOM + sep=;", "\ufeffsep=;\r\nemail;department\r\nalice@example.com;Finance\r\n"],
  ] as const) {
    it(`a first line ${name} (Excel's delimiter hint) is honoured, not read as the header`, () => {
      const csv = parseBulkCsv(text, policy);
      assert.deepEqual(csv.errors.map(describeBulkError), []);
      assert.deepEqual(
        // Excel hides the sep= line: the header is row 1 and the first user row 2, as there.
        csv.rows.map((r) => [r.row, r.identity, r.values]),
        [[2, "alice@example.com", { department: "Finance" }]],
      );
    });
  }
});

describe("attack: attribute columns differing only in case", () => {
  // diff-bulk-rows refuses `attributes.CostCode` when the user already has `costCode`, because
  // it "would add a second attribute beside the user's costCode". With both columns in one CSV
  // and a user who has neither yet, both are accepted: the user gets costCode AND CostCode.
  it("attributes.costCode and attributes.CostCode in one header are refused as the same column", () => {
    const csv = parseBulkCsv("email,attributes.costCode,attributes.CostCode\nalice@example.com,CC-1,CC-2\n", policy);
    assert.deepEqual(csv.errors.map(describeBulkError), [
      'Row 1, column "attributes.CostCode": Same attribute as the column attributes.costCode but for case: JumpCloud would keep both. Keep one.',
    ]);
  });
});

describe("attack: a sep= line that is not Excel's hint", () => {
  it("'sep=;' on a later line is data, not a hint", () => {
    const csv = parseBulkCsv("email,department\nsep=;,Finance\n", policy);
    assert.deepEqual(csv.errors.map(describeBulkError), ['Row 2, column "email": Not an email address.']);
  });
});
