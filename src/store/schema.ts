import type { Generated } from "kysely";

/** Table shapes as stored. Times are ISO 8601 strings (sortable in every dialect). */
export interface Database {
  requests: {
    id: Generated<number>;
    kind: string;
    state: string;
    requester_id: string;
    target_user_id: string;
    target_label: string;
    target_slack_id: string | null;
    reason: string;
    changes: string; // JSON Change[]
    created_at: string;
    updated_at: string;
    decided_by: string | null;
    decided_at: string | null;
    decision_note: string | null;
    approval_channel: string | null;
    approval_ts: string | null;
    status_note: string | null;
    draft_id: string | null;
    reminded_at: string | null;
    bulk: string | null; // JSON BulkSummary, bulk requests only
  };
  request_rows: {
    request_id: number;
    row_no: number;
    user_id: string;
    label: string;
    changes: string; // JSON Change[]
  };
  audit: {
    id: Generated<number>;
    request_id: number;
    event: string;
    from_state: string | null;
    to_state: string | null;
    actor: string;
    at: string;
    detail: string | null;
  };
  items: {
    id: Generated<number>;
    request_id: number;
    user_id: string;
    state: string;
    seq: number;
    attempts: number;
    ready_at: string;
    batch_id: number | null;
    batch_pos: number | null; // unused since 0003: items keep approval (seq) order in a batch
    job_id: string | null;
    message: string | null;
    created_at: string;
    updated_at: string;
    changes: string | null; // JSON Change[]; null only before migration 0004
    label: string | null;
    row_no: number | null;
    solo: Generated<number>; // 1: sent alone (0007), after a batch holding it was refused
  };
  batches: {
    id: Generated<number>;
    state: string; // sending | submitted | done | released
    job_id: string | null;
    created_at: string;
    submitted_at: string | null;
    completed_at: string | null;
  };
  outbox: {
    id: Generated<number>;
    kind: string;
    request_id: number;
    state: string; // pending | done | failed
    attempts: number;
    ready_at: string;
    last_error: string | null;
    created_at: string;
  };
  bulk_checks: {
    draft_id: string;
    requester_id: string;
    view_id: string;
    started_at: string;
    heartbeat_at: string | null; // renewed while the check runs (0006)
  };
  drafts: {
    id: string;
    data: string; // JSON Draft
    created_at: string;
  };
}
