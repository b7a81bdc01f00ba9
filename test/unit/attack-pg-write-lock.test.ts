import assert from "node:assert/strict";
import { describe, it } from "node:test";
import pg from "pg";
import { cleanupAfterEach, openFreshPgStore, PG_SKIP } from "../support/postgres.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const within = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p.then((v) => ({ done: true as const, v })), sleep(ms).then(() => ({ done: false as const }))]);

/**
 * Every write on every replica waits for one advisory lock. A replica that stops in the middle
 * of a transaction without its connection closing (SIGSTOP, VM pause, a network partition: PG
 * only notices with TCP keepalive, about 2 h by default) keeps that lock, and nothing bounds the
 * wait: no lock_timeout, no idle_in_transaction_session_timeout, no statement_timeout.
 */
describe("attack: the global write lock (PostgreSQL)", { skip: PG_SKIP }, () => {
  const cleanup = cleanupAfterEach();

  it("a replica frozen mid-transaction does not stop every other replica's writes and health checks for good", async () => {
    const { store, url } = await openFreshPgStore(cleanup);
    const created = await store.createRequest(
      {
        kind: "single",
        requesterId: "U0REQ",
        targetUserId: "jc-1",
        targetLabel: "ada@example.com",
        targetSlackId: "U0REQ",
        reason: "moved",
        changes: [{ field: "department", oldValue: "A", newValue: "B" }],
      },
      new Date().toISOString(),
    );

    // The frozen replica: exactly what tx() does, then nothing more (the process is stopped).
    // A replica of the bot: its connections carry the bot's session settings.
    const frozen = new pg.Client({ connectionString: url, idle_in_transaction_session_timeout: 10_000 });
    await frozen.connect();
    await frozen.query("begin");
    await frozen.query("select pg_advisory_xact_lock(hashtext('jc-update-bot:write:' || current_schema()))");
    frozen.on("error", () => undefined); // PostgreSQL ends its session after 10 s idle in the transaction
    cleanup.push(() => frozen.end()); // ended first: lets the pending writes finish before close()

    // Clicks keep arriving on the healthy replica.
    const clicks = Array.from({ length: 12 }, (_, i) =>
      store
        .decide({ requestId: created.id, decision: "approve", actor: `U0APP${i}`, at: new Date().toISOString() })
        .catch((e) => e),
    );
    await sleep(200);
    // Observed: the pool's 10 connections are all parked on the advisory lock, so even /healthz's
    // `select 1` waits: every replica looks dead to its orchestrator, which restarts them all.
    const ping = await within(store.ping(), 2000);

    // Observed: the approval never completes (until PostgreSQL notices the frozen session).
    const decided = await within(Promise.all(clicks), 15_000);
    assert.deepEqual(
      { healthzPingAnsweredIn2s: ping.done, writesSettledIn15s: decided.done },
      { healthzPingAnsweredIn2s: true, writesSettledIn15s: true },
    );
    // One decision won; the others were told it was already decided.
    const results = decided.done ? (decided.v as { ok?: boolean }[]) : [];
    assert.equal(results.filter((r) => r.ok === true).length, 1);
  });
});
