import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import Database from "better-sqlite3";
import { Kysely, Migrator, SqliteDialect, sql } from "kysely";
import { Dispatcher } from "../../src/jumpcloud/dispatcher.js";
import { JumpCloudError } from "../../src/jumpcloud/jumpcloud-error.js";
import type { JcUser, RequestRow } from "../../src/requests/types.js";
import { Notifier } from "../../src/slack/notifier.js";
import { migrateToLatest } from "../../src/store/migrations.js";
import { openStore } from "../../src/store/open-store.js";
import type { NewRequest, Store } from "../../src/store/store.js";

const T0 = Date.parse("2025-03-01T09:00:00.000Z");
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

const silent = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
  fatal() {},
  child() {
    return silent;
  },
} as never;

function bulkRequest(rows: RequestRow[], overrides: Partial<NewRequest> = {}): NewRequest {
  return {
    kind: "bulk",
    requesterId: "U0ADMIN",
    targetUserId: "",
    targetLabel: `${rows.length} users (pasted CSV)`,
    targetSlackId: null,
    reason: "Department renamed",
    changes: [],
    bulk: { users: rows.length, fields: ["department"], skippedRows: 0, identity: "email", source: "pasted CSV" },
    rows,
    ...overrides,
  };
}
const row = (n: number, userId: string, newValue = "Data", oldValue = "Eng"): RequestRow => ({
  row: n,
  userId,
  label: `${userId}@example.com`,
  changes: [{ field: "department", oldValue, newValue }],
});

describe("attack: migrating a database made before 0004 (bulk) keeps its single-request items working", () => {
  it("queued, submitted and applied items of single requests get their request's changes and label", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "jc-pre0004-")), "bot.db");
    const sqlite = new Database(file);
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: sqlite }) });
    // Run 0001–0003 only, as a build from before bulk requests did.
    const original = Migrator.prototype.migrateToLatest;
    Migrator.prototype.migrateToLatest = function (this: Migrator) {
      return this.migrateTo("0003_items_claim_index");
    };
    try {
      await migrateToLatest(db);
    } finally {
      Migrator.prototype.migrateToLatest = original;
    }
    const changes = JSON.stringify([{ field: "department", oldValue: "Eng", newValue: "Data" }]);
    const other = JSON.stringify([{ field: "jobTitle", oldValue: "Dev", newValue: "Lead" }]);
    const req = (id: number, state: string, user: string, ch: string) =>
      sql`insert into requests (id, kind, state, requester_id, target_user_id, target_label, reason, changes, created_at, updated_at)
          values (${id}, 'single', ${state}, 'U1', ${user}, ${`${user}@example.com`}, 'r', ${ch}, ${at(0)}, ${at(0)})`.execute(
        db,
      );
    await req(1, "queued", "jc-a", changes);
    await req(2, "submitted", "jc-b", other);
    await req(3, "applied", "jc-c", changes);
    await req(4, "pending", "jc-d", changes);
    await sql`insert into batches (id, state, job_id, created_at, submitted_at) values (7, 'submitted', 'job-7', ${at(1)}, ${at(1)})`.execute(
      db,
    );
    await sql`insert into items (request_id, user_id, state, seq, attempts, ready_at, created_at, updated_at)
        values (1, 'jc-a', 'queued', 1, 0, ${at(0)}, ${at(0)}, ${at(0)})`.execute(db);
    await sql`insert into items (request_id, user_id, state, seq, attempts, ready_at, batch_id, job_id, created_at, updated_at)
        values (2, 'jc-b', 'submitted', 2, 1, ${at(0)}, 7, 'job-7', ${at(0)}, ${at(1)})`.execute(db);
    await sql`insert into items (request_id, user_id, state, seq, attempts, ready_at, created_at, updated_at)
        values (3, 'jc-c', 'applied', 3, 1, ${at(0)}, ${at(0)}, ${at(5)})`.execute(db);
    await db.destroy();

    const store = await openStore(`sqlite:${file}`);
    try {
      const submitted = await store.listSubmittedBatches();
      assert.equal(submitted.length, 1);
      assert.deepEqual(submitted[0]?.items[0]?.changes, JSON.parse(other));
      assert.equal(submitted[0]?.items[0]?.label, "jc-b@example.com");
      const claimed = await store.claimBatch(10, at(10));
      assert.deepEqual(
        claimed?.items.map((i) => [i.userId, i.changes, i.label, i.row]),
        [["jc-a", JSON.parse(changes), "jc-a@example.com", null]],
      );
      assert.deepEqual(await store.listAppliedChanges("jc-c", at(0)), JSON.parse(changes));
      // A request pending at upgrade time is approved with the new code: one item with its changes.
      const decided = await store.decide({ requestId: 4, decision: "approve", actor: "U2", at: at(20) });
      assert.equal(decided.ok, true);
      const items = await store.listItems(4);
      assert.deepEqual(
        items.map((i) => [i.userId, i.changes, i.seq > 3]),
        [["jc-d", JSON.parse(changes), true]],
      );
      // The submitted job completes as before.
      await store.completeBatch(
        7,
        [{ itemId: submitted[0]?.items[0]?.id ?? 0, state: "applied", message: null }],
        at(30),
      );
      assert.equal((await store.getRequest(2))?.state, "applied");
    } finally {
      await store.close();
    }
  });
});

