import { attributeName, isAttributeField, readField } from "./fields.js";
import { type BulkCsv, type BulkError, identityKey } from "./parse-bulk-csv.js";
import type { Change, JcUser, RequestRow } from "./types.js";
import { validateChanges } from "./validate-changes.js";

/** JumpCloud users found per normalised value (see `identityKey`); several means ambiguous. */
export type FoundUsers = ReadonlyMap<string, readonly JcUser[]>;

export interface BulkDiff {
  rows: RequestRow[];
  /** Rows that match JumpCloud already. */
  skipped: number[];
  /** Rows that give no value at all (every field cell empty). */
  empty: number[];
  errors: BulkError[];
}

/**
 * Turns checked CSV rows into per-user changes against the users' current JumpCloud values
 * (SPEC §5): every row must name exactly one user, no user twice; a manager is given by email
 * and becomes that user's id; a new email must be free. Rows that change nothing are skipped.
 */
export function diffBulkRows(
  csv: BulkCsv,
  found: { users: FoundUsers; byEmail: FoundUsers; managersById?: FoundUsers },
): BulkDiff {
  const rows: RequestRow[] = [];
  const skipped: number[] = [];
  const empty: number[] = [];
  const errors: BulkError[] = [];
  const column = csv.identity;
  const rowOfUser = new Map<string, number>();
  /** `field:value` of a new email or username → the row giving it: none may be given twice. */
  const rowOfNew = new Map<string, number>();

  for (const line of csv.rows) {
    if (Object.keys(line.values).length === 0) {
      empty.push(line.row);
      continue;
    }
    const matches = found.users.get(identityKey(line.identity)) ?? [];
    if (matches.length !== 1) {
      errors.push({
        row: line.row,
        column,
        message:
          matches.length === 0
            ? `No JumpCloud user has the ${column} ${line.identity}.`
            : `${matches.length} JumpCloud users match this ${column}; use their id instead.`,
      });
      continue;
    }
    const user = matches[0] as JcUser;
    const earlier = rowOfUser.get(user._id);
    if (earlier !== undefined) {
      errors.push({ row: line.row, column, message: `Same JumpCloud user as row ${earlier}.` });
      continue;
    }
    rowOfUser.set(user._id, line.row);

    const submitted: Record<string, string> = { ...line.values };
    const current = Object.fromEntries(csv.fields.map((f) => [f, readField(user, f)]));
    let rowFailed = false;
    const managerEmail = line.values.manager;
    if (managerEmail !== undefined) {
      const managers = found.byEmail.get(managerEmail.toLowerCase()) ?? [];
      if (managers.length !== 1) {
        errors.push({
          row: line.row,
          column: "manager",
          message:
            managers.length === 0
              ? `No JumpCloud user has the email ${managerEmail}.`
              : `${managers.length} JumpCloud users have the email ${managerEmail}.`,
        });
        rowFailed = true;
      } else {
        const manager = managers[0] as JcUser;
        if (manager._id === user._id) {
          errors.push({ row: line.row, column: "manager", message: "A user cannot be their own manager." });
          rowFailed = true;
        }
        submitted.manager = manager._id;
      }
    }
    for (const field of Object.keys(line.values).filter(isAttributeField)) {
      // Attribute names are case-sensitive: `attributes.CostCode` would add a second attribute
      // beside the user's `costCode` rather than change it.
      const name = attributeName(field);
      const other = user.attributes?.find((a) => a.name !== name && a.name?.toLowerCase() === name.toLowerCase());
      if (other && !user.attributes?.some((a) => a.name === name)) {
        errors.push({
          row: line.row,
          column: field,
          message: `The user has the attribute "${other.name}" (names are case-sensitive): name the column attributes.${other.name}.`,
        });
        rowFailed = true;
      }
    }
    const checked = validateChanges(submitted, current, csv.fields);
    for (const [field, message] of Object.entries(checked.errors)) {
      errors.push({ row: line.row, column: field, message });
      rowFailed = true;
    }
    for (const field of ["email", "username"] as const) {
      const change = checked.changes.find((c) => c.field === field);
      if (!change) continue;
      const value = change.newValue.toLowerCase();
      // Emails are looked up (they must be free in JumpCloud); usernames are checked by JumpCloud.
      const owners = field === "email" ? (found.byEmail.get(value) ?? []).filter((u) => u._id !== user._id) : [];
      const twice = rowOfNew.get(`${field}:${value}`);
      if (owners.length > 0) {
        errors.push({ row: line.row, column: field, message: "Another JumpCloud user already has this email." });
        rowFailed = true;
      } else if (twice !== undefined) {
        errors.push({ row: line.row, column: field, message: `Row ${twice} gives the same new ${field}.` });
        rowFailed = true;
      }
      rowOfNew.set(`${field}:${value}`, line.row);
    }
    if (rowFailed) continue;
    if (checked.changes.length === 0) {
      skipped.push(line.row);
      continue;
    }
    const changes: Change[] = checked.changes.map((c) =>
      c.field === "manager"
        ? { ...c, newDisplay: managerEmail ?? null, oldDisplay: managerEmailOf(c.oldValue, found.managersById) }
        : c,
    );
    // Shown as JumpCloud spells it (the CSV may say ADA@EXAMPLE.COM): the approver sees who it is.
    const spelled = column === "id" ? undefined : user[column];
    rows.push({
      row: line.row,
      userId: user._id,
      label: typeof spelled === "string" ? spelled : line.identity,
      changes,
    });
  }
  return { rows, skipped, empty, errors };
}

/** The email of a current manager (by JumpCloud id), so people read who is replaced. */
function managerEmailOf(id: string, byId: FoundUsers | undefined): string | null {
  const found = id ? (byId?.get(id.toLowerCase()) ?? []) : [];
  return found.length === 1 ? (found[0]?.email ?? null) || null : null;
}

/** The current managers' ids of the rows that change the manager (to show them by email). */
export function currentManagerIds(csv: BulkCsv, users: FoundUsers): string[] {
  const ids = new Set<string>();
  for (const row of csv.rows) {
    if (row.values.manager === undefined) continue;
    const matches = users.get(identityKey(row.identity)) ?? [];
    const current = matches.length === 1 && matches[0] ? readField(matches[0], "manager") : "";
    if (current) ids.add(current);
  }
  return [...ids];
}

/**
 * The emails a CSV needs looked up besides its identities: managers, and new emails (to be
 * free). As written: a capital may tell two JumpCloud users apart (the lookup compares by case).
 */
export function emailsToLookUp(csv: BulkCsv): string[] {
  const emails = new Set<string>();
  for (const row of csv.rows) {
    if (row.values.manager) emails.add(row.values.manager);
    if (row.values.email) emails.add(row.values.email);
  }
  return [...emails];
}
