import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createLogger } from "../../src/logger.js";
import { openStore } from "../../src/store/open-store.js";
import { postgresWorkerLease } from "../../src/store/postgres-worker-lease.js";
import type { Store } from "../../src/store/store.js";
import type { WorkerLease } from "../../src/store/worker-lease.js";
import { cleanupAfterEach, freshPgSchema, PG_SKIP } from "../support/postgres.js";

/**
 * README: "`?options=-c%20search_path%3Dname` picks a schema other than `public`". A schema is
 * the documented unit of isolation, so two deployments (staging and production, or this bot
 * beside another app that uses Kysely) can share one database in schemas of their own.
 */
describe("attack: one database, several schemas (PostgreSQL)", { skip: PG_SKIP }, () => {
  const cleanup = cleanupAfterEach();

  it("the bot starts in its own schema when another schema of the database already has Kysely's migration tables", async () => {
    const first = await freshPgSchema();
    cleanup.push(first.drop);
    const second = await freshPgSchema();
    cleanup.push(second.drop);
    const a: Store = await openStore(first.url); // e.g. staging, or any other Kysely app
    cleanup.push(() => a.close());
    // Observed: AppError "cannot open the PostgreSQL database (42P01: relation
    // "kysely_migration_lock" does not exist)": Kysely's migrator looks for its tables in every
    // schema (introspection.getTables), finds the other schema's and never creates its own.
    const b: Store = await openStore(second.url);
    cleanup.push(() => b.close());
    assert.equal(await b.getRequest(1), undefined);
  });

  it("two deployments in two schemas each get a worker: the lease is not shared across schemas", async () => {
    const logger = createLogger({ level: "silent" });
    const staging = await freshPgSchema();
    cleanup.push(staging.drop);
    const production = await freshPgSchema();
    cleanup.push(production.drop);
    const leases: WorkerLease[] = [
      postgresWorkerLease(staging.url, { logger, retryMs: 50 }),
      postgresWorkerLease(production.url, { logger, retryMs: 50 }),
    ];
    for (const l of leases) cleanup.push(() => l.close());
    for (const l of leases)
      await l.start(
        async () => undefined,
        () => undefined,
      );
    await new Promise((resolve) => setTimeout(resolve, 500));
    // Observed: staging holds the lease; production's replicas all stand by and nothing approved
    // in production is ever sent (the advisory lock key is per database, not per schema; so are
    // the store's write lock and the NOTIFY channel).
    assert.deepEqual(
      leases.map((l) => l.held),
      [true, true],
    );
  });
});
