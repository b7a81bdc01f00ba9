import type { RequestRecord } from "../requests/types.js";
import type { Roles } from "./roles.js";

export type DeciderCheck = { ok: true } | { ok: false; message: string };

/** Re-checked at the moment of every decision (SPEC §7): approvers only, never the requester. */
export async function checkDecider(roles: Roles, request: RequestRecord, userId: string): Promise<DeciderCheck> {
  if (!(await roles.isApprover(userId))) {
    return { ok: false, message: "Only approvers can decide JumpCloud update requests." };
  }
  if (request.requesterId === userId) {
    return { ok: false, message: "You cannot decide your own request; another approver must." };
  }
  return { ok: true };
}

export function alreadyDecidedMessage(request: RequestRecord): string {
  const who = request.decidedBy ? ` by <@${request.decidedBy}>` : "";
  const what =
    request.state === "denied"
      ? "denied"
      : request.state === "cancelled"
        ? "withdrawn"
        : request.state === "expired"
          ? "expired"
          : "approved";
  return `Request #${request.id} was already ${what}${what === "withdrawn" || what === "expired" ? "" : who}.`;
}
