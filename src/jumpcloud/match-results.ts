import type { ItemRecord } from "../requests/types.js";
import type { ItemOutcome } from "../store/store.js";
import type { JobResult } from "./jumpcloud-client.js";

/**
 * Maps a finished job's result records to its items. The record shape beyond
 * id/status/statusMsg/meta/persistedFields is undocumented (SPEC §7a): look for the user id in
 * `meta` and `persistedFields`, fall back to order when counts match, else mark the item unknown.
 */
export function matchResults(items: readonly ItemRecord[], rawResults: readonly unknown[]): ItemOutcome[] {
  // Records that are not objects carry nothing we can trust: they match nobody.
  const results = rawResults.map((r) =>
    r && typeof r === "object" && !Array.isArray(r) ? (r as JobResult) : undefined,
  );
  const used = new Set<number>();
  const byUser = new Map<string, number>();
  results.forEach((r, index) => {
    if (!r) return;
    for (const id of userIdsIn(r)) if (!byUser.has(id)) byUser.set(id, index);
  });
  const sameCount = results.length === items.length;
  return items.map((item, position) => {
    let index = byUser.get(item.userId);
    const byOrder = results[position];
    if (index === undefined && sameCount && byOrder && !used.has(position) && userIdsIn(byOrder).length === 0)
      index = position;
    if (index === undefined || used.has(index)) {
      return { itemId: item.id, state: "unknown", message: "JumpCloud reported no result for this user" };
    }
    used.add(index);
    const result = results[index] as JobResult;
    if (result.status === "finished") return { itemId: item.id, state: "applied", message: null };
    if (typeof result.status !== "string") {
      return { itemId: item.id, state: "unknown", message: "JumpCloud's result for this user had no status" };
    }
    const message =
      typeof result.statusMsg === "string" && result.statusMsg ? result.statusMsg : `status ${String(result.status)}`;
    return { itemId: item.id, state: "failed", message };
  });
}

export function isPending(result: unknown): boolean {
  return !!result && typeof result === "object" && (result as JobResult).status === "pending";
}

const ID_KEYS = ["systemUserId", "userId", "user_id", "systemuserId", "id", "_id", "systemUser", "user"];

function userIdsIn(result: JobResult | undefined): string[] {
  if (!result || typeof result !== "object") return [];
  const ids: string[] = [];
  for (const container of [result.meta, result.persistedFields]) {
    if (!container || typeof container !== "object") continue;
    for (const key of ID_KEYS) {
      const value = (container as Record<string, unknown>)[key];
      if (typeof value === "string") ids.push(value);
      else if (value && typeof value === "object") {
        const nested = (value as Record<string, unknown>).id ?? (value as Record<string, unknown>)._id;
        if (typeof nested === "string") ids.push(nested);
      }
    }
  }
  return ids;
}
