import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, beforeEach, describe, it } from "node:test";
import type { RequestRecord } from "../../src/requests/types.js";
import { openStore } from "../../src/store/open-store.js";
import type { NewRequest, OutboxKind, Store } from "../../src/store/store.js";
import { freshPgSchema, PG_SKIP } from "../support/postgres.js";

const T0 = Date.parse("2025-03-01T09:00:00.000Z");
/** An ISO time `seconds` after T0. */
function at(seconds: number): string {
  return new Date(T0 + seconds * 1000).toISOString();
}

function newRequest(overrides: Partial<NewRequest> = {}): NewRequest {
  return {
    kind: "single",
    requesterId: "U0REQUESTER",
    targetUserId: "jc-user-a",
    targetLabel: "ada@example.com",
    targetSlackId: "U0REQUESTER",
    reason: "Moved to the data team",
    changes: [
      { field: "department", oldValue: "Engines", newValue: "Data" },
      { field: "phone.work", oldValue: "", newValue: "+44 20 7946 0000" },
    ],
    ...overrides,
  };
}

async function outboxKinds(store: Store, requestId: number, now = at(100_000)): Promise<OutboxKind[]> {
  return (await store.nextOutbox(now, 1000)).filter((o) => o.requestId === requestId).map((o) => o.kind);
}

async function auditEvents(store: Store, requestId: number): Promise<string[]> {
  return (await store.listAudit(requestId)).map((a) => a.event);
}

/** Creates a request for `userId` and approves it at `when`; returns the request. */
async function approved(store: Store, userId: string, when: number, actor = "U0APPROVER"): Promise<RequestRecord> {
  const created = await store.createRequest(
    newRequest({ targetUserId: userId, targetLabel: `${userId}@example.com` }),
    at(when),
  );
  const result = await store.decide({ requestId: created.id, decision: "approve", actor, at: at(when) });
  assert.equal(result.ok, true);
  return created;
}

/** The same contract on every adapter: SQLite always, PostgreSQL when TEST_DATABASE_URL is set. */
const adapters: {
  name: string;
  skip: string | false;
  open: () => Promise<{ url: string; drop?: () => Promise<void> }>;
}[] = [
  { name: "sqlite::memory:", skip: false, open: async () => ({ url: "sqlite::memory:" }) },
  { name: "postgres", skip: PG_SKIP, open: () => freshPgSchema() },
];

