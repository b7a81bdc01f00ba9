import { stringify } from "csv-stringify/sync";
import { MESSAGE_COLUMN, SOURCE_ROW_COLUMN } from "../requests/parse-bulk-csv.js";
import type { BulkSummary, ItemRecord } from "../requests/types.js";
import { neutraliseCell } from "./neutralise-cell.js";

/**
 * The rows of a bulk request that were not applied, in the CSV's own shape (identity column,
 * then the field columns with the values asked for) plus the source row and JumpCloud's message.
 * The two extra columns are ignored on input: fix the rows and submit the file again.
 */
export function formatFailedRowsCsv(bulk: BulkSummary, items: readonly ItemRecord[]): string {
  const failed = items.filter((i) => i.state === "failed" || i.state === "unknown");
  const lines: string[][] = [[bulk.identity, ...bulk.fields, SOURCE_ROW_COLUMN, MESSAGE_COLUMN]];
  for (const item of [...failed].sort((a, b) => (a.row ?? 0) - (b.row ?? 0))) {
    const values = bulk.fields.map((field) => {
      const change = item.changes.find((c) => c.field === field);
      return change ? (change.newDisplay ?? change.newValue) : "";
    });
    const message =
      item.message?.trim() || (item.state === "unknown" ? "no result from JumpCloud for this user" : "not applied");
    lines.push([item.label, ...values, item.row === null ? "" : String(item.row), message]);
  }
  return stringify(
    lines.map((cells) => cells.map(neutraliseCell)),
    { bom: true, record_delimiter: "\r\n" },
  );
}
