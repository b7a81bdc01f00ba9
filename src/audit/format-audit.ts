import { stringify } from "csv-stringify/sync";
import { neutraliseCell } from "../csv/neutralise-cell.js";
import { fieldLabel } from "../requests/fields.js";
import type { AuditExportRow } from "../store/store.js";

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
      ? `bulk CSV (${row.bulk.source}): ${row.bulk.users} users; fields ${row.bulk.fields.map(fieldLabel).join(", ")}`
      : row.changes.map((c) => `${fieldLabel(c.field)}: ${c.oldValue} → ${c.newValue}`).join("; "),
  ];
}

export function formatAuditCsv(rows: readonly AuditExportRow[]): string {
  return stringify([[...COLUMNS], ...rows.map((r) => cells(r).map(neutraliseCell))], { record_delimiter: "\r\n" });
}

export function formatAuditJson(rows: readonly AuditExportRow[]): string {
  return `${JSON.stringify(
    rows.map((r) => Object.fromEntries(COLUMNS.map((c, i) => [c, cells(r)[i]]))),
    null,
    2,
  )}\n`;
}