for (const adapter of adapters)
  describe(`store (${adapter.name})`, { skip: adapter.skip }, () => {
    let store: Store;
    let drop: (() => Promise<void>) | undefined;
    beforeEach(async () => {
      const opened = await adapter.open();
      drop = opened.drop;
      store = await openStore(opened.url);
    });
    afterEach(async () => {
      await store.close();
      await drop?.();
    });

    describe("createRequest", () => {
      it("stores a pending request and returns it", async () => {
        const created = await store.createRequest(newRequest(), at(0));
        assert.deepEqual(created, {
          id: 1,
          kind: "single",
          state: "pending",
          requesterId: "U0REQUESTER",
          targetUserId: "jc-user-a",
          targetLabel: "ada@example.com",
          targetSlackId: "U0REQUESTER",
          reason: "Moved to the data team",
          changes: newRequest().changes,
          createdAt: at(0),
          decidedBy: null,
          decidedAt: null,
          decisionNote: null,
          approvalChannel: null,
          approvalTs: null,
          statusNote: null,
          bulk: null,
        });
        assert.deepEqual(await store.getRequest(created.id), created);
      });

      it("writes the audit entry 'submitted'", async () => {
        const created = await store.createRequest(newRequest(), at(0));
        assert.deepEqual(await store.listAudit(created.id), [
          {
            requestId: created.id,
            event: "submitted",
            fromState: null,
            toState: "pending",
            actor: "U0REQUESTER",
            at: at(0),
            detail: null,
          },
        ]);
      });

      it("writes the outbox rows post_approval and dm_receipt, ready at once", async () => {
        const created = await store.createRequest(newRequest(), at(0));
        const rows = await store.nextOutbox(at(0), 10);
        assert.deepEqual(
          rows.map(({ kind, requestId, attempts, readyAt }) => ({ kind, requestId, attempts, readyAt })),
          [
            { kind: "post_approval", requestId: created.id, attempts: 0, readyAt: at(0) },
            { kind: "dm_receipt", requestId: created.id, attempts: 0, readyAt: at(0) },
          ],
        );
        assert.deepEqual(await store.nextOutbox(at(-1), 10), []);
      });

      it("getRequest of a missing id → undefined", async () => {
        assert.equal(await store.getRequest(999), undefined);
      });

      it("listRequestsByRequester: newest first, limited, only that requester", async () => {
        const a = await store.createRequest(newRequest(), at(0));
        await store.createRequest(newRequest({ requesterId: "U0OTHER" }), at(1));
        const c = await store.createRequest(newRequest(), at(2));
        const d = await store.createRequest(newRequest(), at(3));
        assert.deepEqual(
          (await store.listRequestsByRequester("U0REQUESTER", 2)).map((r) => r.id),
          [d.id, c.id],
        );
        assert.deepEqual(
          (await store.listRequestsByRequester("U0REQUESTER", 10)).map((r) => r.id),
          [d.id, c.id, a.id],
        );
      });

      it("setApprovalMessage stores channel and ts", async () => {
        const created = await store.createRequest(newRequest(), at(0));
        await store.setApprovalMessage(created.id, "C0APPROVALS", "1740819600.000100");
        const stored = await store.getRequest(created.id);
        assert.equal(stored?.approvalChannel, "C0APPROVALS");
        assert.equal(stored?.approvalTs, "1740819600.000100");
      });

      it("drafts round-trip", async () => {
        const draft = {
          id: "draft-1",
          requesterId: "U0REQUESTER",
          targetUserId: "jc-user-a",
          targetLabel: "ada@example.com",
          targetSlackId: null,
          isAdmin: false,
          current: { firstname: "Ada" },
          allowed: ["firstname"],
          managerSlackId: null,
          createdAt: at(0),
        };
        await store.saveDraft(draft);
        assert.deepEqual(await store.getDraft("draft-1"), draft);
        assert.equal(await store.getDraft("draft-2"), undefined);
      });
    });

    describe("decide", () => {
      it("approve → request 'queued' with decider and time", async () => {
        const created = await store.createRequest(newRequest(), at(0));
        const result = await store.decide({
          requestId: created.id,
          decision: "approve",
          actor: "U0APPROVER",
          at: at(60),
        });
        assert.equal(result.ok, true);
        assert.ok(result.ok);
        assert.equal(result.request.state, "queued");
        assert.equal(result.request.decidedBy, "U0APPROVER");
        assert.equal(result.request.decidedAt, at(60));
        assert.equal(result.request.decisionNote, null);
        assert.deepEqual(await store.getRequest(created.id), result.request);
      });

      it("approve → one item 'queued' for the target user, ready at once", async () => {
        const created = await store.createRequest(newRequest(), at(0));
        await store.decide({ requestId: created.id, decision: "approve", actor: "U0APPROVER", at: at(60) });
        const items = await store.listItems(created.id);
        assert.equal(items.length, 1);
        assert.deepEqual(
          { ...items[0], id: 0 },
          {
            id: 0,
            requestId: created.id,
            userId: "jc-user-a",
            state: "queued",
            seq: 1,
            attempts: 0,
            readyAt: at(60),
            queuedAt: at(60),
            batchId: null,
            jobId: null,
            message: null,
            changes: newRequest().changes,
            label: "ada@example.com",
            row: null,
          },
        );
        assert.equal(await store.countReady(at(60)), 1);
        assert.equal(await store.oldestReadyAt(), at(60));
      });

      it("approve → audit approved then queued", async () => {
        const created = await store.createRequest(newRequest(), at(0));
        await store.decide({ requestId: created.id, decision: "approve", actor: "U0APPROVER", at: at(60) });
        const entries = await store.listAudit(created.id);
        assert.deepEqual(
          entries.map(({ event, fromState, toState, actor, at }) => ({ event, fromState, toState, actor, at })),
          [
            { event: "submitted", fromState: null, toState: "pending", actor: "U0REQUESTER", at: at(0) },
            { event: "approved", fromState: "pending", toState: "approved", actor: "U0APPROVER", at: at(60) },
            { event: "queued", fromState: "approved", toState: "queued", actor: "system", at: at(60) },
          ],
        );
      });

      it("approve → outbox update_approval and dm_decision", async () => {
        const created = await store.createRequest(newRequest(), at(0));
        await store.decide({ requestId: created.id, decision: "approve", actor: "U0APPROVER", at: at(60) });
        assert.deepEqual(await outboxKinds(store, created.id), [
          "post_approval",
          "dm_receipt",
          "update_approval",
          "dm_decision",
        ]);
      });

      it("deny → 'denied' with the note, no item, audit denied, outbox update_approval and dm_decision", async () => {
        const created = await store.createRequest(newRequest(), at(0));
        const result = await store.decide({
          requestId: created.id,
          decision: "deny",
          actor: "U0APPROVER",
          at: at(60),
          note: "Not your team",
        });
        assert.ok(result.ok);
        assert.equal(result.request.state, "denied");
        assert.equal(result.request.decisionNote, "Not your team");
        assert.equal(result.request.decidedBy, "U0APPROVER");
        assert.deepEqual(await store.listItems(created.id), []);
        assert.equal(await store.countReady(at(1000)), 0);
        const entries = await store.listAudit(created.id);
        assert.deepEqual(entries[1], {
          requestId: created.id,
          event: "denied",
          fromState: "pending",
          toState: "denied",
          actor: "U0APPROVER",
          at: at(60),
          detail: "Not your team",
        });
        assert.equal(entries.length, 2);
        assert.deepEqual(await outboxKinds(store, created.id), [
          "post_approval",
          "dm_receipt",
          "update_approval",
          "dm_decision",
        ]);
      });

      for (const [first, second] of [
        ["approve", "approve"],
        ["approve", "deny"],
        ["deny", "approve"],
        ["deny", "deny"],
      ] as const) {
        it(`${first} then ${second} → already_decided with the first decider, nothing changed`, async () => {
          const created = await store.createRequest(newRequest(), at(0));
          const one = await store.decide({ requestId: created.id, decision: first, actor: "U0FIRST", at: at(60) });
          assert.equal(one.ok, true);
          const itemsBefore = await store.listItems(created.id);
          const auditBefore = await store.listAudit(created.id);
          const outboxBefore = await outboxKinds(store, created.id);

          const two = await store.decide({ requestId: created.id, decision: second, actor: "U0SECOND", at: at(61) });
          assert.equal(two.ok, false);
          assert.ok(!two.ok && two.reason === "already_decided");
          assert.equal(two.request.decidedBy, "U0FIRST");
          assert.equal(two.request.decidedAt, at(60));
          assert.equal(two.request.state, first === "approve" ? "queued" : "denied");
          assert.deepEqual(await store.listItems(created.id), itemsBefore);
          assert.deepEqual(await store.listAudit(created.id), auditBefore);
          assert.deepEqual(await outboxKinds(store, created.id), outboxBefore);
        });
      }

      it("20 concurrent decisions → exactly one wins, the others see the winner", async () => {
        const created = await store.createRequest(newRequest(), at(0));
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            store.decide({
              requestId: created.id,
              decision: i % 2 === 0 ? "approve" : "deny",
              actor: `U0ACTOR${i}`,
              at: at(60 + i),
            }),
          ),
        );
        const winners = results.filter((r) => r.ok);
        assert.equal(winners.length, 1);
        const winner = winners[0];
        assert.ok(winner?.ok);
        for (const r of results) {
          if (r.ok) continue;
          assert.equal(r.reason, "already_decided");
          assert.ok(r.reason === "already_decided");
          assert.equal(r.request.decidedBy, winner.request.decidedBy);
        }
        const approvedWon = winner.request.state === "queued";
        assert.equal((await store.listItems(created.id)).length, approvedWon ? 1 : 0);
        const decisions = (await auditEvents(store, created.id)).filter((e) => e === "approved" || e === "denied");
        assert.equal(decisions.length, 1);
        const updates = (await outboxKinds(store, created.id)).filter((k) => k === "dm_decision");
        assert.equal(updates.length, 1);
      });

      it("decide on a missing id → not_found", async () => {
        assert.deepEqual(await store.decide({ requestId: 404, decision: "approve", actor: "U0APPROVER", at: at(0) }), {
          ok: false,
          reason: "not_found",
        });
      });
    });

    describe("claimBatch", () => {
      it("nothing queued → undefined", async () => {
        assert.equal(await store.claimBatch(10, at(0)), undefined);
      });

      it("a batch released solo: each of its items is claimed alone, and never with new ones", async () => {
        for (const [user, when] of [
          ["user-a", 0],
          ["user-b", 1],
        ] as const)
          await approved(store, user, when);
        const batch = await store.claimBatch(10, at(2));
        assert.equal(batch?.items.length, 2);
        await store.releaseBatch(batch?.batchId ?? 0, { readyAt: at(3), message: "refused", at: at(3), solo: true });
        await approved(store, "user-c", 4);
        const claims: string[][] = [];
        for (let i = 0; i < 3; i++) {
          const next = await store.claimBatch(10, at(5));
          claims.push(next?.items.map((item) => item.userId) ?? []);
          if (next)
            await store.completeBatch(
              next.batchId,
              next.items.map((item) => ({ itemId: item.id, state: "applied" as const, message: null })),
              at(6),
            );
        }
        assert.deepEqual(claims, [["user-a"], ["user-b"], ["user-c"]]);
      });

      it("claims in approval order (seq), up to max, and marks the items 'sending'", async () => {
        const ra = await store.createRequest(newRequest({ targetUserId: "user-a" }), at(0));
        const rb = await store.createRequest(newRequest({ targetUserId: "user-b" }), at(0));
        const rc = await store.createRequest(newRequest({ targetUserId: "user-c" }), at(0));
        // Approval order differs from creation order: c, a, b.
        for (const [r, s] of [
          [rc, 10],
          [ra, 11],
          [rb, 12],
        ] as const) {
          await store.decide({ requestId: r.id, decision: "approve", actor: "U0APPROVER", at: at(s) });
        }
        const batch = await store.claimBatch(2, at(20));
        assert.ok(batch);
        assert.deepEqual(
          batch.items.map((i) => [i.userId, i.state, i.attempts, i.batchId]),
          [
            ["user-c", "sending", 1, batch.batchId],
            ["user-a", "sending", 1, batch.batchId],
          ],
        );
        assert.deepEqual(batch.requests.map((r) => r.id).sort(), [ra.id, rc.id].sort());
        assert.equal(await store.countReady(at(20)), 1);
        const next = await store.claimBatch(2, at(20));
        assert.deepEqual(
          next?.items.map((i) => i.userId),
          ["user-b"],
        );
        assert.equal(await store.claimBatch(2, at(20)), undefined);
      });

      it("one item per user per batch, in approval order", async () => {
        const first = await approved(store, "user-a", 0);
        const second = await approved(store, "user-a", 1);
        await approved(store, "user-b", 2);
        const batch = await store.claimBatch(10, at(10));
        assert.ok(batch);
        assert.deepEqual(
          batch.items.map((i) => [i.requestId, i.userId]),
          [
            [first.id, "user-a"],
            [3, "user-b"],
          ],
        );
        assert.equal((await store.listItems(second.id))[0]?.state, "queued");
      });

      it("skips a user with an item 'sending' or 'submitted', until that item is done", async () => {
        const first = await approved(store, "user-a", 0);
        const b1 = await store.claimBatch(10, at(5));
        assert.ok(b1);
        const second = await approved(store, "user-a", 6);
        await approved(store, "user-b", 7);
        // user-a has an item 'sending'
        const b2 = await store.claimBatch(10, at(10));
        assert.deepEqual(
          b2?.items.map((i) => i.userId),
          ["user-b"],
        );
        // user-a's item becomes 'submitted': still in flight
        await store.markBatchSubmitted(b1.batchId, "job-1", at(11));
        assert.equal(await store.claimBatch(10, at(12)), undefined);
        // done: user-a's next item may go
        const [firstItem] = await store.listItems(first.id);
        assert.ok(firstItem);
        await store.completeBatch(b1.batchId, [{ itemId: firstItem.id, state: "applied", message: null }], at(13));
        const b3 = await store.claimBatch(10, at(14));
        assert.deepEqual(
          b3?.items.map((i) => i.requestId),
          [second.id],
        );
      });

      it("items not ready yet are not claimed, and hold back that user's later items", async () => {
        const first = await approved(store, "user-a", 0);
        const b1 = await store.claimBatch(10, at(1));
        assert.ok(b1);
        await store.releaseBatch(b1.batchId, { readyAt: at(600), message: "JumpCloud answered 503", at: at(2) });
        await approved(store, "user-a", 3);
        assert.equal(await store.claimBatch(10, at(10)), undefined);
        const later = await store.claimBatch(10, at(600));
        assert.deepEqual(
          later?.items.map((i) => [i.requestId, i.attempts]),
          [[first.id, 2]],
        );
      });
    });

    describe("dispatch outcomes", () => {
      it("markBatchSubmitted stores the job id, items 'submitted', request 'submitted'", async () => {
        const r = await approved(store, "user-a", 0);
        const batch = await store.claimBatch(10, at(1));
        assert.ok(batch);
        await store.markBatchSubmitted(batch.batchId, "job-42", at(2));
        const [stored] = await store.listItems(r.id);
        assert.equal(stored?.state, "submitted");
        assert.equal(stored?.jobId, "job-42");
        assert.equal((await store.getRequest(r.id))?.state, "submitted");
        const last = (await store.listAudit(r.id)).at(-1);
        assert.deepEqual(last, {
          requestId: r.id,
          event: "submitted_to_jumpcloud",
          fromState: "queued",
          toState: "submitted",
          actor: "system",
          at: at(2),
          detail: "job job-42",
        });
        assert.deepEqual((await outboxKinds(store, r.id)).slice(-1), ["update_approval"]);
        const submitted = await store.listSubmittedBatches();
        assert.equal(submitted.length, 1);
        assert.equal(submitted[0]?.batchId, batch.batchId);
        assert.equal(submitted[0]?.jobId, "job-42");
        assert.deepEqual(
          submitted[0]?.items.map((i) => [i.requestId, i.state, i.jobId]),
          [[r.id, "submitted", "job-42"]],
        );
      });

      it("releaseBatch puts items back to 'queued' with readyAt and a status note", async () => {
        const r = await approved(store, "user-a", 0);
        const batch = await store.claimBatch(10, at(1));
        assert.ok(batch);
        await store.releaseBatch(batch.batchId, { readyAt: at(300), message: "JumpCloud answered 503", at: at(2) });
        const [stored] = await store.listItems(r.id);
        assert.equal(stored?.state, "queued");
        assert.equal(stored?.readyAt, at(300));
        assert.equal(stored?.batchId, null);
        assert.equal(stored?.message, "JumpCloud answered 503");
        assert.equal(stored?.attempts, 1);
        const request = await store.getRequest(r.id);
        assert.equal(request?.state, "queued");
        assert.equal(request?.statusNote, `Waiting for JumpCloud (JumpCloud answered 503); next try at ${at(300)}.`);
        const last = (await store.listAudit(r.id)).at(-1);
        assert.equal(last?.event, "dispatch_delayed");
        assert.equal(last?.detail, "JumpCloud answered 503");
        assert.deepEqual((await outboxKinds(store, r.id)).slice(-1), ["update_approval"]);
        assert.equal(await store.countReady(at(299)), 0);
        assert.equal(await store.countReady(at(300)), 1);
        assert.equal(await store.oldestReadyAt(), at(300));
        assert.deepEqual(await store.listSubmittedBatches(), []);
      });

      it("the status note is cleared once the batch is submitted", async () => {
        const r = await approved(store, "user-a", 0);
        const b1 = await store.claimBatch(10, at(1));
        assert.ok(b1);
        await store.releaseBatch(b1.batchId, { readyAt: at(5), message: "JumpCloud unreachable", at: at(2) });
        const b2 = await store.claimBatch(10, at(5));
        assert.ok(b2);
        await store.markBatchSubmitted(b2.batchId, "job-2", at(6));
        const request = await store.getRequest(r.id);
        assert.equal(request?.statusNote, null);
        assert.equal(request?.state, "submitted");
        assert.equal((await store.listItems(r.id))[0]?.message, null);
      });

      it("completeBatch with the item applied → request 'applied', outbox update_approval and dm_outcome", async () => {
        const r = await approved(store, "user-a", 0);
        const batch = await store.claimBatch(10, at(1));
        assert.ok(batch);
        await store.markBatchSubmitted(batch.batchId, "job-1", at(2));
        const itemId = batch.items[0]?.id ?? -1;
        await store.completeBatch(batch.batchId, [{ itemId, state: "applied", message: null }], at(3));
        assert.equal((await store.listItems(r.id))[0]?.state, "applied");
        const request = await store.getRequest(r.id);
        assert.equal(request?.state, "applied");
        assert.equal(request?.statusNote, null);
        const last = (await store.listAudit(r.id)).at(-1);
        assert.deepEqual(last, {
          requestId: r.id,
          event: "applied",
          fromState: "submitted",
          toState: "applied",
          actor: "system",
          at: at(3),
          detail: null,
        });
        assert.deepEqual((await outboxKinds(store, r.id)).slice(-2), ["update_approval", "dm_outcome"]);
        assert.deepEqual(await store.listSubmittedBatches(), []);
      });

      it("completeBatch with the item failed → request 'failed' with JumpCloud's message", async () => {
        const r = await approved(store, "user-a", 0);
        const batch = await store.claimBatch(10, at(1));
        assert.ok(batch);
        await store.markBatchSubmitted(batch.batchId, "job-1", at(2));
        const itemId = batch.items[0]?.id ?? -1;
        await store.completeBatch(batch.batchId, [{ itemId, state: "failed", message: "email already in use" }], at(3));
        const [stored] = await store.listItems(r.id);
        assert.equal(stored?.state, "failed");
        assert.equal(stored?.message, "email already in use");
        assert.equal((await store.getRequest(r.id))?.state, "failed");
        const last = (await store.listAudit(r.id)).at(-1);
        assert.equal(last?.event, "failed");
        assert.equal(last?.detail, "email already in use");
        assert.deepEqual((await outboxKinds(store, r.id)).slice(-2), ["update_approval", "dm_outcome"]);
      });

      it("completeBatch straight from 'sending' (a refused call) → request 'failed' from 'queued'", async () => {
        const r = await approved(store, "user-a", 0);
        const batch = await store.claimBatch(10, at(1));
        assert.ok(batch);
        const itemId = batch.items[0]?.id ?? -1;
        await store.completeBatch(batch.batchId, [{ itemId, state: "failed", message: "400 bad request" }], at(2));
        const last = (await store.listAudit(r.id)).at(-1);
        assert.equal(last?.fromState, "queued");
        assert.equal(last?.toState, "failed");
        assert.equal((await store.getRequest(r.id))?.state, "failed");
      });

      it("completeBatch over two requests gives each its own outcome", async () => {
        const ra = await approved(store, "user-a", 0);
        const rb = await approved(store, "user-b", 1);
        const batch = await store.claimBatch(10, at(2));
        assert.ok(batch);
        await store.markBatchSubmitted(batch.batchId, "job-1", at(3));
        const [ia, ib] = batch.items;
        assert.ok(ia && ib);
        await store.completeBatch(
          batch.batchId,
          [
            { itemId: ia.id, state: "applied", message: null },
            { itemId: ib.id, state: "unknown", message: "JumpCloud reported no result for this user" },
          ],
          at(4),
        );
        assert.equal((await store.getRequest(ra.id))?.state, "applied");
        assert.equal((await store.getRequest(rb.id))?.state, "failed");
        assert.equal((await store.listItems(rb.id))[0]?.state, "unknown");
      });

      it("a request's outcome audit detail only carries its own items' messages", {}, async () => {
        const ra = await approved(store, "user-a", 0);
        await approved(store, "user-b", 1);
        const batch = await store.claimBatch(10, at(2));
        assert.ok(batch);
        await store.markBatchSubmitted(batch.batchId, "job-1", at(3));
        const [ia, ib] = batch.items;
        assert.ok(ia && ib);
        await store.completeBatch(
          batch.batchId,
          [
            { itemId: ia.id, state: "applied", message: null },
            { itemId: ib.id, state: "failed", message: "b's secret failure" },
          ],
          at(4),
        );
        const last = (await store.listAudit(ra.id)).at(-1);
        assert.equal(last?.event, "applied");
        assert.equal(last?.detail, null);
      });

      it("completing the same batch twice is harmless", {}, async () => {
        const r = await approved(store, "user-a", 0);
        const batch = await store.claimBatch(10, at(1));
        assert.ok(batch);
        await store.markBatchSubmitted(batch.batchId, "job-1", at(2));
        const outcomes = [{ itemId: batch.items[0]?.id ?? -1, state: "applied" as const, message: null }];
        await store.completeBatch(batch.batchId, outcomes, at(3));
        await store.completeBatch(batch.batchId, outcomes, at(4));
        assert.equal((await store.getRequest(r.id))?.state, "applied");
      });

      it("recoverSending re-queues 'sending' items and leaves 'submitted' ones alone", async () => {
        const ra = await approved(store, "user-a", 0);
        const rb = await approved(store, "user-b", 1);
        const b1 = await store.claimBatch(1, at(2));
        assert.ok(b1);
        await store.markBatchSubmitted(b1.batchId, "job-1", at(3));
        const b2 = await store.claimBatch(1, at(4));
        assert.ok(b2);
        assert.equal(b2.items[0]?.requestId, rb.id);

        assert.equal(await store.recoverSending(at(5)), 1);
        const [itemB] = await store.listItems(rb.id);
        assert.equal(itemB?.state, "queued");
        assert.equal(itemB?.batchId, null);
        assert.equal((await store.listItems(ra.id))[0]?.state, "submitted");
        assert.deepEqual(
          (await store.listSubmittedBatches()).map((b) => b.batchId),
          [b1.batchId],
        );
        const again = await store.claimBatch(10, at(6));
        assert.deepEqual(
          again?.items.map((i) => [i.requestId, i.attempts]),
          [[rb.id, 2]],
        );
        assert.equal(await store.recoverSending(at(7)), 1);
        assert.equal(await store.recoverSending(at(8)), 0);
      });
    });

    describe("outbox", () => {
      it("next / complete / retry / fail cycle", async () => {
        const r1 = await store.createRequest(newRequest(), at(0));
        const r2 = await store.createRequest(newRequest(), at(1));
        const all = await store.nextOutbox(at(1), 10);
        assert.deepEqual(
          all.map((o) => [o.requestId, o.kind]),
          [
            [r1.id, "post_approval"],
            [r1.id, "dm_receipt"],
            [r2.id, "post_approval"],
            [r2.id, "dm_receipt"],
          ],
        );
        // limit and readiness
        assert.equal((await store.nextOutbox(at(1), 2)).length, 2);
        assert.deepEqual(
          (await store.nextOutbox(at(0), 10)).map((o) => o.requestId),
          [r1.id, r1.id],
        );
        const [a, b, c, d] = all;
        assert.ok(a && b && c && d);

        await store.completeOutbox(a.id);
        await store.retryOutbox(b.id, at(60), "slack 500");
        await store.failOutbox(c.id, "channel_not_found");
        assert.deepEqual(
          (await store.nextOutbox(at(59), 10)).map((o) => o.id),
          [d.id],
        );
        const later = await store.nextOutbox(at(60), 10);
        assert.deepEqual(
          later.map((o) => ({ id: o.id, attempts: o.attempts, readyAt: o.readyAt })),
          [
            { id: b.id, attempts: 1, readyAt: at(60) },
            { id: d.id, attempts: 0, readyAt: at(1) },
          ],
        );
        await store.retryOutbox(b.id, at(120), "slack 500 again");
        assert.equal((await store.nextOutbox(at(120), 10)).find((o) => o.id === b.id)?.attempts, 2);
        await store.completeOutbox(b.id);
        await store.completeOutbox(d.id);
        assert.deepEqual(await store.nextOutbox(at(100_000), 10), []);
      });
    });

    it("bulk checks: with renewedBefore, only those not renewed since (their process stopped)", async () => {
      const check = { requesterId: "U0ADMIN", viewId: "V1", startedAt: at(0) };
      await store.startBulkCheck({ draftId: "d1", ...check });
      await store.startBulkCheck({ draftId: "d2", ...check });
      await store.touchBulkChecks(["d2"], at(50));
      assert.deepEqual(
        (await store.listBulkChecks(at(30))).map((c) => c.draftId),
        ["d1"],
      );
      assert.deepEqual((await store.listBulkChecks()).map((c) => c.draftId).sort(), ["d1", "d2"]);
      await store.endBulkCheck("d1");
      assert.deepEqual(await store.listBulkChecks(at(30)), []);
      assert.deepEqual(
        (await store.listBulkChecks(at(60))).map((c) => c.draftId),
        ["d2"],
      );
    });

    it("ping answers", async () => {
      await store.ping();
    });
  });

