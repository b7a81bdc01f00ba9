import pg from "pg";
import type { Logger } from "../logger.js";
import type { WorkerLease } from "./worker-lease.js";

/** One NOTIFY channel; the payload is the schema, so deployments in other schemas ignore it. */
const CHANNEL = "jc_update_bot_work";
/** The lease's advisory lock key: per schema, so two deployments in one database each get one. */
const LOCK_KEY = "hashtext('jc-update-bot:workers:' || current_schema())";
/** PostgreSQL notices a client gone silent (no FIN, no RST) after about idle + interval × count s. */
const SERVER_KEEPALIVE = { idle: 10, interval: 5, count: 3 };

/**
 * PostgreSQL: the lease is a session advisory lock on a connection of its own (the lock
 * connection). Followers try to take it every `retryMs`; PostgreSQL frees it when the holder's
 * session ends (exit, crash, lost connection), so a follower takes over within `retryMs` of a
 * clean exit and within about 30 s of a connection cut silently. The holder checks its lock
 * connection every `retryMs` (a query with a timeout): a holder that cannot reach it calls
 * `onLost` and must stop, well before PostgreSQL could hand the lock to another. Work stored by a
 * follower reaches the holder through NOTIFY, sent on a separate connection.
 */
export function postgresWorkerLease(databaseUrl: string, options: { logger: Logger; retryMs?: number }): WorkerLease {
  const { logger } = options;
  const retryMs = options.retryMs ?? 2000;
  const checkTimeoutMs = Math.max(1000, 2 * retryMs);
  const listeners: (() => void)[] = [];
  let lockClient: pg.Client | undefined;
  let notifyClient: Promise<pg.Client> | undefined;
  let schema: string | undefined;
  let held = false;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let lost: ((error: unknown) => void) | undefined;

  const newClient = () =>
    new pg.Client({
      connectionString: databaseUrl,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      query_timeout: checkTimeoutMs,
      connectionTimeoutMillis: checkTimeoutMs,
    });

  /** The lock connection is gone or unusable: if it held the lease, this process must stop. */
  const drop = (c: pg.Client, error: unknown) => {
    if (lockClient !== c) return;
    lockClient = undefined;
    void c.end().catch(() => undefined);
    if (closed) return;
    if (held) {
      held = false;
      if (timer) clearTimeout(timer);
      logger.fatal(
        { err: String(error) },
        "lost the worker lease connection to PostgreSQL; stopping (exit 1) so that a standby takes over alone",
      );
      lost?.(error);
    } else {
      logger.warn({ err: String(error) }, "worker lease connection lost; retrying");
    }
  };

  const schedule = (run: () => Promise<void>) => {
    if (closed) return;
    timer = setTimeout(() => void run(), retryMs);
    timer.unref();
  };

  /** While held: the lock connection still answers, or the lease is lost. */
  const check = async (): Promise<void> => {
    const c = lockClient;
    if (!held || !c) return;
    try {
      await c.query("select 1");
      schedule(check);
    } catch (error) {
      drop(c, error);
    }
  };

  return {
    get held() {
      return held;
    },
    async start(onAcquired, onLost) {
      lost = onLost;
      const attempt = async (): Promise<void> => {
        if (closed || held) return;
        try {
          if (!lockClient) {
            const c = newClient();
            c.on("error", (error) => drop(c, error));
            c.on("end", () => drop(c, new Error("the lease connection ended")));
            c.on("notification", (message) => {
              if (held && message.channel === CHANNEL && message.payload === schema) {
                for (const listener of listeners) listener();
              }
            });
            await c.connect();
            const k = SERVER_KEEPALIVE;
            await c.query(
              `set tcp_keepalives_idle = ${k.idle}; set tcp_keepalives_interval = ${k.interval}; set tcp_keepalives_count = ${k.count}`,
            );
            schema = (await c.query<{ s: string }>("select current_schema() as s")).rows[0]?.s;
            lockClient = c;
          }
          const c = lockClient;
          const result = await c.query<{ ok: boolean }>(`select pg_try_advisory_lock(${LOCK_KEY}) as ok`);
          if (result.rows[0]?.ok && lockClient === c && !closed) {
            held = true;
            try {
              await c.query(`listen ${CHANNEL}`);
              logger.info("this process runs the workers (dispatch, Slack messages, expiry)");
              schedule(check);
              await onAcquired();
            } catch (error) {
              // Holding the lock without running the workers would stall everyone: give it up
              // the only safe way, by stopping this process (a standby takes over).
              logger.fatal({ err: String(error) }, "could not start the workers while holding the lease");
              held = false;
              lockClient = undefined;
              void c.end().catch(() => undefined); // frees the lock for a standby
              onLost(error);
            }
            return;
          }
        } catch (error) {
          logger.warn({ err: String(error) }, "could not try the worker lease");
          if (lockClient) drop(lockClient, error);
        }
        schedule(attempt);
      };
      await attempt();
      if (!held) logger.info("another process runs the workers; this one answers Slack and stands by");
    },
    signal() {
      if (held || closed) return;
      notifyClient ??= (async () => {
        const c = newClient();
        c.on("error", () => {
          notifyClient = undefined;
        });
        await c.connect();
        return c;
      })();
      const pending = notifyClient;
      void pending
        .then((c) => c.query("select pg_notify($1, current_schema())", [CHANNEL]))
        .catch((error) => {
          if (notifyClient === pending) notifyClient = undefined;
          logger.warn({ err: String(error) }, "could not signal the worker process");
        });
    },
    onSignal(listener) {
      listeners.push(listener);
    },
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      const c = lockClient;
      lockClient = undefined;
      held = false;
      const n = notifyClient;
      notifyClient = undefined;
      // Ending the session frees the advisory lock for a follower at once.
      await Promise.all([c?.end().catch(() => undefined), n?.then((client) => client.end()).catch(() => undefined)]);
    },
  };
}