describe("attack: bulk store lifecycle", () => {
  let store: Store;
  beforeEach(async () => {
    store = await openStore("sqlite::memory:");
  });
  afterEach(async () => store.close());

  it("the final audit entry of a bulk request names every user not applied, not only the last call's", async () => {
    const created = await store.createRequest(bulkRequest([row(2, "jc-bob"), row(3, "jc-alice")]), at(0));
    await store.decide({ requestId: created.id, decision: "approve", actor: "U0APPROVER", at: at(1) });
    // Two calls of one user each: bob fails in the first, alice applies in the second.
    const first = await store.claimBatch(1, at(2));
    assert.ok(first);
    await store.markBatchSubmitted(first.batchId, "job-1", at(3));
    await store.completeBatch(
      first.batchId,
      [{ itemId: first.items[0]?.id ?? 0, state: "failed", message: "email already taken" }],
      at(4),
    );
    const second = await store.claimBatch(1, at(5));
    assert.ok(second);
    await store.markBatchSubmitted(second.batchId, "job-2", at(6));
    await store.completeBatch(
      second.batchId,
      [{ itemId: second.items[0]?.id ?? 0, state: "applied", message: null }],
      at(7),
    );
    assert.equal((await store.getRequest(created.id))?.state, "partially_applied");
    const final = (await store.listAudit(created.id)).find((a) => a.event === "partially_applied");
    assert.ok(final);
    assert.match(
      final.detail ?? "",
      /email already taken/,
      `the audit of the outcome says nothing about bob's failure: detail=${JSON.stringify(final.detail)}`,
    );
    assert.match(final.detail ?? "", /jc-bob/, "the audit detail names the user that failed");
  });

  it("two bulk requests over the same users are claimed in approval order, one item per user per batch", async () => {
    const a = await store.createRequest(bulkRequest([row(2, "u1", "A"), row(3, "u2", "A")]), at(0));
    const b = await store.createRequest(bulkRequest([row(2, "u2", "B"), row(3, "u1", "B"), row(4, "u3", "B")]), at(0));
    await store.decide({ requestId: b.id, decision: "approve", actor: "U0APPROVER", at: at(1) });
    await store.decide({ requestId: a.id, decision: "approve", actor: "U0APPROVER", at: at(2) });
    const first = await store.claimBatch(100, at(3));
    assert.deepEqual(
      first?.items.map((i) => [i.requestId, i.userId]),
      [
        [b.id, "u2"],
        [b.id, "u1"],
        [b.id, "u3"],
      ],
    );
    assert.equal(await store.claimBatch(100, at(3)), undefined);
    await store.markBatchSubmitted(first?.batchId ?? 0, "job-1", at(4));
    await store.completeBatch(
      first?.batchId ?? 0,
      (first?.items ?? []).map((i) => ({ itemId: i.id, state: "applied" as const, message: null })),
      at(5),
    );
    const second = await store.claimBatch(100, at(6));
    assert.deepEqual(
      second?.items.map((i) => [i.requestId, i.userId]),
      [
        [a.id, "u1"],
        [a.id, "u2"],
      ],
    );
  });
});

