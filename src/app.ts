import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { App, type CustomRoute, HTTPReceiver, LogLevel, SocketModeReceiver } from "@slack/bolt";
import type { Config } from "./config.js";
import { Dispatcher } from "./jumpcloud/dispatcher.js";
import { JumpCloudClient } from "./jumpcloud/jumpcloud-client.js";
import type { Logger } from "./logger.js";
import { ExpirySweeper } from "./requests/expiry-sweeper.js";
import { registerActions } from "./slack/actions/index.js";
import { toBoltLogger } from "./slack/bolt-logger.js";
import { registerCommands } from "./slack/commands/index.js";
import type { ListenerDeps } from "./slack/deps.js";
import { Notifier } from "./slack/notifier.js";
import { createRoles } from "./slack/roles.js";
import { registerViews } from "./slack/views/index.js";
import { openStore } from "./store/open-store.js";
import type { Store } from "./store/store.js";

export interface AppOptions {
  logger: Logger;
  clock?: { now(): Date };
  /** Host to bind in HTTP mode (tests use 127.0.0.1). */
  host?: string;
  /** Retries of Slack Web API calls made inside the WebClient (tests: 0). */
  slackRetries?: number;
}

export interface RunningApp {
  /** The HTTP port actually bound (useful with PORT=0). */
  port: number;
  store: Store;
  dispatcher: Dispatcher;
  notifier: Notifier;
  stop(): Promise<void>;
}

/** Composition root: builds everything from config and starts it. No side effects at import. */
export async function startApp(config: Config, options: AppOptions): Promise<RunningApp> {
  const { logger } = options;
  const clock = options.clock ?? { now: () => new Date() };
  const store = await openStore(config.databaseUrl);
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
          installerOptions: { port: config.slack.port },
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
      receiver.client.on("connected", () => {
        socket = "connected";
      });
      receiver.client.on("disconnected", () => {
        socket = "connecting";
      });
    }
    const app = new App({
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
    const deps: ListenerDeps = {
      config,
      store,
      jumpcloud,
      dispatcher,
      notifier,
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

    let port = config.slack.port;
    if (receiver instanceof HTTPReceiver) {
      const server = (await receiver.start({ port: config.slack.port, host: options.host })) as Server;
      port = (server.address() as AddressInfo).port;
    } else {
      await app.start();
    }
    await dispatcher.start();
    sweeper.start();
    notifier.kick();
    logger.info({ port, mode: config.slack.appToken ? "socket" : "http" }, "jc-update-bot started");

    return {
      port,
      store,
      dispatcher,
      notifier,
      async stop() {
        sweeper.stop();
        await app.stop().catch(() => undefined);
        await Promise.all([dispatcher.stop(), notifier.stop()]);
        await store.close();
      },
    };
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}
