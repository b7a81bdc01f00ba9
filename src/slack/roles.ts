import type { WebClient } from "@slack/web-api";
import type { Config } from "../config.js";
import type { Logger } from "../logger.js";

export interface Roles {
  isApprover(userId: string): Promise<boolean>;
  isAdmin(userId: string): Promise<boolean>;
}

const CACHE_MS = 60_000;

/**
 * Who may approve / administer: listed user ids, or members of a user group (read with
 * usergroups.users.list, cached briefly). Checked at the moment of each action.
 */
export function createRoles(deps: { config: Config; client: WebClient; logger: Logger; now?: () => number }): Roles {
  const now = deps.now ?? Date.now;
  const cache = new Map<string, { at: number; members: Promise<Set<string>> }>();

  async function members(groupId: string): Promise<Set<string>> {
    const hit = cache.get(groupId);
    if (hit && now() - hit.at < CACHE_MS) return hit.members;
    const members = deps.client.usergroups.users.list({ usergroup: groupId }).then((r) => new Set(r.users ?? []));
    cache.set(groupId, { at: now(), members });
    try {
      return await members;
    } catch (error) {
      cache.delete(groupId);
      // Fail closed: an unreadable group grants nothing.
      deps.logger.error({ err: error, usergroup: groupId }, "could not read user group members");
      return new Set();
    }
  }

  async function inRole(userId: string, role: { userIds: readonly string[]; usergroupId: string | undefined }) {
    if (role.userIds.includes(userId)) return true;
    return role.usergroupId ? (await members(role.usergroupId)).has(userId) : false;
  }

  return {
    isApprover: (userId) => inRole(userId, deps.config.approvers),
    isAdmin: (userId) => inRole(userId, deps.config.admins),
  };
}
