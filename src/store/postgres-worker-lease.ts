import pg from "pg";
import type { Logger } from "../logger.js";
import type { WorkerLease } from "./worker-lease.js";

/** Session advisory lock held by the worker process ("jcuc"; the store's write lock is "jcub"). */
const LEASE_LOCK = 0x6a637563;
const CHANNEL = "jc_update_bot_work";

/**
 * PostgreSQL: the lease is a session advisory lock on a connection of its own. Followers try to
 * take it every `retryMs`; PostgreSQL frees it the moment the holder's session ends (exit, crash,
 * lost connection), so a follower takes over within `retryMs`. Work stored by a follower reaches
 * the holder through NOTIFY. The holder that loses its connection calls `onLost`: it cannot know
 * whether another process already took over, so it must stop working.
 */
export function postgresWorkerLease(databaseUrl: string, options: { logger: Logger; retryMs?: number }): WorkerLease {
  const { logger } = options;
  const retryMs = options.retryMs ?? 2000;
  const listeners: (() => void)[] = [];
  let client: pg.Client | undefined;
  let held = false;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let lost: ((error: unknown) => void) | undefined;

  const connect = async (): Promise<pg.Client> => {
    if (client) return client;
    const c = new pg.Client({ connectionString: databaseUrl });
    c.on("error", (error) => drop(c, error));
    c.on("end", () => drop(c, new Error("the lease connection ended")));
    c.on("notification", (message) => {
      if (held && message.channel === CHANNEL) for (const listener of listeners) listener();
    });
    await c.connect();
    client = c;
    return c;
  };

  const drop = (c: pg.Client, error: unknown) => {
    if (client !== c) return;
    client = undefined;
    void c.end().catch(() => undefined);
    if (closed) return;
    if (held) {
      held = false;
      logger.fatal({ err: String(error) }, "lost the worker lease connection to PostgreSQL");
      lost?.(error);
    } else {
      logger.warn({ err: String(error) }, "worker lease connection lost; retrying");
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
          const c = await connect();
          const result = await c.query<{ ok: boolean }>("select pg_try_advisory_lock($1) as ok", [LEASE_LOCK]);
          if (result.rows[0]?.ok) {
            held = true;
            try {
              await c.query(`listen ${CHANNEL}`);
              logger.info("this process runs the workers (dispatch, Slack messages, expiry)");
              await onAcquired();
            } catch (error) {
              // Holding the lock without running the workers would stall everyone: give it up
              // the only safe way, by stopping this process (a standby takes over).
              logger.fatal({ err: String(error) }, "could not start the workers while holding the lease");
              held = false;
              client = undefined;
              void c.end().catch(() => undefined); // frees the lock for a standby
              onLost(error);
            }
            return;
          }
        } catch (error) {
          logger.warn({ err: String(error) }, "could not try the worker lease");
        }
        if (!closed) {
          timer = setTimeout(() => void attempt(), retryMs);
          timer.unref();
        }
      };
      await attempt();
      if (!held) logger.info("another process runs the workers; this one answers Slack and stands by");
    },
    signal() {
      if (held || closed) return;
      void connect()
        .then((c) => c.query(`notify ${CHANNEL}`))
        .catch((error) => logger.warn({ err: String(error) }, "could not signal the worker process"));
    },
    onSignal(listener) {
      listeners.push(listener);
    },
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      const c = client;
      client = undefined;
      held = false;
      // Ending the session frees the advisory lock for a follower at once.
      await c?.end().catch(() => undefined);
    },
  };
}
