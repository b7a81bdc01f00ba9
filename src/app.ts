import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { App, type CustomRoute, HTTPReceiver, LogLevel, SocketModeReceiver } from "@slack/bolt";
import type { Config } from "./config.js";
import { ExpirySweeper } from "./expiry-sweeper.js";
import { Dispatcher } from "./jumpcloud/dispatcher.js";
import { JumpCloudClient } from "./jumpcloud/jumpcloud-client.js";
import type { Logger } from "./logger.js";
import { registerActions } from "./slack/actions/index.js";
import { toBoltLogger } from "./slack/bolt-logger.js";
import { BULK_CHECK_HEARTBEAT_MS } from "./slack/bulk-check-heartbeat.js";
import { registerCommands } from "./slack/commands/index.js";
import type { ListenerDeps } from "./slack/deps.js";
import { Notifier } from "./slack/notifier.js";
import { reportInterruptedChecks } from "./slack/report-interrupted-checks.js";
import { createRoles } from "./slack/roles.js";
import { registerViews } from "./slack/views/index.js";
import { isPostgresUrl, openStore } from "./store/open-store.js";
import { postgresWorkerLease } from "./store/postgres-worker-lease.js";
import type { Store } from "./store/store.js";
import { soleWorkerLease, type WorkerLease } from "./store/worker-lease.js";

/** With several replicas: how often the worker process looks for work others stored (besides NOTIFY). */
const REPLICA_POLL_MS = 5000;

export interface AppOptions {
  logger: Logger;
  /** Called when the app can no longer work (Socket Mode refused after start-up). */
  onFatal?: (error: unknown) => void;
  clock?: { now(): Date };
  /** Host to bind in HTTP mode (tests use 127.0.0.1). */
  host?: string;
  /** Retries of Slack Web API calls made inside the WebClient (tests: 0). */
  slackRetries?: number;
  /** PostgreSQL: how often a replica not running the workers tries to take over (default 2 s). */
  leaseRetryMs?: number;
}

export interface RunningApp {
  /** The HTTP port actually bound (useful with PORT=0). */
  port: number;
  store: Store;
  dispatcher: Dispatcher;
  notifier: Notifier;
  /** Whether this process runs the workers (always with SQLite; one replica with PostgreSQL). */
  lease: WorkerLease;
  stop(): Promise<void>;
}

