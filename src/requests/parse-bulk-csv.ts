import { CsvError, parse } from "csv-parse/sync";
import { z } from "zod";
import { bulkColumns, type FieldPolicy, mayEditField } from "./field-policy.js";
import { fieldDef, isAttributeField, STANDARD_FIELDS } from "./fields.js";
import type { FieldKey, IdentityColumn } from "./types.js";
import { valueError } from "./validate-changes.js";

export const BULK_MAX_ROWS = 5000;
/** Far more than the fields there are; bounds the work a hostile header can cause. */
export const BULK_MAX_COLUMNS = 100;
/** Columns of the failed-rows CSV the bot sends back; ignored on input so it can be resubmitted. */
export const MESSAGE_COLUMN = "jumpcloud_message";
export const SOURCE_ROW_COLUMN = "source_row";
const IGNORED_COLUMNS = [MESSAGE_COLUMN, SOURCE_ROW_COLUMN];
const IDENTITY_COLUMNS: readonly IdentityColumn[] = ["id", "email", "username"];
const JUMPCLOUD_ID = /^[0-9a-f]{24}$/i;

export interface BulkCsvRow {
  /** Row number as a spreadsheet shows it: the header is row 1, the first data row 2. */
  row: number;
  identity: string;
  /** Field key → trimmed value; empty cells (leave unchanged) are left out. */
  values: Record<FieldKey, string>;
}

export interface BulkError {
  row?: number;
  column?: string;
  message: string;
}

export interface BulkCsv {
  identity: IdentityColumn;
  /** Field columns as keys, in header order. */
  fields: FieldKey[];
  rows: BulkCsvRow[];
  errors: BulkError[];
}

/** `Row 4, column "department": …` — where the error is, then what. */
export function describeBulkError(error: BulkError): string {
  const where = [
    error.row !== undefined ? `Row ${error.row}` : "",
    error.column !== undefined ? `column "${error.column}"` : "",
  ]
    .filter(Boolean)
    .join(", ");
  return where ? `${where}: ${error.message}` : error.message;
}

/** Normalised identity for comparing: emails and usernames are case-insensitive in JumpCloud. */
export function identityKey(value: string): string {
  // Ids are hexadecimal: case does not matter for them either.
  return value.toLowerCase();
}

/**
 * Undoes the bot's own CSV neutralisation (`'=…`, `'+…`, see neutraliseCell), so a CSV the bot
 * wrote (the failed rows) can be submitted again as it is.
 */
function unneutralise(value: string): string {
  return /^'[=+\-@]/.test(value) ? value.slice(1) : value;
}

/**
 * Reads a bulk CSV (SPEC §5) with csv-parse: BOM, quoted commas and line breaks, CRLF and blank
 * lines are the library's job. The first column names the user (`id`, `email` or `username`);
 * the others are fields, by key (`jobTitle`, `attributes.costCode`, `phone.work`) or label
 * ("Job title"), case-insensitive, among those the policy lets admins set. Every cell is
 * checked here; nothing is looked up.
 */
