export const ELLIPSIS = "…";

/**
 * Shortens `text` to at most `max` UTF-16 code units, ending with `…` when cut.
 * Never splits a surrogate pair (an emoji is kept whole or dropped whole).
 */
export function truncate(text: string, max: number): string {
  const limit = Math.max(0, Math.floor(max));
  if (text.length <= limit) return text;
  if (limit < ELLIPSIS.length) return "";
  let end = limit - ELLIPSIS.length;
  if (end > 0 && isHighSurrogate(text.charCodeAt(end - 1))) end -= 1;
  return `${text.slice(0, end)}${ELLIPSIS}`;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
