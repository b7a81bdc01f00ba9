import type { ItemRecord } from "../../requests/types.js";
import { plural } from "./plural.js";

const n = (count: number) => count.toLocaleString("en-US");

export interface BulkProgress {
  users: number;
  applied: number;
  failed: number;
  /** Not sent yet, or sent and waiting for JumpCloud's results. */
  waiting: number;
  callsSent: number;
  /** Calls sent plus those the waiting users still need (an estimate: batches are shared). */
  callsTotal: number;
}

export function bulkProgress(items: readonly ItemRecord[], batchMaxSize: number): BulkProgress {
  const jobs = new Set(items.map((i) => i.jobId).filter((j): j is string => j !== null));
  const unsent = items.filter((i) => i.state === "queued" || i.state === "sending").length;
  const applied = items.filter((i) => i.state === "applied").length;
  const failed = items.filter((i) => i.state === "failed" || i.state === "unknown").length;
  return {
    users: items.length,
    applied,
    failed,
    waiting: items.length - applied - failed,
    callsSent: jobs.size,
    callsTotal: jobs.size + Math.ceil(unsent / Math.max(1, batchMaxSize)),
  };
}

/** `Calls sent: 3 of 5 · applied 250 · failed 2 · waiting 248 (of 500 users)`. */
export function formatBulkProgress(p: BulkProgress): string {
  return `Calls sent: ${n(p.callsSent)} of ${n(p.callsTotal)} · applied ${n(p.applied)} · failed ${n(p.failed)} · waiting ${n(p.waiting)} (of ${plural(p.users, "user")})`;
}
