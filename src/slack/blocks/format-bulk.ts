import { fieldLabel } from "../../requests/fields.js";
import type { BulkSummary, ItemRecord, RequestRow } from "../../requests/types.js";
import { escapeAndTruncate } from "./escape-and-truncate.js";
import { fitLines } from "./fit-lines.js";
import { formatChange } from "./format-changes.js";

const n = (count: number) => count.toLocaleString("en-US");
export const plural = (count: number, one: string, many = `${one}s`) => `${n(count)} ${count === 1 ? one : many}`;

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

export interface BulkProgress {
  users: number;
  applied: number;
  failed: number;
  /** Not sent yet, or sent and waiting for JumpCloud's results. */
  waiting: number;
  callsSent: number;
  /** Calls sent plus those the waiting users still need (an estimate: batches are shared). */
  callsTotal: number;
}

export function bulkProgress(items: readonly ItemRecord[], batchMaxSize: number): BulkProgress {
  const jobs = new Set(items.map((i) => i.jobId).filter((j): j is string => j !== null));
  const unsent = items.filter((i) => i.state === "queued" || i.state === "sending").length;
  const applied = items.filter((i) => i.state === "applied").length;
  const failed = items.filter((i) => i.state === "failed" || i.state === "unknown").length;
  return {
    users: items.length,
    applied,
    failed,
    waiting: items.length - applied - failed,
    callsSent: jobs.size,
    callsTotal: jobs.size + Math.ceil(unsent / Math.max(1, batchMaxSize)),
  };
}

/** `Calls sent: 3 of 5 · applied 250 · failed 2 · waiting 248 (of 500 users)`. */
export function formatBulkProgress(p: BulkProgress): string {
  return `Calls sent: ${n(p.callsSent)} of ${n(p.callsTotal)} · applied ${n(p.applied)} · failed ${n(p.failed)} · waiting ${n(p.waiting)} (of ${plural(p.users, "user")})`;
}
