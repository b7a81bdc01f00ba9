/** Domain types shared by every layer. Plain data: safe to store, render and test. */

export const REQUEST_STATES = [
  "pending",
  "approved",
  "queued",
  "submitted",
  "applied",
  "partially_applied",
  "failed",
  "denied",
  "cancelled",
  "expired",
] as const;
export type RequestState = (typeof REQUEST_STATES)[number];

/** One dispatch unit: all approved changes of one request for one JumpCloud user. */
export const ITEM_STATES = [
  "queued", // waiting for a batch (maybe after a retry delay)
  "sending", // claimed by a batch; PATCH may be on the wire
  "submitted", // JumpCloud accepted the job; results not read yet
  "applied",
  "failed",
  "unknown", // job finished but no result could be matched to this user
] as const;
export type ItemState = (typeof ITEM_STATES)[number];

export type RequestKind = "single" | "bulk";

/** A JumpCloud field as this bot names it: `firstname`, `phone.work`, `attributes.costCode`… */
export type FieldKey = string;

export interface Change {
  field: FieldKey;
  /** Value seen in JumpCloud when the request was made ('' when unset). */
  oldValue: string;
  newValue: string;
  /** Manager only: the Slack users behind the old and new JumpCloud ids, for people to read. */
  oldSlackUser?: string | null;
  newSlackUser?: string | null;
  /** Manager from a CSV: the email it was given by, for people to read. */
  newDisplay?: string | null;
  /** Manager from a CSV: the email of the manager it replaces, for people to read. */
  oldDisplay?: string | null;
}

/** Which CSV column named the users of a bulk request. */
export type IdentityColumn = "id" | "email" | "username";

/** What a bulk (CSV) request is, in numbers people read on the approval message. */
export interface BulkSummary {
  users: number;
  /** Field keys the CSV changes, in column order. */
  fields: FieldKey[];
  /** Rows that matched JumpCloud already: nothing to do. */
  skippedRows: number;
  identity: IdentityColumn;
  /** File name, or "pasted CSV". */
  source: string;
}

/** One user's changes in a bulk request, as resolved and checked before it was stored. */
export interface RequestRow {
  /** Row of the CSV it came from, as a spreadsheet numbers it (the header is row 1). */
  row: number;
  userId: string;
  /** The identity as written in the CSV (email, username or id). */
  label: string;
  changes: Change[];
}

export interface RequestRecord {
  id: number;
  kind: RequestKind;
  state: RequestState;
  requesterId: string; // Slack user id
  targetUserId: string; // JumpCloud user id
  targetLabel: string; // what people recognise: email or username
  targetSlackId: string | null;
  reason: string;
  changes: Change[];
  createdAt: string; // ISO 8601
  decidedBy: string | null;
  decidedAt: string | null;
  decisionNote: string | null; // deny reason
  approvalChannel: string | null;
  approvalTs: string | null;
  /** Short status line for people (e.g. "waiting for JumpCloud, next try at …"). */
  statusNote: string | null;
  /** Bulk requests only (their changes are per user, in rows and items). */
  bulk: BulkSummary | null;
}

export interface ItemRecord {
  id: number;
  requestId: number;
  userId: string; // JumpCloud user id
  state: ItemState;
  seq: number; // approval order; one user's items go out in this order
  attempts: number;
  readyAt: string; // not sent before this time
  queuedAt: string; // when it was approved: transient failures give up DISPATCH_GIVE_UP_HOURS after
  batchId: number | null;
  jobId: string | null;
  message: string | null; // JumpCloud's statusMsg or error
  /** What this item sets on its user (the request's changes, or its CSV row's). */
  changes: Change[];
  /** How people name the user: the request's target label or the CSV identity. */
  label: string;
  /** Bulk only: the CSV row it came from. */
  row: number | null;
}

/** JumpCloud system user, only the fields this bot reads. */
export interface JcPhoneNumber {
  type: string;
  number: string;
  id?: string;
}
export interface JcAttribute {
  name: string;
  value: string;
}
export interface JcUser {
  _id: string;
  email: string;
  username: string;
  firstname?: string;
  middlename?: string;
  lastname?: string;
  displayname?: string;
  jobTitle?: string;
  department?: string;
  location?: string;
  alternateEmail?: string;
  employeeIdentifier?: string;
  employeeType?: string;
  company?: string;
  costCenter?: string;
  manager?: string;
  phoneNumbers?: JcPhoneNumber[];
  attributes?: JcAttribute[];
  [key: string]: unknown;
}
