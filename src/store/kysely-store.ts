import { type Kysely, type Selectable, sql, type Transaction } from "kysely";
import { canTransition, nextState, requestEventForItems } from "../requests/lifecycle.js";
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
import type { SqlDialect } from "./migrations.js";
import type { Database } from "./schema.js";
import type {
  AuditEntry,
  AuditExportRow,
  BulkCheck,
  ClaimedBatch,
  DecideResult,
  Draft,
  ItemExportRow,
  ItemOutcome,
  NewRequest,
  OutboxKind,
  OutboxRecord,
  Store,
  SubmittedBatch,
} from "./store.js";

type Db = Kysely<Database> | Transaction<Database>;
type RequestDbRow = Selectable<Database["requests"]>;
type ItemRow = Selectable<Database["items"]>;

/** Failures named in a bulk request's final audit entry; the rest are counted. */
const FAILURES_IN_AUDIT = 50;
/** Rows per INSERT: well under SQLite's limit of bound variables. */
const INSERT_CHUNK = 500;

/**
 * PostgreSQL's "could not serialize access", "deadlock detected" and "lock not available" (the
 * write lock waited longer than lock_timeout): the transaction is redone.
 */
const RETRYABLE_SQLSTATES = new Set(["40001", "40P01", "55P03"]);
const TX_ATTEMPTS = 5;
/** The advisory lock every PostgreSQL write transaction takes: per schema (one per deployment). */
const WRITE_LOCK = sql`hashtext('jc-update-bot:write:' || current_schema())`;

