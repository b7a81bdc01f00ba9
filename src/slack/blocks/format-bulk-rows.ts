import type { RequestRow } from "../../requests/types.js";
import { escapeAndTruncate } from "./escape-and-truncate.js";
import { fitLines } from "./fit-lines.js";
import { formatChange } from "./format-changes.js";
import { plural } from "./plural.js";

/** One line per row, `• *label* (row 4): *Department*: a → b; …`, within `max` characters. */
export function formatBulkRows(rows: readonly RequestRow[], max: number, total = rows.length): string {
  const lines = rows.map(
    (r) =>
      `• *${escapeAndTruncate(r.label, 200)}* (row ${r.row}): ${r.changes.map((c) => formatChange(c, 80)).join("; ")}`,
  );
  const hidden = total - rows.length;
  const more = (left: number) => `…and ${plural(left + hidden, "more user")}`;
  const fitted = fitLines(lines, max - (hidden > 0 ? more(0).length + 1 : 0), more);
  const cut = fitted !== lines.join("\n");
  return hidden > 0 && !cut ? `${fitted}\n${more(0)}` : fitted;
}