describe("store (sqlite file)", () => {
  const dir = mkdtempSync(join(tmpdir(), "jc-update-bot-store-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("creates the folder, survives close and reopen, and migrations are idempotent", async () => {
    const url = `sqlite:${join(dir, "nested", "folder", "bot.db")}`;
    const first = await openStore(url);
    const r = await approved(first, "user-a", 0);
    const batch = await first.claimBatch(10, at(1));
    assert.ok(batch);
    await first.markBatchSubmitted(batch.batchId, "job-file", at(2));
    const request = await first.getRequest(r.id);
    const items = await first.listItems(r.id);
    const auditTrail = await first.listAudit(r.id);
    const outbox = await first.nextOutbox(at(10), 100);
    await first.close();

    const second = await openStore(url);
    try {
      assert.deepEqual(await second.getRequest(r.id), request);
      assert.deepEqual(await second.listItems(r.id), items);
      assert.deepEqual(await second.listAudit(r.id), auditTrail);
      assert.deepEqual(await second.nextOutbox(at(10), 100), outbox);
      assert.deepEqual(
        (await second.listSubmittedBatches()).map((b) => [b.batchId, b.jobId]),
        [[batch.batchId, "job-file"]],
      );
      const next = await second.createRequest(newRequest(), at(20));
      assert.equal(next.id, r.id + 1);
    } finally {
      await second.close();
    }

    const third = await openStore(url);
    try {
      assert.equal((await third.getRequest(r.id + 1))?.state, "pending");
      await third.ping();
    } finally {
      await third.close();
    }
  });

  it("a request decided before a restart stays decided", async () => {
    const url = `sqlite:${join(dir, "decided.db")}`;
    const first = await openStore(url);
    const created = await first.createRequest(newRequest(), at(0));
    await first.decide({ requestId: created.id, decision: "deny", actor: "U0FIRST", at: at(1) });
    await first.close();
    const second = await openStore(url);
    try {
      const again = await second.decide({ requestId: created.id, decision: "approve", actor: "U0SECOND", at: at(2) });
      assert.ok(!again.ok && again.reason === "already_decided");
      assert.equal(again.request.decidedBy, "U0FIRST");
      assert.equal(again.request.state, "denied");
    } finally {
      await second.close();
    }
  });
});

