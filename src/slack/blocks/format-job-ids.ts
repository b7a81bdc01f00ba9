import type { ItemRecord } from "../../requests/types.js";
import { escapeAndTruncate } from "./escape-and-truncate.js";

/** "job `abc`" / "jobs `a`, `b`" for the JumpCloud jobs of these items; '' when none yet. */
export function formatJobIds(items: readonly ItemRecord[]): string {
  const jobs = [...new Set(items.map((i) => i.jobId).filter((j): j is string => !!j))];
  if (jobs.length === 0) return "";
  const shown = jobs.slice(0, 3).map((j) => `\`${escapeAndTruncate(j.replace(/`/g, ""), 100)}\``);
  const more = jobs.length > shown.length ? ` and ${jobs.length - shown.length} more` : "";
  return `${jobs.length === 1 ? "job" : "jobs"} ${shown.join(", ")}${more}`;
}