describe("attack: notifier coalescing of approval-message updates", () => {
  it("a request finishing while a progress update is being rendered still gets its final state shown", async () => {
    const store = await openStore("sqlite::memory:");
    try {
      const created = await store.createRequest(bulkRequest([row(2, "jc-bob"), row(3, "jc-alice")]), at(0));
      await store.setApprovalMessage(created.id, "C0APPROVAL", "1700000000.000100");
      for (const o of await store.nextOutbox(at(1_000_000), 100)) await store.completeOutbox(o.id);
      await store.decide({ requestId: created.id, decision: "approve", actor: "U0APPROVER", at: at(1) });
      const batch = await store.claimBatch(10, at(2));
      assert.ok(batch);
      await store.markBatchSubmitted(batch.batchId, "job-1", at(3));
      // Everything sent so far except the progress update of the call just submitted.
      const sent = await store.nextOutbox(at(1_000_000), 100);
      for (const o of sent.slice(0, -1)) await store.completeOutbox(o.id);
      assert.equal(sent.at(-1)?.kind, "update_approval");

      // The dispatcher commits the results between the notifier's read of the request and its
      // coalescing of later updates (two awaits apart in Notifier.deliver).
      let finishedOnce = false;
      const racing = new Proxy(store, {
        get(target, prop, receiver) {
          if (prop === "listItems") {
            return async (id: number) => {
              const items = await target.listItems(id);
              if (!finishedOnce) {
                finishedOnce = true;
                await target.completeBatch(
                  batch.batchId,
                  batch.items.map((i) => ({ itemId: i.id, state: "applied" as const, message: null })),
                  at(4),
                );
              }
              return items;
            };
          }
          const value = Reflect.get(target, prop, receiver);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
      const updates: string[] = [];
      const ok = async () => ({ ok: true, channel: "C0APPROVAL", ts: "1700000000.000200" });
      const client = {
        chat: {
          update: async (args: { blocks: unknown }) => {
            updates.push(JSON.stringify(args.blocks));
            return { ok: true };
          },
          postMessage: ok,
        },
        filesUploadV2: async () => ({ ok: true }),
      };
      const notifier = new Notifier({
        store: racing,
        client: client as never,
        config: {
          slack: { approvalChannelId: "C0APPROVAL" },
          dispatch: { batchMaxSize: 100 },
        } as never,
        logger: silent,
        clock: { now: () => new Date(T0 + 10_000) },
      });
      notifier.kick();
      const deadline = Date.now() + 3000;
      while (Date.now() < deadline) {
        const pending = await store.nextOutbox(at(1_000_000), 100);
        if (pending.length === 0 && finishedOnce) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      await notifier.stop(500);
      assert.equal((await store.getRequest(created.id))?.state, "applied");
      assert.ok(updates.length > 0);
      assert.match(
        updates.at(-1) ?? "",
        /Applied in JumpCloud/,
        `the approval message was last updated to: …${updates.at(-1)?.slice(-160)}`,
      );
    } finally {
      await store.close();
    }
  });
});

describe("attack: give-up hours in a batch mixing old and new items", () => {
  it("an item approved a minute ago is not given up because an older item shares its batch", async () => {
    const store = await openStore("sqlite::memory:");
    let now = T0;
    try {
      const old = await store.createRequest(bulkRequest([row(2, "jc-old")]), at(0));
      await store.decide({ requestId: old.id, decision: "approve", actor: "U0APPROVER", at: at(0) });
      // JumpCloud has been failing for a day: the old item waits, released again and again.
      const fresh = await store.createRequest(bulkRequest([row(2, "jc-new")]), at(25 * 3600 - 60));
      await store.decide({ requestId: fresh.id, decision: "approve", actor: "U0APPROVER", at: at(25 * 3600 - 60) });
      now = T0 + 25 * 3600 * 1000;
      const users = new Map<string, JcUser | null>([
        ["jc-old", { _id: "jc-old", email: "o@x", username: "o", department: "Eng" }],
        ["jc-new", { _id: "jc-new", email: "n@x", username: "n", department: "Eng" }],
      ]);
      let patches = 0;
      const jumpcloud = {
        getUsers: async (ids: readonly string[]) => new Map(ids.map((id) => [id, users.get(id) ?? null])),
        updateUsers: async () => {
          patches += 1;
          throw new JumpCloudError("JumpCloud answered 503", 503);
        },
        getJobResults: async () => [],
      };
      const dispatcher = new Dispatcher({
        store,
        jumpcloud: jumpcloud as never,
        config: {
          batchMaxSize: 100,
          batchWindowMs: 0,
          retryBaseDelayMs: 20,
          resultsPollIntervalMs: 20,
          giveUpHours: 24,
          conflictCheck: true,
        } as never,
        logger: silent,
        clock: { now: () => new Date(now) },
        onNotify: () => undefined,
      });
      await dispatcher.start();
      const deadline = Date.now() + 3000;
      while (Date.now() < deadline && patches === 0) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 100));
      await dispatcher.stop(500);
      assert.equal(patches, 1, "one call with both users");
      assert.equal((await store.getRequest(old.id))?.state, "failed", "the day-old item is given up");
      const freshItems = await store.listItems(fresh.id);
      assert.deepEqual(
        freshItems.map((i) => [i.state, i.message?.slice(0, 60) ?? null]),
        [["queued", freshItems[0]?.message?.slice(0, 60) ?? null]],
        `the item approved a minute ago was given up: ${JSON.stringify(freshItems.map((i) => i.message))}`,
      );
      assert.notEqual((await store.getRequest(fresh.id))?.state, "failed");
    } finally {
      await store.close();
    }
  });
});

describe("attack: the reminder when the approval post is late", () => {
  for (const kind of ["bulk", "single"] as const)
    it(`a reminder due while the approval message could not be posted yet is not lost (${kind})`, async () => {
      const store = await openStore("sqlite::memory:");
      try {
        const input =
          kind === "bulk"
            ? bulkRequest([row(2, "jc-bob")])
            : {
                ...bulkRequest([]),
                kind: "single" as const,
                targetUserId: "jc-bob",
                targetLabel: "bob@example.com",
                bulk: null,
                rows: [],
                changes: [{ field: "department", oldValue: "Eng", newValue: "Data" }],
              };
        const created = await store.createRequest(input, new Date(Date.now() - 3_600_000).toISOString());
        // Another request is busy meanwhile (its approval post and DM go out).
        await store.createRequest({ ...input, requesterId: "U0OTHER" }, new Date().toISOString());
        // Slack refuses the approval post for a moment (internal_error: transient); the reminder falls due.
        await store.remindPending(new Date(Date.now() - 1_800_000).toISOString(), new Date().toISOString());
        let refusals = 2;
        const posts: { channel: unknown; thread_ts?: unknown; text?: unknown }[] = [];
        const client = {
          chat: {
            postMessage: async (args: { channel: string; thread_ts?: string; text?: string }) => {
              if (
                args.channel === "C0APPROVAL" &&
                !args.thread_ts &&
                String(args.text).includes(`#${created.id} `) &&
                refusals-- > 0
              ) {
                throw Object.assign(new Error("An API error occurred: internal_error"), {
                  code: "slack_webapi_platform_error",
                  data: { ok: false, error: "internal_error" },
                });
              }
              posts.push(args);
              return { ok: true, channel: args.channel, ts: "1700000000.000100" };
            },
            update: async () => ({ ok: true }),
          },
          filesUploadV2: async () => ({ ok: true }),
        };
        const notifier = new Notifier({
          store,
          client: client as never,
          config: { slack: { approvalChannelId: "C0APPROVAL" }, dispatch: { batchMaxSize: 100 } } as never,
          logger: silent,
          clock: { now: () => new Date() },
        });
        notifier.kick();
        const deadline = Date.now() + 6000;
        while (
          Date.now() < deadline &&
          (await store.nextOutbox(new Date(Date.now() + 3_600_000).toISOString(), 10)).length > 0
        ) {
          await new Promise((r) => setTimeout(r, 50));
        }
        await notifier.stop(500);
        assert.equal((await store.getRequest(created.id))?.approvalTs, "1700000000.000100", "approval message posted");
        assert.equal((await store.getRequest(created.id))?.state, "pending");
        assert.ok(
          posts.some((p) => p.thread_ts === "1700000000.000100" && /Reminder/.test(String(p.text))),
          `no reminder in the approval thread; posted: ${JSON.stringify(posts.map((p) => [p.channel, p.thread_ts, String(p.text).slice(0, 40)]))}`,
        );
      } finally {
        await store.close();
      }
    });
});
