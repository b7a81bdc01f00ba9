import type { RequestState } from "../../requests/types.js";

const WORDS: Readonly<Record<RequestState, string>> = {
  pending: "Waiting for approval",
  approved: "Approved, queued for JumpCloud",
  queued: "Queued for JumpCloud",
  submitted: "Sent to JumpCloud, waiting for results",
  applied: "Applied in JumpCloud",
  partially_applied: "Partially applied in JumpCloud",
  failed: "Not applied",
  denied: "Denied",
  cancelled: "Withdrawn by the requester",
  expired: "Expired without a decision",
};

/** A request state as people read it ("Queued for JumpCloud"). */
export function stateInWords(state: RequestState): string {
  return WORDS[state];
}
