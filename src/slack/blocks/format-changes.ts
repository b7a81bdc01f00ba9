import { fieldLabel } from "../../requests/fields.js";
import type { Change } from "../../requests/types.js";
import { escapeAndTruncate } from "./escape-and-truncate.js";
import { fitLines } from "./fit-lines.js";
import { formatValue } from "./format-value.js";
import { mentionUser } from "./mention-user.js";

/** Room for one section's text, below Slack's 3000. */
export const SECTION_TEXT_MAX = 2900;

export function pluralChanges(count: number): string {
  return count === 1 ? "1 change" : `${count} changes`;
}

/**
 * Changes as mrkdwn lines `*Label*: old → new`, all escaped, within `max` characters:
 * when they do not all fit, as many as fit and "…and K more changes".
 */
export function formatChanges(changes: readonly Change[], max = SECTION_TEXT_MAX): string {
  if (changes.length === 0) return "_(no changes)_";
  const lines = changes.map((c) => formatChange(c));
  return fitLines(lines, max, (left) => (left === 1 ? "…and 1 more change" : `…and ${left} more changes`));
}

/** `*Label*: old → new`, escaped; values shortened to `valueMax`. */
export function formatChange(c: Change, valueMax = 300): string {
  const label = escapeAndTruncate(fieldLabel(c.field), 100);
  const after = c.newDisplay
    ? `${escapeAndTruncate(c.newDisplay, valueMax)} (${formatValue(c.newValue, 40)})`
    : showValue(c.newValue, c.newSlackUser, valueMax);
  const before =
    c.oldDisplay && c.oldValue
      ? `${escapeAndTruncate(c.oldDisplay, valueMax)} (${formatValue(c.oldValue, 40)})`
      : showValue(c.oldValue, c.oldSlackUser, valueMax);
  return `*${label}*: ${before} → ${after}`;
}

/** A value, or for a manager the Slack person it stands for (the id stays as a hint). */
function showValue(value: string, slackUser: string | null | undefined, max = 300): string {
  if (!slackUser || value === "") return formatValue(value, max);
  return `${mentionUser(slackUser)} (${formatValue(value, 40)})`;
}