/** The store on any SQL dialect Kysely speaks; adapters only choose the dialect. */
export class KyselyStore implements Store {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: SqlDialect = "sqlite",
    /** PostgreSQL: a connection of its own, so a health check never queues behind busy writes. */
    private readonly health?: { ping(): Promise<void>; close(): Promise<void> },
  ) {}

  /**
   * One transaction. SQLite runs them one at a time; on PostgreSQL (several replicas, a pool of
   * connections) each first takes one advisory lock, so they run one at a time there too and
   * every method keeps its meaning (claims, compare-and-sets, approval order) whatever runs
   * beside it. The work is a few small transactions a second: one lock costs nothing, and
   * unlike SERIALIZABLE it never fails a transaction under contention.
   */
  private async tx<T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    if (this.dialect === "sqlite") return this.db.transaction().execute(work);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction().execute(async (trx) => {
          await sql`select pg_advisory_xact_lock(${WRITE_LOCK})`.execute(trx);
          return work(trx);
        });
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (attempt >= TX_ATTEMPTS || typeof code !== "string" || !RETRYABLE_SQLSTATES.has(code)) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
      }
    }
  }

  async ping(): Promise<void> {
    if (this.health) return this.health.ping();
    await sql`select 1`.execute(this.db);
  }

  async close(): Promise<void> {
    await this.health?.close();
    await this.db.destroy();
  }

  async saveDraft(draft: Draft): Promise<void> {
    await this.db
      .insertInto("drafts")
      .values({ id: draft.id, data: JSON.stringify(draft), created_at: draft.createdAt })
      .execute();
  }

  async startBulkCheck(check: BulkCheck): Promise<void> {
    await this.db
      .insertInto("bulk_checks")
      .values({
        draft_id: check.draftId,
        requester_id: check.requesterId,
        view_id: check.viewId,
        started_at: check.startedAt,
        heartbeat_at: check.startedAt,
      })
      .onConflict((oc) =>
        oc
          .column("draft_id")
          .doUpdateSet({ view_id: check.viewId, started_at: check.startedAt, heartbeat_at: check.startedAt }),
      )
      .execute();
  }

  async touchBulkChecks(draftIds: readonly string[], at: string): Promise<void> {
    if (draftIds.length === 0) return;
    await this.db.updateTable("bulk_checks").set({ heartbeat_at: at }).where("draft_id", "in", draftIds).execute();
  }

  async endBulkCheck(draftId: string): Promise<boolean> {
    const result = await this.db.deleteFrom("bulk_checks").where("draft_id", "=", draftId).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async listBulkChecks(renewedBefore?: string): Promise<BulkCheck[]> {
    let query = this.db.selectFrom("bulk_checks").selectAll();
    if (renewedBefore !== undefined) {
      query = query.where((eb) => eb(eb.fn.coalesce("heartbeat_at", "started_at"), "<", renewedBefore));
    }
    const rows = await query.orderBy("started_at").execute();
    return rows.map((r) => ({
      draftId: r.draft_id,
      requesterId: r.requester_id,
      viewId: r.view_id,
      startedAt: r.started_at,
    }));
  }

  async getDraft(id: string): Promise<Draft | undefined> {
    const row = await this.db.selectFrom("drafts").select("data").where("id", "=", id).executeTakeFirst();
    return row ? (JSON.parse(row.data) as Draft) : undefined;
  }

  async createRequest(input: NewRequest, at: string): Promise<RequestRecord> {
    return this.tx(async (trx) => {
      // A bulk check ends when its request is stored: a crash after this reports nothing wrong.
      if (input.draftId) await trx.deleteFrom("bulk_checks").where("draft_id", "=", input.draftId).execute();
      if (input.draftId) {
        const existing = await trx
          .selectFrom("requests")
          .selectAll()
          .where("draft_id", "=", input.draftId)
          .executeTakeFirst();
        if (existing) return toRequest(existing);
      }
      const row = await trx
        .insertInto("requests")
        .values({
          draft_id: input.draftId ?? null,
          kind: input.kind,
          state: "pending",
          requester_id: input.requesterId,
          target_user_id: input.targetUserId,
          target_label: input.targetLabel,
          target_slack_id: input.targetSlackId,
          reason: input.reason,
          changes: JSON.stringify(input.changes),
          bulk: input.bulk ? JSON.stringify(input.bulk) : null,
          created_at: at,
          updated_at: at,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      const rows = input.rows ?? [];
      for (let at = 0; at < rows.length; at += INSERT_CHUNK) {
        await trx
          .insertInto("request_rows")
          .values(
            rows.slice(at, at + INSERT_CHUNK).map((r) => ({
              request_id: row.id,
              row_no: r.row,
              user_id: r.userId,
              label: r.label,
              changes: JSON.stringify(r.changes),
            })),
          )
          .execute();
      }
      await audit(trx, row.id, "submitted", null, "pending", input.requesterId, at, null);
      await enqueue(
        trx,
        row.id,
        input.bulk ? ["post_approval", "post_diff", "dm_receipt"] : ["post_approval", "dm_receipt"],
        at,
      );
      return toRequest(row);
    });
  }

  async cancel(input: { requestId: number; actor: string; at: string }): Promise<DecideResult> {
    return this.tx(async (trx) => {
      const existing = await trx
        .selectFrom("requests")
        .selectAll()
        .where("id", "=", input.requestId)
        .executeTakeFirst();
      if (!existing) return { ok: false, reason: "not_found" };
      // Only the requester withdraws; the caller checks who, the store checks when.
      const moved = await setState(trx, input.requestId, "pending", "cancel", input.actor, input.at, null);
      const row = await trx
        .selectFrom("requests")
        .selectAll()
        .where("id", "=", input.requestId)
        .executeTakeFirstOrThrow();
      if (!moved) return { ok: false, reason: "already_decided", request: toRequest(row) };
      // The requester clicked in their receipt DM, which is updated in place: no extra DM.
      await enqueue(trx, input.requestId, ["update_approval"], input.at);
      return { ok: true, request: toRequest(row) };
    });
  }

  async expirePending(createdBefore: string, at: string): Promise<number[]> {
    return this.tx(async (trx) => {
      const due = await trx
        .selectFrom("requests")
        .select("id")
        .where("state", "=", "pending")
        .where("created_at", "<", createdBefore)
        .execute();
      const expired: number[] = [];
      for (const { id } of due) {
        if (!(await setState(trx, id, "pending", "expire", "system", at, null))) continue;
        await enqueue(trx, id, ["update_approval", "dm_decision"], at);
        expired.push(id);
      }
      return expired;
    });
  }

  async remindPending(createdBefore: string, at: string): Promise<number[]> {
    return this.tx(async (trx) => {
      const due = await trx
        .selectFrom("requests")
        .select("id")
        .where("state", "=", "pending")
        .where("reminded_at", "is", null)
        .where("created_at", "<", createdBefore)
        .execute();
      for (const { id } of due) {
        await trx.updateTable("requests").set({ reminded_at: at }).where("id", "=", id).execute();
        await audit(trx, id, "reminded", null, null, "system", at, null);
        await enqueue(trx, id, ["reminder"], at);
      }
      return due.map((r) => r.id);
    });
  }

  async getRequest(id: number): Promise<RequestRecord | undefined> {
    const row = await this.db.selectFrom("requests").selectAll().where("id", "=", id).executeTakeFirst();
    return row ? toRequest(row) : undefined;
  }

  async listRequestsByRequester(requesterId: string, limit: number): Promise<RequestRecord[]> {
    const rows = await this.db
      .selectFrom("requests")
      .selectAll()
      .where("requester_id", "=", requesterId)
      .orderBy("id", "desc")
      .limit(limit)
      .execute();
    return rows.map(toRequest);
  }

  async listItems(requestId: number): Promise<ItemRecord[]> {
    const rows = await this.db
      .selectFrom("items")
      .selectAll()
      .where("request_id", "=", requestId)
      .orderBy("id")
      .execute();
    return rows.map(toItem);
  }

  async listRequestRows(requestId: number, limit?: number): Promise<RequestRow[]> {
    return readRequestRows(this.db, requestId, limit);
  }

  async listAudit(requestId: number): Promise<AuditEntry[]> {
    const rows = await this.db
      .selectFrom("audit")
      .selectAll()
      .where("request_id", "=", requestId)
      .orderBy("id")
      .execute();
    return rows.map((r) => ({
      requestId: r.request_id,
      event: r.event,
      fromState: r.from_state as RequestState | null,
      toState: r.to_state as RequestState | null,
      actor: r.actor,
      at: r.at,
      detail: r.detail,
    }));
  }

  async listAuditSince(since: string, until?: string): Promise<AuditExportRow[]> {
    let query = this.db
      .selectFrom("audit")
      .innerJoin("requests", "requests.id", "audit.request_id")
      .select([
        "audit.request_id",
        "audit.event",
        "audit.from_state",
        "audit.to_state",
        "audit.actor",
        "audit.at",
        "audit.detail",
        "requests.requester_id",
        "requests.target_user_id",
        "requests.target_label",
        "requests.changes",
        "requests.bulk",
      ])
      .where("audit.at", ">=", since);
    if (until) query = query.where("audit.at", "<", until);
    const rows = await query.orderBy("audit.at").orderBy("audit.id").execute();
    return rows.map((r) => ({
      requestId: r.request_id,
      event: r.event,
      fromState: r.from_state as RequestState | null,
      toState: r.to_state as RequestState | null,
      actor: r.actor,
      at: r.at,
      detail: r.detail,
      requesterId: r.requester_id,
      targetUserId: r.target_user_id,
      targetLabel: r.target_label,
      changes: JSON.parse(r.changes) as Change[],
      bulk: r.bulk ? (JSON.parse(r.bulk) as BulkSummary) : null,
    }));
  }

  async listItemsSince(since: string, until?: string): Promise<ItemExportRow[]> {
    let query = this.db
      .selectFrom("items")
      .innerJoin("requests", "requests.id", "items.request_id")
      .select([
        "items.request_id",
        "items.row_no",
        "items.user_id",
        "items.label",
        "items.state",
        "items.changes",
        "items.message",
        "items.job_id",
        "items.created_at",
        "items.updated_at",
        "requests.kind",
        "requests.requester_id",
        "requests.decided_by",
      ])
      .where("items.created_at", ">=", since);
    if (until) query = query.where("items.created_at", "<", until);
    const rows = await query.orderBy("items.seq").execute();
    return rows.map((r) => ({
      requestId: r.request_id,
      kind: r.kind as RequestKind,
      requesterId: r.requester_id,
      approvedBy: r.decided_by,
      row: r.row_no,
      userId: r.user_id,
      label: r.label ?? "",
      state: r.state as ItemState,
      changes: JSON.parse(r.changes ?? "[]") as Change[],
      message: r.message,
      jobId: r.job_id,
      approvedAt: r.created_at,
      updatedAt: r.updated_at,
    }));
  }

  async setApprovalMessage(requestId: number, channel: string, ts: string): Promise<void> {
    await this.db
      .updateTable("requests")
      .set({ approval_channel: channel, approval_ts: ts })
      .where("id", "=", requestId)
      .execute();
  }

  async decide(input: {
    requestId: number;
    decision: "approve" | "deny";
    actor: string;
    at: string;
    note?: string | null;
  }): Promise<DecideResult> {
    return this.tx(async (trx) => {
      const to = nextState("pending", input.decision);
      // Compare-and-set: only the first decision finds the request still pending.
      const updated = await trx
        .updateTable("requests")
        .set({
          state: to,
          decided_by: input.actor,
          decided_at: input.at,
          decision_note: input.note ?? null,
          updated_at: input.at,
        })
        .where("id", "=", input.requestId)
        .where("state", "=", "pending")
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) !== 1) {
        const existing = await trx
          .selectFrom("requests")
          .selectAll()
          .where("id", "=", input.requestId)
          .executeTakeFirst();
        return existing
          ? { ok: false, reason: "already_decided", request: toRequest(existing) }
          : { ok: false, reason: "not_found" };
      }
      await audit(
        trx,
        input.requestId,
        input.decision === "approve" ? "approved" : "denied",
        "pending",
        to,
        input.actor,
        input.at,
        input.note ?? null,
      );
      if (input.decision === "approve") {
        const request = await trx
          .selectFrom("requests")
          .selectAll()
          .where("id", "=", input.requestId)
          .executeTakeFirstOrThrow();
        const maxSeq = await trx
          .selectFrom("items")
          .select(sql<number>`coalesce(max(seq), 0)`.as("m"))
          .executeTakeFirstOrThrow();
        // One item per target user, in CSV order for a bulk request.
        const targets: RequestRow[] = request.bulk
          ? await readRequestRows(trx, request.id)
          : [
              {
                row: 0,
                userId: request.target_user_id,
                label: request.target_label,
                changes: JSON.parse(request.changes) as Change[],
              },
            ];
        for (let at = 0; at < targets.length; at += INSERT_CHUNK) {
          await trx
            .insertInto("items")
            .values(
              targets.slice(at, at + INSERT_CHUNK).map((t, i) => ({
                request_id: request.id,
                user_id: t.userId,
                state: "queued",
                seq: Number(maxSeq.m) + at + i + 1,
                attempts: 0,
                ready_at: input.at,
                created_at: input.at,
                updated_at: input.at,
                changes: JSON.stringify(t.changes),
                label: t.label,
                row_no: request.bulk ? t.row : null,
              })),
            )
            .execute();
        }
        await setState(trx, request.id, "approved", "queue", "system", input.at, null);
      }
      await enqueue(trx, input.requestId, ["update_approval", "dm_decision"], input.at);
      const row = await trx
        .selectFrom("requests")
        .selectAll()
        .where("id", "=", input.requestId)
        .executeTakeFirstOrThrow();
      return { ok: true, request: toRequest(row) };
    });
  }

  async oldestReadyAt(): Promise<string | undefined> {
    const row = await this.db
      .selectFrom("items")
      .select((eb) => eb.fn.min("ready_at").as("m"))
      .where("state", "=", "queued")
      .executeTakeFirst();
    return row?.m ?? undefined;
  }

  async listAppliedChanges(userId: string, since: string): Promise<Change[]> {
    const rows = await this.db
      .selectFrom("items")
      .select("changes")
      .where("user_id", "=", userId)
      .where("state", "=", "applied")
      .where("updated_at", ">=", since)
      .execute();
    return rows.flatMap((r) => JSON.parse(r.changes ?? "[]") as Change[]);
  }

  async raiseAlert(requestId: number, detail: string, at: string): Promise<void> {
    await this.tx(async (trx) => {
      await audit(trx, requestId, "dispatch_alert", null, null, "system", at, detail);
      await enqueue(trx, requestId, ["alert_auth"], at);
    });
  }

  async nextReadyAfter(after: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom("items")
      .select((eb) => eb.fn.min("ready_at").as("m"))
      .where("state", "=", "queued")
      .where("ready_at", ">", after)
      .executeTakeFirst();
    return row?.m ?? undefined;
  }

  async countReady(now: string): Promise<number> {
    const row = await this.db
      .selectFrom("items")
      .select((eb) => eb.fn.countAll().as("n"))
      .where("state", "=", "queued")
      .where("ready_at", "<=", now)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async claimBatch(max: number, now: string): Promise<ClaimedBatch | undefined> {
    return this.tx(async (trx) => {
      // Per-user order in SQL: an item goes only if its user has nothing in flight and no
      // earlier queued item (ready or not). That also means at most one item per user.
      const candidates = await trx
        .selectFrom("items as i")
        .select(["i.id", "i.request_id", "i.solo"])
        .where("i.state", "=", "queued")
        .where("i.ready_at", "<=", now)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom("items as j")
                .select("j.id")
                .whereRef("j.user_id", "=", "i.user_id")
                .where((eb) =>
                  eb.or([
                    eb("j.state", "in", ["sending", "submitted"]),
                    eb.and([eb("j.state", "=", "queued"), eb("j.seq", "<", eb.ref("i.seq"))]),
                  ]),
                ),
            ),
          ),
        )
        .orderBy("i.seq")
        .limit(max)
        .execute();
      // An item JumpCloud refused in a batch goes alone (first in order), and never with others.
      const first = candidates[0];
      const chosen = first?.solo ? [first] : candidates.filter((c) => !c.solo);
      if (chosen.length === 0) return undefined;
      const batch = await trx
        .insertInto("batches")
        .values({ state: "sending", created_at: now })
        .returning("id")
        .executeTakeFirstOrThrow();
      await trx
        .updateTable("items")
        .set((eb) => ({ state: "sending", batch_id: batch.id, attempts: eb("attempts", "+", 1), updated_at: now }))
        .where(
          "id",
          "in",
          chosen.map((c) => c.id),
        )
        .where("state", "=", "queued")
        .execute();
      const items = await trx.selectFrom("items").selectAll().where("batch_id", "=", batch.id).orderBy("seq").execute();
      const requestIds = [...new Set(items.map((i) => i.request_id))];
      const requests = await trx.selectFrom("requests").selectAll().where("id", "in", requestIds).execute();
      return { batchId: batch.id, items: items.map(toItem), requests: requests.map(toRequest) };
    });
  }

  async markBatchSubmitted(batchId: number, jobId: string, at: string): Promise<void> {
    await this.tx(async (trx) => {
      await trx
        .updateTable("batches")
        .set({ state: "submitted", job_id: jobId, submitted_at: at })
        .where("id", "=", batchId)
        .execute();
      await trx
        .updateTable("items")
        .set({ state: "submitted", job_id: jobId, message: null, updated_at: at })
        .where("batch_id", "=", batchId)
        .where("state", "=", "sending")
        .execute();
      for (const requestId of await requestIdsOf(trx, batchId)) {
        // "Waiting for JumpCloud…" stays while other items of the request still wait for a retry.
        const waiting = await trx
          .selectFrom("items")
          .select("id")
          .where("request_id", "=", requestId)
          .where("state", "=", "queued")
          .where("message", "is not", null)
          .executeTakeFirst();
        if (!waiting) {
          await trx.updateTable("requests").set({ status_note: null }).where("id", "=", requestId).execute();
        }
        const bulk = await isBulk(trx, requestId);
        // A bulk request rides in many calls: each job id is recorded, with how many users it took.
        const users = bulk
          ? await trx
              .selectFrom("items")
              .select((eb) => eb.fn.countAll<number>().as("n"))
              .where("batch_id", "=", batchId)
              .where("request_id", "=", requestId)
              .executeTakeFirst()
          : undefined;
        const detail = users
          ? `job ${jobId} (${Number(users.n) === 1 ? "1 user" : `${Number(users.n)} users`})`
          : `job ${jobId}`;
        const moved = await setState(trx, requestId, "queued", "submit", "system", at, detail);
        if (!moved && bulk) {
          // Later calls change no state, but every job id must be traceable in the audit trail.
          const now = await trx.selectFrom("requests").select("state").where("id", "=", requestId).executeTakeFirst();
          const state = now?.state ?? null;
          await audit(trx, requestId, "submitted_to_jumpcloud", state, state, "system", at, detail);
        }
        // A bulk request's message shows progress: every call it rides in updates it.
        if (moved || bulk) await enqueue(trx, requestId, ["update_approval"], at);
      }
    });
  }

  async releaseBatch(
    batchId: number,
    input: { readyAt: string; message: string; at: string; solo?: boolean },
  ): Promise<void> {
    await this.tx(async (trx) => {
      // Only the requests of items going back to the queue (others in the batch may be settled).
      const requestIds = (
        await trx
          .selectFrom("items")
          .select("request_id")
          .where("batch_id", "=", batchId)
          .where("state", "=", "sending")
          .distinct()
          .execute()
      ).map((r) => r.request_id);
      await trx
        .updateTable("batches")
        .set({ state: "released", completed_at: input.at })
        .where("id", "=", batchId)
        .execute();
      await trx
        .updateTable("items")
        .set({
          state: "queued",
          batch_id: null,
          ready_at: input.readyAt,
          message: input.message,
          updated_at: input.at,
          ...(input.solo ? { solo: 1 } : {}),
        })
        .where("batch_id", "=", batchId)
        .where("state", "=", "sending")
        .execute();
      const note = input.solo
        ? `Sending its users one at a time: ${input.message}.`
        : `Waiting for JumpCloud (${input.message}); next try at ${input.readyAt}.`;
      for (const requestId of requestIds) {
        await trx
          .updateTable("requests")
          .set({ status_note: note, updated_at: input.at })
          .where("id", "=", requestId)
          .execute();
        await audit(trx, requestId, "dispatch_delayed", null, null, "system", input.at, input.message);
        await enqueue(trx, requestId, ["update_approval"], input.at);
      }
    });
  }

  async completeBatch(
    batchId: number,
    outcomes: ItemOutcome[],
    at: string,
    options: { closeBatch?: boolean } = {},
  ): Promise<void> {
    await this.tx(async (trx) => {
      if (options.closeBatch !== false) {
        await trx.updateTable("batches").set({ state: "done", completed_at: at }).where("id", "=", batchId).execute();
      }
      // One UPDATE per distinct outcome (usually: all applied), not one per item.
      const groups = new Map<string, { state: ItemOutcome["state"]; message: string | null; ids: number[] }>();
      for (const outcome of outcomes) {
        const key = JSON.stringify([outcome.state, outcome.message]);
        const group = groups.get(key) ?? { state: outcome.state, message: outcome.message, ids: [] };
        group.ids.push(outcome.itemId);
        groups.set(key, group);
      }
      for (const group of groups.values()) {
        // Only items still in flight: a settled item keeps its first outcome.
        await trx
          .updateTable("items")
          .set({ state: group.state, message: group.message, updated_at: at })
          .where("id", "in", group.ids)
          .where("batch_id", "=", batchId)
          .where("state", "in", ["sending", "submitted"])
          .execute();
      }
      for (const requestId of await requestIdsOf(trx, batchId)) {
        const items = await trx
          .selectFrom("items")
          .select(["id", "state", "message", "label", "user_id"])
          .where("request_id", "=", requestId)
          .execute();
        const event = requestEventForItems(items.map((i) => ({ state: i.state as ItemState })));
        const bulk = await isBulk(trx, requestId);
        if (!event || event === "submit") {
          if (bulk) await enqueue(trx, requestId, ["update_approval"], at);
          continue;
        }
        const detail = failureDetail(
          items.filter((i) => i.state === "failed" || i.state === "unknown"),
          items.length,
          bulk,
        );
        const current = await trx
          .selectFrom("requests")
          .select("state")
          .where("id", "=", requestId)
          .executeTakeFirstOrThrow();
        // Already final (a second reader of the same results): nothing more to record.
        if (!canTransition(current.state as RequestState, event)) continue;
        await trx.updateTable("requests").set({ status_note: null }).where("id", "=", requestId).execute();
        const moved = await setState(
          trx,
          requestId,
          current.state as RequestState,
          event,
          "system",
          at,
          detail || null,
        );
        if (moved) {
          await enqueue(
            trx,
            requestId,
            bulk ? ["update_approval", "bulk_outcome", "dm_outcome"] : ["update_approval", "dm_outcome"],
            at,
          );
        }
      }
    });
  }

  async listSubmittedBatches(): Promise<SubmittedBatch[]> {
    const batches = await this.db
      .selectFrom("batches")
      .selectAll()
      .where("state", "=", "submitted")
      .orderBy("id")
      .execute();
    const result: SubmittedBatch[] = [];
    for (const b of batches) {
      const items = await this.db
        .selectFrom("items")
        .selectAll()
        .where("batch_id", "=", b.id)
        .where("state", "=", "submitted")
        .orderBy("seq")
        .execute();
      result.push({
        batchId: b.id,
        jobId: b.job_id ?? "",
        submittedAt: b.submitted_at ?? b.created_at,
        items: items.map(toItem),
      });
    }
    return result;
  }

  async recoverSending(at: string): Promise<number> {
    return this.tx(async (trx) => {
      const result = await trx
        .updateTable("items")
        .set({ state: "queued", batch_id: null, updated_at: at })
        .where("state", "=", "sending")
        .executeTakeFirst();
      await trx
        .updateTable("batches")
        .set({ state: "released", completed_at: at })
        .where("state", "=", "sending")
        .execute();
      return Number(result.numUpdatedRows);
    });
  }

  async nextOutbox(now: string, limit: number): Promise<OutboxRecord[]> {
    const rows = await this.db
      .selectFrom("outbox as o")
      .selectAll("o")
      .where("o.state", "=", "pending")
      .where("o.ready_at", "<=", now)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom("outbox as e")
              .select("e.id")
              .whereRef("e.request_id", "=", "o.request_id")
              .whereRef("e.id", "<", "o.id")
              .where("e.state", "=", "pending")
              .where("e.ready_at", ">", now),
          ),
        ),
      )
      .orderBy("o.id")
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      id: r.id,
      kind: r.kind as OutboxKind,
      requestId: r.request_id,
      attempts: r.attempts,
      readyAt: r.ready_at,
    }));
  }

  async completeOutbox(id: number): Promise<void> {
    await this.db.updateTable("outbox").set({ state: "done" }).where("id", "=", id).execute();
  }

  async skipOutbox(requestId: number, kind: OutboxKind, afterId: number): Promise<number[]> {
    const rows = await this.db
      .updateTable("outbox")
      .set({ state: "done" })
      .where("request_id", "=", requestId)
      .where("kind", "=", kind)
      .where("state", "=", "pending")
      .where("id", ">", afterId)
      .returning("id")
      .execute();
    return rows.map((r) => r.id);
  }

  async retryOutbox(id: number, readyAt: string, error: string): Promise<void> {
    await this.db
      .updateTable("outbox")
      .set((eb) => ({ attempts: eb("attempts", "+", 1), ready_at: readyAt, last_error: error }))
      .where("id", "=", id)
      .execute();
  }

  async failOutbox(id: number, error: string): Promise<void> {
    await this.db
      .updateTable("outbox")
      .set((eb) => ({ state: "failed", attempts: eb("attempts", "+", 1), last_error: error }))
      .where("id", "=", id)
      .execute();
  }
}

