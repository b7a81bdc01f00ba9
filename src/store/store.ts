import type {
  BulkSummary,
  Change,
  ItemRecord,
  ItemState,
  RequestKind,
  RequestRecord,
  RequestRow,
  RequestState,
} from "../requests/types.js";

/**
 * The one store contract. Every method that changes state also writes, in the same
 * transaction, the audit entry and the outbox rows for the Slack side effects that follow,
 * so a crash between the change and its notification loses nothing.
 */

export interface Draft {
  id: string;
  requesterId: string;
  targetUserId: string;
  targetLabel: string;
  targetSlackId: string | null;
  isAdmin: boolean;
  /** Current values when the modal opened, per field key. */
  current: Record<string, string>;
  /** Fields the modal offered: the only ones the submission may set. */
  allowed: string[];
  managerSlackId: string | null;
  createdAt: string;
}

/** A bulk CSV whose JumpCloud check is running (between "Checking…" and its result). */
export interface BulkCheck {
  draftId: string;
  requesterId: string;
  viewId: string;
  startedAt: string;
}

export interface NewRequest {
  /** The modal it came from: a second submission of the same draft returns the first request. */
  draftId?: string | null;
  kind: RequestKind;
  requesterId: string;
  targetUserId: string;
  targetLabel: string;
  targetSlackId: string | null;
  reason: string;
  /** Single requests: the target's changes. Bulk: empty (the rows hold them). */
  changes: Change[];
  /** Bulk only: the summary and one row per user. */
  bulk?: BulkSummary | null;
  rows?: RequestRow[];
}

export type OutboxKind =
  | "post_approval"
  | "update_approval"
  | "dm_receipt"
  | "dm_decision"
  | "dm_outcome"
  | "reminder" // one nudge in the approval message's thread
  | "alert_auth" // JumpCloud refuses the API key: tell the approval channel once
  | "post_diff" // bulk: the full before → after CSV in the approval thread
  | "bulk_outcome"; // bulk: counts and the failed rows as CSV in the approval thread

export interface OutboxRecord {
  id: number;
  kind: OutboxKind;
  requestId: number;
  attempts: number;
  readyAt: string;
}

export interface AuditEntry {
  requestId: number;
  event: string;
  fromState: RequestState | null;
  toState: RequestState | null;
  actor: string; // Slack user id, or "system"
  at: string;
  detail: string | null;
}

/** An audit entry with what an auditor needs to read it alone. */
export interface AuditExportRow extends AuditEntry {
  requesterId: string;
  targetUserId: string;
  targetLabel: string;
  /** The request's changes (old → new as seen at request time); bulk: see `bulk`. */
  changes: Change[];
  bulk: BulkSummary | null;
}

/** One user's approved changes and what became of them, for `npm run audit -- --per-user`. */
export interface ItemExportRow {
  requestId: number;
  kind: RequestKind;
  requesterId: string;
  approvedBy: string | null;
  /** Bulk: the CSV row. */
  row: number | null;
  userId: string;
  label: string;
  state: ItemState;
  changes: Change[];
  message: string | null;
  /** The JumpCloud job the change was last sent in; null before it was sent. */
  jobId: string | null;
  approvedAt: string;
  updatedAt: string;
}

export type DecideResult =
  | { ok: true; request: RequestRecord }
  | { ok: false; reason: "not_found" }
  | { ok: false; reason: "already_decided"; request: RequestRecord };

export interface ItemOutcome {
  itemId: number;
  state: Extract<ItemState, "applied" | "failed" | "unknown">;
  message: string | null;
}

export interface ClaimedBatch {
  batchId: number;
  items: ItemRecord[];
  requests: RequestRecord[];
}

export interface SubmittedBatch {
  batchId: number;
  jobId: string;
  submittedAt: string;
  /** The items the job carries (state 'submitted'). */
  items: ItemRecord[];
}

export interface Store {
  ping(): Promise<void>;
  close(): Promise<void>;

  saveDraft(draft: Draft): Promise<void>;

  /** Records a running bulk check; storing its request (`createRequest`) ends it too. */
  startBulkCheck(check: BulkCheck): Promise<void>;
  /** Ends (forgets) a check; false when it was already ended (by another pass or process). */
  endBulkCheck(draftId: string): Promise<boolean>;
  /** A running check's process is alive: renew its checks (several replicas tell so apart). */
  touchBulkChecks(draftIds: readonly string[], at: string): Promise<void>;
  /**
   * Checks recorded as running; with `renewedBefore`, only those not renewed since then (their
   * process stopped). A single process lists them all at start: whatever is there was left.
   */
  listBulkChecks(renewedBefore?: string): Promise<BulkCheck[]>;
  getDraft(id: string): Promise<Draft | undefined>;

