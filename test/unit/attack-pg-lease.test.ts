import assert from "node:assert/strict";
import net from "node:net";
import { afterEach, describe, it } from "node:test";
import pg from "pg";
import { createLogger } from "../../src/logger.js";
import { postgresWorkerLease } from "../../src/store/postgres-worker-lease.js";
import type { WorkerLease } from "../../src/store/worker-lease.js";
import { cleanupAfterEach, freshPgSchema, PG_SKIP, PG_URL } from "../support/postgres.js";

const logger = createLogger({ level: "silent" });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** close() can wait forever on a dead socket: the test does not. */
const bounded = (p: Promise<unknown>) => Promise.race([p, sleep(1000)]);

/** Backend pids holding the worker lease (the only advisory locks of the tagged connections). */
async function leaseHolders(): Promise<number[]> {
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    const r = await admin.query<{ pid: number }>(
      `select l.pid from pg_locks l join pg_stat_activity a on a.pid = l.pid
       where l.locktype = 'advisory' and l.granted and a.application_name = $1`,
      [APP_NAME],
    );
    return r.rows.map((row) => row.pid);
  } finally {
    await admin.end();
  }
}

/** Lease connections are tagged, so that those a lease lost track of can be ended after a test. */
const APP_NAME = "adv_pg_lease";
function tagged(url: string): string {
  const u = new URL(url);
  u.searchParams.set("application_name", APP_NAME);
  return u.toString();
}

async function terminateTagged(): Promise<void> {
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    await admin.query("select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1", [APP_NAME]);
  } finally {
    await admin.end();
  }
}

async function terminate(pid: number): Promise<void> {
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    await admin.query("select pg_terminate_backend($1)", [pid]);
  } finally {
    await admin.end();
  }
}

/**
 * A TCP proxy in front of PostgreSQL. `dropServerSide()` is what a NAT, firewall or load balancer
 * that forgets an idle flow ends up doing: PostgreSQL sees the session end (and frees its locks),
 * the client sees nothing at all (no FIN, no RST).
 */
async function tcpProxy(target: URL) {
  const pairs: { client: net.Socket; upstream: net.Socket }[] = [];
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    client.on("error", () => undefined);
    upstream.on("error", () => undefined);
    client.pipe(upstream);
    upstream.pipe(client);
    pairs.push({ client, upstream });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url(databaseUrl: string) {
      const u = new URL(databaseUrl);
      u.hostname = "127.0.0.1";
      u.port = String(port);
      return u.toString();
    },
    dropServerSide() {
      for (const { client, upstream } of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.destroy();
      }
    },
    async close() {
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe("attack: the worker lease (PostgreSQL)", { skip: PG_SKIP }, () => {
  const cleanup = cleanupAfterEach(bounded);
  afterEach(async () => {
    // Connections a lease lost track of still hold the lock: end them so the next test starts clean.
    await terminateTagged();
  });

  it("a click signalled while the lease is starting: losing the lock connection is still noticed (never two workers)", async () => {
    // app.ts serves Slack before lease.start(); a click in that window calls lease.signal()
    // (held is still false), whose connect() races start()'s: two clients, `client` ends up as
    // the later one, and the lock may sit on the other one, which drop() then ignores.
    const schema = await freshPgSchema();
    cleanup.push(schema.drop);
    const outcomes: string[] = [];
    for (let round = 0; round < 8; round++) {
      const a = postgresWorkerLease(tagged(schema.url), { logger, retryMs: 50 });
      let lost = false;
      a.signal();
      await a.start(
        async () => undefined,
        () => {
          lost = true;
        },
      );
      await sleep(150);
      assert.equal(a.held, true);
      const [pid] = await leaseHolders();
      assert.ok(pid, "someone holds the lease");
      await terminate(pid); // the lock connection goes (PostgreSQL restart, admin, network)
      await sleep(300);
      // PostgreSQL no longer gives the lock to anyone: any standby takes it within retryMs.
      const stillHeld = (await leaseHolders()).length > 0;
      outcomes.push(`a.held=${a.held} lost=${lost} lockInPg=${stillHeld}`);
      await bounded(a.close());
      await terminateTagged(); // also the connection a lease lost track of (it would keep this process alive)
      await sleep(50);
    }
    // Observed (about 1 round in 3): "a.held=true lost=false lockInPg=false": this process
    // still runs the workers, never told, while a standby takes the free lock: two workers.
    assert.deepEqual(
      outcomes.filter((o) => o !== "a.held=false lost=true lockInPg=false"),
      [],
      outcomes.join("\n"),
    );
  });

  it("the holder's lock connection silently dropped: PostgreSQL frees the lock, the holder must stop (never two workers)", async () => {
    const schema = await freshPgSchema();
    cleanup.push(schema.drop);
    const proxy = await tcpProxy(new URL(schema.url));
    cleanup.push(() => proxy.close());
    let lost = false;
    const a: WorkerLease = postgresWorkerLease(proxy.url(tagged(schema.url)), { logger, retryMs: 100 });
    cleanup.push(() => a.close());
    await a.start(
      async () => undefined,
      () => {
        lost = true;
      },
    );
    assert.equal(a.held, true);
    const b = postgresWorkerLease(tagged(schema.url), { logger, retryMs: 100 });
    cleanup.push(() => b.close());
    await b.start(
      async () => undefined,
      () => undefined,
    );
    assert.equal(b.held, false);

    proxy.dropServerSide(); // e.g. an idle-flow timeout, then the server's keepalive
    await sleep(5000); // 50 × retryMs
    // Observed: b took over within retryMs; a never notices (the lease connection is idle: it
    // only LISTENs, with no keepalive and no query), so it keeps dispatching and posting.
    assert.equal(b.held, true, "the standby took over");
    assert.deepEqual({ aHeld: a.held, lost }, { aHeld: false, lost: true });
  });
});
