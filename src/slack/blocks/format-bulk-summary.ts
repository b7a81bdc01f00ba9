import { fieldLabel } from "../../requests/fields.js";
import type { BulkSummary } from "../../requests/types.js";
import { escapeAndTruncate } from "./escape-and-truncate.js";
import { plural } from "./plural.js";

const n = (count: number) => count.toLocaleString("en-US");

/** Room for the field names in a summary line; the rest is counted. */
const FIELDS_MAX = 1500;

/** `*120 users* · fields: Department, Job title · 3 rows skipped (nothing to change)`. */
export function formatBulkSummary(bulk: BulkSummary): string {
  const names = bulk.fields.map((f) => escapeAndTruncate(fieldLabel(f), 100));
  let fields = names.join(", ");
  if (fields.length > FIELDS_MAX) {
    const kept: string[] = [];
    for (const name of names) {
      if ([...kept, name].join(", ").length > FIELDS_MAX - 40) break;
      kept.push(name);
    }
    fields = `${kept.join(", ")} and ${n(names.length - kept.length)} more`;
  }
  const parts = [`*${plural(bulk.users, "user")}*`, `${bulk.fields.length === 1 ? "field" : "fields"}: ${fields}`];
  if (bulk.skippedRows > 0) parts.push(`${plural(bulk.skippedRows, "row")} skipped (nothing to change)`);
  return parts.join(" · ");
}