export function parseBulkCsv(input: string, policy: FieldPolicy): BulkCsv {
  const allowed = (key: FieldKey) => mayEditField(policy, key, true);
  // Excel's delimiter hint (`sep=;` as the first line) names the delimiter; Excel hides the
  // line, so the header is row 1 there and here.
  const hint = /^\ufeff?sep=(.)[ \t]*(\r\n|\n|\r|$)/i.exec(input);
  const text = hint ? input.slice(hint[0].length) : input;
  const delimiter = hint?.[1] ?? delimiterOf(text);
  let records: string[][];
  try {
    records = parse(text, {
      bom: true,
      delimiter,
      // Any line ending, also mixed (rows appended by another tool to an Excel export).
      record_delimiter: ["\r\n", "\n", "\r"],
      relax_column_count: true,
      // Blank lines are kept here (and skipped below) so rows keep their spreadsheet numbers.
      skip_empty_lines: false,
    }) as string[][];
  } catch (error) {
    const line = error instanceof CsvError ? (error as CsvError & { lines?: number }).lines : undefined;
    const reason = error instanceof CsvError ? csvProblem(error.code) : "it is not valid CSV";
    return empty([{ message: `The CSV could not be read${line ? ` (near line ${line})` : ""}: ${reason}.` }]);
  }
  const blank = (record: string[]) => record.every((cell) => cell.trim() === "");
  // The header is the first line with something in it; every line counts as a row, as in a sheet.
  const start = records.findIndex((record) => !blank(record));
  const headerCells = records[start];
  if (start < 0 || !headerCells) {
    return empty([{ message: "The CSV is empty: give a header row and at least one row." }]);
  }
  const data = records
    .slice(start + 1)
    .map((record, i) => ({ record, row: start + i + 2 }))
    .filter(({ record }) => !blank(record));

  const names = headerCells.map((h) => h.trim());
  // Spreadsheets export trailing empty header cells; they name nothing (a value under one is
  // refused below, as under any unnamed column).
  const headerWidth = names.length;
  while (names.length > 1 && names.at(-1) === "") names.pop();
  const named = names.filter((n) => n !== "").length;
  if (named > BULK_MAX_COLUMNS) {
    return empty([
      {
        row: start + 1,
        message: `At most ${BULK_MAX_COLUMNS} columns; this header has ${named.toLocaleString("en-US")}. Split the CSV.`,
      },
    ]);
  }
  const first = (names[0] ?? "").toLowerCase().replace(/^_id$/, "id");
  const errors: BulkError[] = [];
  // Without the identity no row can be read, but the other columns are still checked: one round.
  const identityKnown = IDENTITY_COLUMNS.includes(first as IdentityColumn);
  if (!identityKnown) {
    errors.push({
      row: start + 1,
      column: names[0] ?? "",
      message: "The first column must name the user: id, email or username.",
    });
  }
  const identity = (identityKnown ? first : "email") as IdentityColumn;
  const fields: FieldKey[] = [];
  /** Column position → field key; undefined for ignored columns. */
  const keyAt: (FieldKey | undefined)[] = [undefined];
  /** Positions of columns with no name: a value under one would be dropped, so it is refused. */
  const unnamed: number[] = [];
  names.slice(1).forEach((name, i) => {
    const key = columnKey(name);
    if (name === "" || IGNORED_COLUMNS.includes(name.toLowerCase())) {
      if (name === "") unnamed.push(i + 1);
      keyAt.push(undefined);
      return;
    }
    const header = start + 1;
    if (!key) {
      // The first unknown column says which ones are allowed; the others just say where.
      const first = !errors.some((e) => e.message.startsWith("Unknown column"));
      errors.push({
        row: header,
        column: name,
        message: `Unknown column (column ${i + 2}).${first ? ` Allowed after ${identityKnown ? `"${names[0]}"` : "the user column"}: ${bulkColumns(policy).join(", ")}; keys or labels, any case.` : ""}`,
      });
    } else if (!allowed(key)) {
      errors.push({ row: header, column: name, message: "This field may not be changed by the bot." });
    } else if (fields.includes(key)) {
      errors.push({ row: header, column: name, message: "This field has two columns." });
    } else if (isAttributeField(key) && fields.some((f) => f.toLowerCase() === key.toLowerCase())) {
      // Both would be kept: JumpCloud's attribute names are case-sensitive.
      const other = fields.find((f) => f.toLowerCase() === key.toLowerCase());
      errors.push({
        row: header,
        column: name,
        message: `Same attribute as the column ${other} but for case: JumpCloud would keep both. Keep one.`,
      });
    }
    const taken = (k: FieldKey) => fields.some((f) => f.toLowerCase() === k.toLowerCase());
    keyAt.push(key && !taken(key) && allowed(key) ? key : undefined);
    if (key && allowed(key) && !taken(key)) fields.push(key);
  });
  for (let at = names.length; at < headerWidth; at++) unnamed.push(at);
  if (!identityKnown) return empty(errors);
  if (errors.length === 0 && fields.length === 0) {
    errors.push({ message: `No field to change: add columns after "${names[0]}", e.g. department or jobTitle.` });
  }
  if (data.length === 0) errors.push({ message: "The CSV has a header but no rows." });
  if (data.length > BULK_MAX_ROWS) {
    errors.push({
      message: `At most ${BULK_MAX_ROWS.toLocaleString("en-US")} rows per request; this CSV has ${data.length.toLocaleString("en-US")}. Split it.`,
    });
  }
  // Header problems do not hide the rows' own: the known columns are still checked, so one
  // round of fixes is enough. (No rows, too many rows or no field at all stop here.)
  if (data.length === 0 || data.length > BULK_MAX_ROWS || fields.length === 0) {
    return { identity, fields, rows: [], errors };
  }

  const rows: BulkCsvRow[] = [];
  const seen = new Map<string, number>();
  for (const { record, row } of data) {
    const extra = record.slice(headerWidth).filter((c) => c.trim() !== "");
    if (extra.length > 0) {
      errors.push({ row, message: `${record.length} cells but the header has ${headerWidth} columns.` });
      continue;
    }
    const other = [";", ",", "\t"].find((d) => d !== delimiter && (record[0] ?? "").includes(d));
    if (record.length === 1 && names.length > 1 && other) {
      // A row pasted from another export: say so rather than call the whole line a bad email.
      const name = (d: string) => (d === "\t" ? "tabs" : `"${d}"`);
      errors.push({
        row,
        message: `1 cell but the header has ${names.length} columns: this row is separated by ${name(other)}, the header by ${name(delimiter)}. Use one separator.`,
      });
      continue;
    }
    const orphan = unnamed.find((at) => (record[at] ?? "").trim() !== "");
    if (orphan !== undefined) {
      errors.push({
        row,
        message: `Column ${orphan + 1} has a value but no name in the header: name the column or empty it.`,
      });
      continue;
    }
    // Unneutralised as the field cells are: the bot writes "'-ops@example.com" for "-ops@…".
    const who = unneutralise((record[0] ?? "").trim());
    const whoError = identityError(identity, who);
    if (whoError) {
      errors.push({ row, column: names[0] ?? identity, message: whoError });
      continue;
    }
    const key = identityKey(who);
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      errors.push({ row, column: names[0] ?? identity, message: `Same user as row ${earlier}.` });
      continue;
    }
    seen.set(key, row);
    const values: Record<FieldKey, string> = {};
    keyAt.forEach((field, at) => {
      const raw = field ? unneutralise((record[at] ?? "").trim()) : "";
      if (!field || raw === "") return;
      const def = fieldDef(field);
      const problem =
        def?.kind === "manager"
          ? z.email().safeParse(raw).success
            ? undefined
            : "Give the manager's email address."
          : def
            ? valueError(def, raw)
            : "Unknown field.";
      if (problem) errors.push({ row, column: names[at] ?? field, message: problem });
      else values[field] = raw;
    });
    rows.push({ row, identity: who, values });
  }
  return { identity, fields, rows, errors };
}