/** Composition root: builds everything from config and starts it. No side effects at import. */
export async function startApp(config: Config, options: AppOptions): Promise<RunningApp> {
  const { logger } = options;
  const clock = options.clock ?? { now: () => new Date() };
  const store = await openStore(config.databaseUrl);
  const replicas = isPostgresUrl(config.databaseUrl);
  const lease = replicas
    ? postgresWorkerLease(config.databaseUrl, {
        logger: logger.child({ component: "lease" }),
        retryMs: options.leaseRetryMs,
      })
    : soleWorkerLease();
  let app: App | undefined;
  let stopping: Promise<void> | undefined;
  const timers: NodeJS.Timeout[] = [];
  try {
    const jumpcloud = new JumpCloudClient({
      ...config.jumpcloud,
      retry: { attempts: config.dispatch.retryMaxAttempts, baseDelayMs: config.dispatch.retryBaseDelayMs, jitter: 0.1 },
      logger: logger.child({ component: "jumpcloud" }),
    });

    // Socket Mode: /healthz also says whether the WebSocket is up (HTTP mode has nothing to hold).
    let socket: "connecting" | "connected" | undefined = config.slack.appToken ? "connecting" : undefined;
    const healthz: CustomRoute = {
      path: "/healthz",
      method: ["GET"],
      handler: (_req: IncomingMessage, res: ServerResponse) => {
        store
          .ping()
          .then(() =>
            sendJson(res, 200, {
              ok: true,
              mode: config.slack.appToken ? "socket" : "http",
              ...(socket ? { slack: socket } : {}),
              // PostgreSQL: whether this replica runs the workers or stands by to take over.
              ...(replicas ? { workers: lease.held ? "here" : "standby" } : {}),
            }),
          )
          .catch(() => sendJson(res, 503, { ok: false, error: "store unreachable" }));
      },
    };
    const boltLogger = toBoltLogger(logger);
    const receiver = config.slack.appToken
      ? new SocketModeReceiver({
          appToken: config.slack.appToken,
          customRoutes: [healthz],
          // The socket client makes its own Web API call (apps.connections.open): same base URL.
          installerOptions: {
            port: config.slack.port,
            ...(config.slack.apiUrl ? { clientOptions: { slackApiUrl: config.slack.apiUrl } } : {}),
          },
          logger: boltLogger,
        })
      : new HTTPReceiver({
          signingSecret: config.slack.signingSecret,
          endpoints: "/slack/events",
          customRoutes: [healthz],
          port: config.slack.port,
          logger: boltLogger,
        });
    if (receiver instanceof SocketModeReceiver) {
      // @slack/socket-mode's reconnect loop calls start() again and chains on it without a
      // rejection handler, so stopping mid-reconnect rejects (with undefined) unhandled. Our own
      // first call keeps its rejection; the library's later calls get one that never rejects.
      const client = receiver.client;
      const start = client.start.bind(client);
      let calls = 0;
      client.start = () => {
        const started = start();
        if (calls++ === 0) return started;
        return started.catch((error: unknown) => {
          logger.debug({ err: String(error) }, "Socket Mode reconnect ended");
        }) as ReturnType<typeof start>;
      };
      receiver.client.on("connected", () => {
        socket = "connected";
      });
      receiver.client.on("disconnected", () => {
        socket = "connecting";
      });
    }
    app = new App({
      token: config.slack.botToken,
      receiver,
      logger: boltLogger,
      logLevel: LogLevel.INFO,
      deferInitialization: true,
      clientOptions: {
        ...(config.slack.apiUrl ? { slackApiUrl: config.slack.apiUrl } : {}),
        retryConfig: { retries: options.slackRetries ?? 2 },
        // 429s come back to us: the outbox waits Retry-After and keeps the message.
        rejectRateLimitedCalls: true,
      },
    });
    await app.init(); // auth.test: a bad token stops start-up here, not at the first command

    const notifier = new Notifier({
      store,
      client: app.client,
      config,
      logger: logger.child({ component: "notifier" }),
      clock,
    });
    const dispatcher = new Dispatcher({
      store,
      jumpcloud,
      config: config.dispatch,
      logger: logger.child({ component: "dispatcher" }),
      clock,
      onNotify: () => notifier.kick(),
    });
    const sweeper = new ExpirySweeper({
      store,
      config: config.requests,
      clock,
      logger: logger.child({ component: "sweeper" }),
      onNotify: () => notifier.kick(),
    });
    // Listeners wake the workers here, or tell the replica that runs them.
    const deps: ListenerDeps = {
      config,
      store,
      jumpcloud,
      dispatcher: { wake: () => (lease.held ? dispatcher.wake() : lease.signal()) },
      notifier: { kick: () => (lease.held ? notifier.kick() : lease.signal()) },
      roles: createRoles({ config, client: app.client, logger }),
      policy: config.fields,
      logger,
      clock,
    };
    registerCommands(app, deps);
    registerViews(app, deps);
    registerActions(app, deps);
    app.error(async (error) => {
      logger.error({ err: error.message, code: (error as { code?: string }).code }, "unhandled error in a listener");
    });

    const bolt = app;
    let port = config.slack.port;
    if (receiver instanceof HTTPReceiver) {
      const server = (await receiver.start({ port: config.slack.port, host: options.host })) as Server;
      port = (server.address() as AddressInfo).port;
    } else {
      port = await startSocketMode(app, receiver, config.slack.port, logger, options.onFatal);
    }
    const slackClient = app.client;
    const reportChecks = (renewedBefore?: string) =>
      reportInterruptedChecks({ store, client: slackClient, logger }, renewedBefore).catch((error) =>
        logger.warn({ err: String(error) }, "could not read interrupted bulk checks"),
      );
    const wakeWorkers = () => {
      notifier.kick();
      dispatcher.wake();
    };
    lease.onSignal(wakeWorkers);
    await lease.start(
      async () => {
        await dispatcher.start();
        sweeper.start();
        notifier.kick();
        if (!replicas) {
          // The only process: whatever check is recorded was left by its previous run.
          void reportChecks();
          return;
        }
        // One report at a time: a slow Slack must not let two passes DM the same admin.
        let reporting = false;
        const stale = () => {
          if (reporting) return;
          reporting = true;
          void reportChecks(new Date(clock.now().getTime() - 4 * BULK_CHECK_HEARTBEAT_MS).toISOString()).finally(() => {
            reporting = false;
          });
        };
        stale();
        timers.push(setInterval(wakeWorkers, REPLICA_POLL_MS), setInterval(stale, BULK_CHECK_HEARTBEAT_MS));
        for (const t of timers) t.unref();
      },
      (error) => {
        // Another replica may take over at any moment: stop sending at once, then stop.
        for (const t of timers) clearInterval(t);
        sweeper.stop();
        void Promise.all([dispatcher.stop(0), notifier.stop(0)]);
        options.onFatal?.(error);
      },
    );
    logger.info(
      { port, mode: config.slack.appToken ? "socket" : "http", workers: lease.held ? "here" : "standby" },
      "jc-update-bot started",
    );

    return {
      port,
      store,
      dispatcher,
      notifier,
      lease,
      stop() {
        // Once, however often it is asked (a second SIGTERM, a test closing twice).
        stopping ??= stopAll();
        return stopping;
      },
    };
    async function stopAll(): Promise<void> {
      for (const t of timers) clearInterval(t);
      sweeper.stop();
      await bolt.stop().catch(() => undefined);
      await Promise.all([dispatcher.stop(), notifier.stop()]);
      // Released after the workers stopped: a replica taking over finds nothing in flight here.
      await lease.close();
      await store.close();
    }
  } catch (error) {
    for (const t of timers) clearInterval(t);
    await app?.stop().catch(() => undefined);
    await lease.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw error;
  }
}

/**
 * Socket Mode: the health server listens at once; the WebSocket may take a while (or retry for
 * long behind a proxy). A refusal within the first seconds (bad app token) fails start-up; one
 * later is reported through onFatal. Returns the health server's port.
 */
async function startSocketMode(
  app: App,
  receiver: SocketModeReceiver,
  requestedPort: number,
  logger: Logger,
  onFatal: ((error: unknown) => void) | undefined,
): Promise<number> {
  const connecting = app.start();
  const early = await Promise.race([
    connecting.then(
      () => "connected" as const,
      (error: unknown) => ({ error }),
    ),
    new Promise<"pending">((resolve) => setTimeout(() => resolve("pending"), 5000).unref()),
  ]);
  if (typeof early === "object") throw early.error;
  if (early === "pending") {
    logger.warn("Socket Mode is still connecting to Slack; /healthz says so until it is up");
    connecting.catch((error: unknown) => {
      logger.fatal({ err: String(error) }, "Socket Mode connection refused");
      onFatal?.(error);
    });
  }
  // The receiver's own HTTP server serves /healthz (and nothing else) in Socket Mode.
  const server = (receiver as unknown as { httpServer?: Server }).httpServer;
  if (!server) return requestedPort;
  if (!server.listening) await new Promise((resolve) => server.once("listening", resolve));
  return (server.address() as AddressInfo).port;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}
