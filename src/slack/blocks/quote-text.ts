import { escapeAndTruncate } from "./escape-and-truncate.js";
import { fitLines } from "./fit-lines.js";

/**
 * User text as a mrkdwn block quote (`>` before every line), escaped, within `max` characters.
 * Trailing blank lines are dropped; a text that does not fit ends with `>…`.
 */
export function quoteText(text: string, max: number): string {
  const lines = text.replace(/\s+$/, "").split(/\r?\n|\r/);
  const lineMax = Math.max(1, max - 10);
  const quoted = lines.map((line) => `>${escapeAndTruncate(line, lineMax - 1)}`);
  return fitLines(quoted, max, () => ">…");
}