/** Spreadsheets in many locales export with ";" (or tabs when copied): read the header to tell. */
function delimiterOf(text: string): string {
  // The header is the first line with something in it.
  const first =
    text
      .replace(/^\ufeff/, "")
      .split(/\r\n|\n|\r/)
      .find((line) => line.trim() !== "") ?? "";
  if (first.includes(",")) return ",";
  if (first.includes(";")) return ";";
  if (first.includes("\t")) return "\t";
  return ",";
}

function empty(errors: BulkError[]): BulkCsv {
  return { identity: "email", fields: [], rows: [], errors };
}

/** A header cell as a field key: the key itself or its label, any case; attributes keep their name. */
function columnKey(name: string): FieldKey | undefined {
  const lower = name.toLowerCase();
  if (lower.startsWith("attributes.")) {
    const key = `attributes.${name.slice("attributes.".length).trim()}`;
    return fieldDef(key) && isAttributeField(key) ? key : undefined;
  }
  return STANDARD_FIELDS.find((f) => f.key.toLowerCase() === lower || f.label.toLowerCase() === lower)?.key;
}

function identityError(identity: IdentityColumn, value: string): string | undefined {
  if (value === "") return `Empty: every row needs the user's ${identity}.`;
  if (identity === "id" && !JUMPCLOUD_ID.test(value)) return "Not a JumpCloud user id (24 hexadecimal characters).";
  if (identity === "email" && !z.email().safeParse(value).success) return "Not an email address.";
  if (identity === "username" && /\s/.test(value)) return "A username has no spaces.";
  return undefined;
}

function csvProblem(code: string): string {
  // csv-parse names most codes CSV_…, but not all (INVALID_OPENING_QUOTE).
  if (code.endsWith("QUOTE_NOT_CLOSED")) return "a quoted value is never closed";
  if (code.endsWith("INVALID_CLOSING_QUOTE") || code.endsWith("INVALID_OPENING_QUOTE")) {
    return 'a quote (") sits inside a value that is not quoted; quote the value and double the quote';
  }
  return "it is not valid CSV";
}
