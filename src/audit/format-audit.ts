import { stringify } from "csv-stringify/sync";
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

/**
 * A spreadsheet runs a cell that starts with = + - @ (or tab / carriage return) as a formula:
 * prefix it with ' so it stays text (OWASP "CSV injection").
 */
export function neutraliseCell(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

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
    row.changes.map((c) => `${fieldLabel(c.field)}: ${c.oldValue} → ${c.newValue}`).join("; "),
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