async function audit(
  db: Db,
  requestId: number,
  event: string,
  from: string | null,
  to: string | null,
  actor: string,
  at: string,
  detail: string | null,
): Promise<void> {
  await db
    .insertInto("audit")
    .values({ request_id: requestId, event, from_state: from, to_state: to, actor, at, detail })
    .execute();
}

async function enqueue(db: Db, requestId: number, kinds: OutboxKind[], at: string): Promise<void> {
  for (const kind of kinds) {
    await db
      .insertInto("outbox")
      .values({ kind, request_id: requestId, state: "pending", attempts: 0, ready_at: at, created_at: at })
      .execute();
  }
}

/** Applies a lifecycle event if the request is still in `from`; records it. */
async function setState(
  db: Db,
  requestId: number,
  from: RequestState,
  event: Parameters<typeof nextState>[1],
  actor: string,
  at: string,
  detail: string | null,
): Promise<boolean> {
  const to = nextState(from, event);
  const result = await db
    .updateTable("requests")
    .set({ state: to, updated_at: at })
    .where("id", "=", requestId)
    .where("state", "=", from)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) !== 1) return false;
  await audit(db, requestId, event === "submit" ? "submitted_to_jumpcloud" : to, from, to, actor, at, detail);
  return true;
}

/** Audit detail of a finished request: what was not applied (every item, not one call's). */
function failureDetail(
  failed: { message: string | null; label: string | null; user_id: string }[],
  total: number,
  bulk: boolean,
): string {
  if (!bulk) return failed.map((i) => i.message ?? "no result from JumpCloud").join("; ");
  if (failed.length === 0) return "";
  const shown = failed
    .slice(0, FAILURES_IN_AUDIT)
    .map((i) => `${i.label || i.user_id}: ${i.message ?? "no result from JumpCloud"}`);
  const more = failed.length - shown.length;
  return `${failed.length} of ${total} not applied: ${shown.join("; ")}${more > 0 ? `; …and ${more} more (all in the failed-rows CSV of the approval thread)` : ""}`;
}