  /**
   * Stores a pending request, its audit entry, and the approval post + receipt DM to send.
   * When the draft already produced a request, that request is returned and nothing is written.
   */
  createRequest(input: NewRequest, at: string): Promise<RequestRecord>;
  getRequest(id: number): Promise<RequestRecord | undefined>;
  listRequestsByRequester(requesterId: string, limit: number): Promise<RequestRecord[]>;
  listItems(requestId: number): Promise<ItemRecord[]>;
  /** A bulk request's rows in CSV order (`limit`: the first ones only). */
  listRequestRows(requestId: number, limit?: number): Promise<RequestRow[]>;
  listAudit(requestId: number): Promise<AuditEntry[]>;
  /** Every audit entry at or after `since` (and before `until`), oldest first. */
  listAuditSince(since: string, until?: string): Promise<AuditExportRow[]>;
  /** Every user change approved at or after `since` (and before `until`), in approval order. */
  listItemsSince(since: string, until?: string): Promise<ItemExportRow[]>;
  setApprovalMessage(requestId: number, channel: string, ts: string): Promise<void>;

  /**
   * First decision wins: a compare-and-set on state 'pending'. Approve also creates one item
   * per target user and moves the request to 'queued'.
   */
  decide(input: {
    requestId: number;
    decision: "approve" | "deny";
    actor: string;
    at: string;
    note?: string | null;
  }): Promise<DecideResult>;

  /** The requester withdraws a pending request (compare-and-set, like decide). */
  cancel(input: { requestId: number; actor: string; at: string }): Promise<DecideResult>;
  /** Pending requests created before `createdBefore` become expired; returns their ids. */
  expirePending(createdBefore: string, at: string): Promise<number[]>;
  /** Pending requests created before `createdBefore` and not reminded yet get one reminder. */
  remindPending(createdBefore: string, at: string): Promise<number[]>;

  /** Oldest time a queued item became ready, or undefined when none is queued. */
  oldestReadyAt(): Promise<string | undefined>;
  countReady(now: string): Promise<number>;
  /**
   * Claims up to `max` ready items in approval order, at most one per user and none for a user
   * that already has an item in flight; marks them 'sending'.
   */
  claimBatch(max: number, now: string): Promise<ClaimedBatch | undefined>;
  /** JumpCloud accepted the job: items 'submitted', job id stored, requests 'submitted'. */
  markBatchSubmitted(batchId: number, jobId: string, at: string): Promise<void>;
  /**
   * Attempts ran out on a transient error: items go back to 'queued', ready at `readyAt`. With
   * `solo`, JumpCloud refused the batch as a whole: each of its items is sent alone from now on.
   */
  releaseBatch(batchId: number, input: { readyAt: string; message: string; at: string; solo?: boolean }): Promise<void>;
  /**
   * Final outcomes of a batch's items (results read, or a non-retryable error). With
   * `closeBatch: false` only those items are settled and the batch goes on with the rest.
   */
  completeBatch(
    batchId: number,
    outcomes: ItemOutcome[],
    at: string,
    options?: { closeBatch?: boolean },
  ): Promise<void>;
  /** Changes this bot applied to a JumpCloud user in requests finished at or after `since`. */
  listAppliedChanges(userId: string, since: string): Promise<Change[]>;
  /** An operator alert about dispatch, posted in the approval channel (carried by a request). */
  raiseAlert(requestId: number, detail: string, at: string): Promise<void>;
  /** Earliest time after `after` at which a queued item becomes ready. */
  nextReadyAfter(after: string): Promise<string | undefined>;
  listSubmittedBatches(): Promise<SubmittedBatch[]>;
  /** On start: items left 'sending' by a crash go back to 'queued' (their job id was never stored). */
  recoverSending(at: string): Promise<number>;

  /**
   * Pending rows ready by `now`, oldest first, except those queued behind an earlier row of the
   * same request that is waiting for a retry: a request's messages go out in order.
   */
  nextOutbox(now: string, limit: number): Promise<OutboxRecord[]>;
  completeOutbox(id: number): Promise<void>;
  /**
   * Marks done the pending rows of `kind` for the request after row `afterId`: a message about
   * to be rendered from the current state makes them redundant (progress updates coalesce).
   */
  skipOutbox(requestId: number, kind: OutboxKind, afterId: number): Promise<number[]>;
  retryOutbox(id: number, readyAt: string, error: string): Promise<void>;
  failOutbox(id: number, error: string): Promise<void>;
}
