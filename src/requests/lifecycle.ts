import type { ItemState, RequestState } from "./types.js";

/**
 * The request lifecycle of SPEC §4 as a pure table. The store applies a transition only when
 * the stored state is still the `from` state, so concurrent deciders cannot both win.
 */
export type RequestEvent =
  | "approve"
  | "deny"
  | "cancel"
  | "expire"
  | "queue"
  | "submit"
  | "apply"
  | "partially_apply"
  | "fail";

const TRANSITIONS: Readonly<Record<RequestState, Partial<Record<RequestEvent, RequestState>>>> = {
  pending: { approve: "approved", deny: "denied", cancel: "cancelled", expire: "expired" },
  approved: { queue: "queued", fail: "failed" },
  queued: { submit: "submitted", apply: "applied", partially_apply: "partially_applied", fail: "failed" },
  submitted: { queue: "queued", apply: "applied", partially_apply: "partially_applied", fail: "failed" },
  applied: {},
  partially_applied: {},
  failed: {},
  denied: {},
  cancelled: {},
  expired: {},
};

export class TransitionError extends Error {
  readonly code = "invalid_transition";
  constructor(
    readonly from: RequestState,
    readonly event: RequestEvent,
  ) {
    super(`A request in state "${from}" cannot ${event.replace("_", " ")}.`);
  }
}

export function nextState(from: RequestState, event: RequestEvent): RequestState {
  const to = TRANSITIONS[from][event];
  if (!to) throw new TransitionError(from, event);
  return to;
}

export function canTransition(from: RequestState, event: RequestEvent): boolean {
  return TRANSITIONS[from][event] !== undefined;
}

export function isFinal(state: RequestState): boolean {
  return Object.keys(TRANSITIONS[state]).length === 0;
}

/** Has a decision been taken (so the approval buttons must go)? */
export function isDecided(state: RequestState): boolean {
  return state !== "pending";
}

const ITEM_FINAL: readonly ItemState[] = ["applied", "failed", "unknown"];
export function isItemFinal(state: ItemState): boolean {
  return ITEM_FINAL.includes(state);
}

/**
 * Where a request stands once its items moved: still going, or its final outcome
 * (all applied → applied, none → failed, some → partially_applied).
 */
export function requestEventForItems(items: readonly { state: ItemState }[]): RequestEvent | undefined {
  if (items.length === 0) return undefined;
  if (!items.every((i) => isItemFinal(i.state))) {
    return items.some((i) => i.state === "submitted" || isItemFinal(i.state)) ? "submit" : undefined;
  }
  const applied = items.filter((i) => i.state === "applied").length;
  if (applied === items.length) return "apply";
  return applied === 0 ? "fail" : "partially_apply";
}
