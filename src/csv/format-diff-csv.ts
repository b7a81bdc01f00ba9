import { stringify } from "csv-stringify/sync";
import type { IdentityColumn, RequestRow } from "../requests/types.js";
import { neutraliseCell } from "./neutralise-cell.js";

/**
 * A bulk request's full before → after diff, one line per changed field (every cell
 * neutralised): `row, <identity>, user_id, field, before, after`. Managers show their new email
 * next to the id.
 */
export function formatDiffCsv(identity: IdentityColumn, rows: readonly RequestRow[]): string {
  const lines: string[][] = [["row", identity, "user_id", "field", "before", "after"]];
  for (const row of rows) {
    for (const change of row.changes) {
      const after = change.newDisplay ? `${change.newDisplay} (${change.newValue})` : change.newValue;
      const before =
        change.oldDisplay && change.oldValue ? `${change.oldDisplay} (${change.oldValue})` : change.oldValue;
      lines.push([String(row.row), row.label, row.userId, change.field, before, after]);
    }
  }
  return stringify(
    lines.map((cells) => cells.map(neutraliseCell)),
    { bom: true, record_delimiter: "\r\n" },
  );
}
