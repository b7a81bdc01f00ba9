import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { JobResult } from "../../src/jumpcloud/jumpcloud-client.js";
import { isPending, matchResults } from "../../src/jumpcloud/match-results.js";
import type { ItemRecord } from "../../src/requests/types.js";

function item(id: number, userId: string): ItemRecord {
  return {
    id,
    requestId: 100 + id,
    userId,
    state: "submitted",
    seq: id,
    attempts: 1,
    readyAt: "2025-01-01T00:00:00.000Z",
    queuedAt: "2025-01-01T00:00:00.000Z",
    batchId: 1,
    jobId: "job-1",
    message: null,
    changes: [],
    label: userId,
    row: null,
  };
}

const ITEMS = [item(1, "user-a"), item(2, "user-b"), item(3, "user-c")];
const UNKNOWN = { state: "unknown", message: "JumpCloud reported no result for this user" } as const;

describe("matchResults", () => {
  it("matches by meta.systemUserId, whatever the order", () => {
    const results: JobResult[] = [
      { id: "r3", status: "finished", meta: { systemUserId: "user-c" } },
      { id: "r1", status: "failed", statusMsg: "email already in use", meta: { systemUserId: "user-a" } },
      { id: "r2", status: "finished", meta: { systemUserId: "user-b" } },
    ];
    assert.deepEqual(matchResults(ITEMS, results), [
      { itemId: 1, state: "failed", message: "email already in use" },
      { itemId: 2, state: "applied", message: null },
      { itemId: 3, state: "applied", message: null },
    ]);
  });

  it("matches by persistedFields.id, whatever the order", () => {
    const results: JobResult[] = [
      { status: "finished", persistedFields: { id: "user-b" } },
      { status: "finished", persistedFields: { id: "user-c" } },
      { status: "failed", statusMsg: "bad manager", persistedFields: { id: "user-a" } },
    ];
    assert.deepEqual(matchResults(ITEMS, results), [
      { itemId: 1, state: "failed", message: "bad manager" },
      { itemId: 2, state: "applied", message: null },
      { itemId: 3, state: "applied", message: null },
    ]);
  });

  it("matches by a nested user object in meta", () => {
    const results: JobResult[] = [{ status: "finished", meta: { user: { _id: "user-a" } } }];
    assert.deepEqual(matchResults([item(1, "user-a")], results), [{ itemId: 1, state: "applied", message: null }]);
  });

  it("falls back to order when no record carries an id and the counts match", () => {
    const results: JobResult[] = [
      { id: "r1", status: "finished" },
      { id: "r2", status: "failed", statusMsg: "invalid phone" },
      { id: "r3", status: "finished", meta: {} },
    ];
    assert.deepEqual(matchResults(ITEMS, results), [
      { itemId: 1, state: "applied", message: null },
      { itemId: 2, state: "failed", message: "invalid phone" },
      { itemId: 3, state: "applied", message: null },
    ]);
  });

  it("no fallback to order when the counts differ: unmatched items are unknown", () => {
    const results: JobResult[] = [{ status: "finished" }, { status: "finished" }];
    assert.deepEqual(matchResults(ITEMS, results), [
      { itemId: 1, ...UNKNOWN },
      { itemId: 2, ...UNKNOWN },
      { itemId: 3, ...UNKNOWN },
    ]);
  });

  it("a user with no record → unknown, the others still matched", () => {
    const results: JobResult[] = [
      { status: "finished", meta: { systemUserId: "user-c" } },
      { status: "finished", meta: { systemUserId: "user-a" } },
    ];
    assert.deepEqual(matchResults(ITEMS, results), [
      { itemId: 1, state: "applied", message: null },
      { itemId: 2, ...UNKNOWN },
      { itemId: 3, state: "applied", message: null },
    ]);
  });

  it("a record for a user not in the batch is ignored", () => {
    const results: JobResult[] = [{ status: "finished", meta: { systemUserId: "someone-else" } }];
    assert.deepEqual(matchResults([item(1, "user-a")], results), [{ itemId: 1, ...UNKNOWN }]);
  });

  it("a record with an id is not taken by order for another user", () => {
    const results: JobResult[] = [
      { status: "finished", meta: { systemUserId: "user-b" } },
      { status: "finished", meta: { systemUserId: "someone-else" } },
    ];
    assert.deepEqual(matchResults([item(1, "user-a"), item(2, "user-b")], results), [
      { itemId: 1, ...UNKNOWN },
      { itemId: 2, state: "applied", message: null },
    ]);
  });

  it("failed with statusMsg → failed with that message", () => {
    const results: JobResult[] = [
      { status: "failed", statusMsg: "Username already exists", meta: { systemUserId: "user-a" } },
    ];
    assert.deepEqual(matchResults([item(1, "user-a")], results), [
      { itemId: 1, state: "failed", message: "Username already exists" },
    ]);
  });

  it("failed without statusMsg → failed, message names the status", () => {
    const results: JobResult[] = [{ status: "failed", meta: { systemUserId: "user-a" } }];
    assert.deepEqual(matchResults([item(1, "user-a")], results), [
      { itemId: 1, state: "failed", message: "status failed" },
    ]);
  });

  it("an unknown status string → failed", () => {
    const results: JobResult[] = [
      { status: "exploded", meta: { systemUserId: "user-a" } },
      { status: "FINISHED", statusMsg: "", meta: { systemUserId: "user-b" } },
    ];
    assert.deepEqual(matchResults([item(1, "user-a"), item(2, "user-b")], results), [
      { itemId: 1, state: "failed", message: "status exploded" },
      { itemId: 2, state: "failed", message: "status FINISHED" },
    ]);
  });

  it("weird shapes never throw: null meta, numeric ids, arrays, strings", () => {
    const results = [
      { status: "finished", meta: null, persistedFields: 42 },
      { status: "finished", meta: { systemUserId: 123, user: null }, persistedFields: "user-b" },
      { status: 7, meta: [], persistedFields: { id: ["user-c"] } },
    ] as unknown as JobResult[];
    assert.deepEqual(matchResults(ITEMS, results), [
      { itemId: 1, state: "applied", message: null },
      { itemId: 2, state: "applied", message: null },
      { itemId: 3, state: "unknown", message: "JumpCloud's result for this user had no status" },
    ]);
  });

  it("no results at all → every item unknown", () => {
    assert.deepEqual(matchResults(ITEMS.slice(0, 1), []), [{ itemId: 1, ...UNKNOWN }]);
  });

  it("no items → no outcomes", () => {
    assert.deepEqual(matchResults([], [{ status: "finished" }]), []);
  });

  it("a null record never throws and leaves the item unknown", {}, () => {
    const results = [null] as unknown as JobResult[];
    assert.equal(results.some(isPending), false);
    assert.deepEqual(matchResults([item(1, "user-a")], results), [{ itemId: 1, ...UNKNOWN }]);
  });

  it("a non-object record (a number) leaves the item unknown, not failed", {}, () => {
    const results = [42] as unknown as JobResult[];
    assert.deepEqual(matchResults([item(1, "user-a")], results), [{ itemId: 1, ...UNKNOWN }]);
  });
});

describe("isPending", () => {
  it("only an explicit pending status is pending (a record without status is reported unknown)", () => {
    assert.equal(isPending({ status: "pending" }), true);
    assert.equal(isPending({}), false);
    assert.equal(isPending(null), false);
    assert.equal(isPending({ status: "finished" }), false);
    assert.equal(isPending({ status: "failed" }), false);
    assert.equal(isPending({ status: "exploded" }), false);
  });
});