async function readRequestRows(db: Db, requestId: number, limit?: number): Promise<RequestRow[]> {
  let query = db.selectFrom("request_rows").selectAll().where("request_id", "=", requestId).orderBy("row_no");
  if (limit !== undefined) query = query.limit(limit);
  const rows = await query.execute();
  return rows.map((r) => ({
    row: r.row_no,
    userId: r.user_id,
    label: r.label,
    changes: JSON.parse(r.changes) as Change[],
  }));
}

async function isBulk(db: Db, requestId: number): Promise<boolean> {
  const row = await db.selectFrom("requests").select("bulk").where("id", "=", requestId).executeTakeFirst();
  return Boolean(row?.bulk);
}

async function requestIdsOf(db: Db, batchId: number): Promise<number[]> {
  const rows = await db.selectFrom("items").select("request_id").where("batch_id", "=", batchId).distinct().execute();
  return rows.map((r) => r.request_id);
}

function toRequest(row: RequestDbRow): RequestRecord {
  return {
    id: row.id,
    kind: row.kind as RequestKind,
    state: row.state as RequestState,
    requesterId: row.requester_id,
    targetUserId: row.target_user_id,
    targetLabel: row.target_label,
    targetSlackId: row.target_slack_id,
    reason: row.reason,
    changes: JSON.parse(row.changes) as Change[],
    createdAt: row.created_at,
    decidedBy: row.decided_by,
    decidedAt: row.decided_at,
    decisionNote: row.decision_note,
    approvalChannel: row.approval_channel,
    approvalTs: row.approval_ts,
    statusNote: row.status_note,
    bulk: row.bulk ? (JSON.parse(row.bulk) as BulkSummary) : null,
  };
}

function toItem(row: ItemRow): ItemRecord {
  return {
    id: row.id,
    requestId: row.request_id,
    userId: row.user_id,
    state: row.state as ItemState,
    seq: row.seq,
    attempts: row.attempts,
    readyAt: row.ready_at,
    queuedAt: row.created_at,
    batchId: row.batch_id,
    jobId: row.job_id,
    message: row.message,
    changes: JSON.parse(row.changes ?? "[]") as Change[],
    label: row.label ?? "",
    row: row.row_no,
  };
}
