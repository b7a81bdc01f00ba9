import { stringify } from "csv-stringify/sync";
import { neutraliseCell } from "../csv/neutralise-cell.js";
import { fieldLabel } from "../requests/fields.js";
import type { AuditExportRow, ItemExportRow } from "../store/store.js";

const COLUMNS = [
  "at",
  "request_id",
  "event",
  "from_state",
  "to_state",
  "actor",
  "requester_id",
  "target_user_id",
  "target",
  "detail",
  "changes",
] as const;

function cells(row: AuditExportRow): string[] {
  return [
    row.at,
    String(row.requestId),
    row.event,
    row.fromState ?? "",
    row.toState ?? "",
    row.actor,
    row.requesterId,
    row.targetUserId,
    row.targetLabel,
    row.detail ?? "",
    row.bulk
      ? `bulk CSV (${row.bulk.source}): ${row.bulk.users === 1 ? "1 user" : `${row.bulk.users} users`}; fields ${row.bulk.fields.map(fieldLabel).join(", ")} (per user: --per-user)`
      : row.changes.map((c) => `${fieldLabel(c.field)}: ${c.oldValue} → ${c.newValue}`).join("; "),
  ];
}

export function formatAuditCsv(rows: readonly AuditExportRow[]): string {
  return stringify([[...COLUMNS], ...rows.map((r) => cells(r).map(neutraliseCell))], {
    bom: true,
    record_delimiter: "\r\n",
  });
}

export function formatAuditJson(rows: readonly AuditExportRow[]): string {
  return `${JSON.stringify(
    rows.map((r) => Object.fromEntries(COLUMNS.map((c, i) => [c, cells(r)[i]]))),
    null,
    2,
  )}\n`;
}

const ITEM_COLUMNS = [
  "approved_at",
  "request_id",
  "kind",
  "requester_id",
  "approved_by",
  "row",
  "user_id",
  "user",
  "field",
  "before",
  "after",
  "state",
  "updated_at",
  "message",
  "job_id",
] as const;

/** One line per field changed for one user: who asked, who approved, what, and what became of it. */
function itemLines(row: ItemExportRow): string[][] {
  return row.changes.map((c) => [
    row.approvedAt,
    String(row.requestId),
    row.kind,
    row.requesterId,
    row.approvedBy ?? "",
    row.row === null ? "" : String(row.row),
    row.userId,
    row.label,
    c.field,
    c.oldDisplay && c.oldValue ? `${c.oldDisplay} (${c.oldValue})` : c.oldValue,
    c.newDisplay ? `${c.newDisplay} (${c.newValue})` : c.newValue,
    row.state,
    row.updatedAt,
    row.message ?? "",
    row.jobId ?? "",
  ]);
}

export function formatItemsCsv(rows: readonly ItemExportRow[]): string {
  const lines = rows.flatMap(itemLines).map((cells) => cells.map(neutraliseCell));
  return stringify([[...ITEM_COLUMNS], ...lines], { bom: true, record_delimiter: "\r\n" });
}

export function formatItemsJson(rows: readonly ItemExportRow[]): string {
  const lines = rows.flatMap(itemLines).map((cells) => Object.fromEntries(ITEM_COLUMNS.map((c, i) => [c, cells[i]])));
  return `${JSON.stringify(lines, null, 2)}\n`;
}
