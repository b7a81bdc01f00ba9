import type { ItemRecord, RequestRecord } from "../../requests/types.js";
import { escapeAndTruncate } from "./escape-and-truncate.js";
import { fitLines } from "./fit-lines.js";

const MESSAGE_MAX = 400;

/**
 * One line per item that did not apply (failed, or no result matched), with JumpCloud's message
 * escaped and shortened, within `max` characters. The target is named by the request's target
 * label (or CSV identity), else by its JumpCloud id.
 */
export function formatItemOutcomes(request: RequestRecord, items: readonly ItemRecord[], max: number): string {
  const bad = items.filter((i) => i.state === "failed" || i.state === "unknown");
  const lines = bad.map((item) => {
    const label = item.label || (item.userId === request.targetUserId ? request.targetLabel : "");
    const who = label ? escapeAndTruncate(label, 200) : `\`${escapeAndTruncate(item.userId.replace(/`/g, ""), 100)}\``;
    const fallback = item.state === "unknown" ? "no result from JumpCloud for this user" : "no message from JumpCloud";
    const message = escapeAndTruncate((item.message ?? "").trim() || fallback, MESSAGE_MAX);
    return `• ${who}: ${message}`;
  });
  return fitLines(lines, max, (left) => `…and ${left} more`);
}
