/**
 * A spreadsheet runs a cell that starts with = + - @ (or tab / carriage return) as a formula:
 * prefix it with ' so it stays text (OWASP "CSV injection"). Every CSV the bot writes uses it.
 */
export function neutraliseCell(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}