describe("store (postgres): two replicas on one database", { skip: PG_SKIP }, () => {
  let a: Store;
  let b: Store;
  let drop: () => Promise<void>;
  beforeEach(async () => {
    const schema = await freshPgSchema();
    drop = schema.drop;
    // Both migrate at once, as two replicas starting together do.
    [a, b] = await Promise.all([openStore(schema.url), openStore(schema.url)]);
  });
  afterEach(async () => {
    await Promise.all([a.close(), b.close()]);
    await drop();
  });

  it("approvals and claims racing on two stores: every item claimed once, one per user in flight, in approval order", async () => {
    // 40 requests over 10 users, created and approved alternately through both stores at once.
    const created = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (i % 2 ? a : b).createRequest(
          newRequest({ targetUserId: `user-${i % 10}`, targetLabel: `u${i % 10}@example.com` }),
          at(i),
        ),
      ),
    );
    const decided = await Promise.all(
      created.map((r, i) =>
        (i % 2 ? b : a).decide({ requestId: r.id, decision: "approve", actor: "U0APPROVER", at: at(100) }),
      ),
    );
    assert.ok(decided.every((d) => d.ok));
    // Double decisions from the other replica all lose.
    const again = await Promise.all(
      created.map((r, i) =>
        (i % 2 ? a : b).decide({ requestId: r.id, decision: "deny", actor: "U0OTHER", at: at(101) }),
      ),
    );
    assert.ok(again.every((d) => !d.ok && d.reason === "already_decided"));

    const items = (await Promise.all(created.map((r) => a.listItems(r.id)))).flat();
    assert.equal(items.length, 40);
    assert.equal(new Set(items.map((i) => i.seq)).size, 40, "every item has its own place in the order");

    const claimedBy = new Map<number, number>();
    const seqs = new Map<string, number[]>();
    for (let round = 0; round < 10; round++) {
      const batches = (await Promise.all([a.claimBatch(5, at(200)), b.claimBatch(5, at(200))])).filter(
        (x) => x !== undefined,
      );
      const users = batches.flatMap((x) => x.items.map((i) => i.userId));
      assert.equal(new Set(users).size, users.length, "never two items of one user in flight");
      for (const batch of batches) {
        for (const item of batch.items) {
          claimedBy.set(item.id, (claimedBy.get(item.id) ?? 0) + 1);
          seqs.set(item.userId, [...(seqs.get(item.userId) ?? []), item.seq]);
        }
        await (round % 2 ? a : b).completeBatch(
          batch.batchId,
          batch.items.map((i) => ({ itemId: i.id, state: "applied" as const, message: null })),
          at(300),
        );
      }
    }
    assert.equal(claimedBy.size, 40);
    assert.ok(
      [...claimedBy.values()].every((n) => n === 1),
      "no item claimed twice",
    );
    for (const [user, list] of seqs) {
      assert.deepEqual(
        list,
        [...list].sort((x, y) => x - y),
        `${user}'s changes applied in approval order`,
      );
    }
    const states = await Promise.all(created.map(async (r) => (await b.getRequest(r.id))?.state));
    assert.ok(states.every((s) => s === "applied"));
  });
});

describe("openStore: PostgreSQL that cannot be opened", () => {
  it("says why, with the driver's code, and never the URL's password", async () => {
    await assert.rejects(openStore("postgres://bot:hunter2@127.0.0.1:1/jc"), (error: Error) => {
      assert.match(error.message, /^DATABASE_URL: cannot open the PostgreSQL database \(ECONNREFUSED: /);
      assert.doesNotMatch(error.message, /hunter2/);
      return true;
    });
  });
});
