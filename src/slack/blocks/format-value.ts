import { escapeAndTruncate } from "./escape-and-truncate.js";

export const EMPTY_VALUE = "_(empty)_";

/**
 * A field value for display in mrkdwn: `_(empty)_` for '', else escaped, line breaks shown as
 * spaces, and shortened so the result is at most `max` characters.
 */
export function formatValue(value: string, max = 300): string {
  if (value === "") return EMPTY_VALUE;
  return escapeAndTruncate(value.replace(/\s*[\r\n]+\s*/g, " "), max);
}
