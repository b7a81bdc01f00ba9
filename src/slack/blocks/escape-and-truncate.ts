import { escapeMrkdwn } from "./escape-mrkdwn.js";
import { ELLIPSIS } from "./truncate.js";

/**
 * Escapes user text for mrkdwn and shortens it so the ESCAPED result is at most `max` code units.
 * Cuts between characters of the original text, so an entity such as `&amp;` is never split and
 * a surrogate pair is never broken.
 */
export function escapeAndTruncate(text: string, max: number): string {
  const limit = Math.max(0, Math.floor(max));
  const escaped = escapeMrkdwn(text);
  if (escaped.length <= limit) return escaped;
  if (limit < ELLIPSIS.length) return "";
  const budget = limit - ELLIPSIS.length;
  let out = "";
  for (const char of text) {
    const piece = escapeMrkdwn(char);
    if (out.length + piece.length > budget) break;
    out += piece;
  }
  return `${out}${ELLIPSIS}`;
}
