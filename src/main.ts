import { config as loadDotenv } from "dotenv";
import { loadConfig, secretsOf } from "./config.js";
import { ConfigError, errorMessage } from "./errors.js";
import { createLogger } from "./logger.js";

/** Entry point: environment → config → app. SIGTERM/SIGINT stop it cleanly within 10 s. */
async function main(): Promise<void> {
  // .env in the working directory, or the file DOTENV_CONFIG_PATH names; real env vars win.
  loadDotenv({ path: process.env.DOTENV_CONFIG_PATH || ".env", quiet: true });
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`jc-update-bot: ${error.message}\nSee .env.example and the README for every variable.\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger({ level: config.logLevel, secrets: secretsOf(config) });
  let app: Awaited<ReturnType<typeof import("./app.js").startApp>>;
  try {
    // Loaded after the config check so that a broken config fails in well under a second.
    const { startApp } = await import("./app.js");
    app = await startApp(config, {
      logger,
      // A supervisor restarts us; better than a bot that looks up but hears nothing.
      onFatal: () => setTimeout(() => process.exit(1), 200),
    });
  } catch (error) {
    logger.fatal({ err: errorMessage(error) }, "could not start");
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 200).unref();
    return;
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "stopping");
    setTimeout(() => process.exit(0), 9_500).unref(); // the 10 s contract holds even if a call hangs
    app
      .stop()
      .catch((error) => logger.error({ err: errorMessage(error) }, "error while stopping"))
      .finally(() => {
        logger.info(
          "stopped; work in flight resumes when the workers next start (here, or on a standby replica with PostgreSQL)",
        );
        process.exit(0);
      });
  };
  // Libraries sometimes drop a promise (Socket Mode's reconnect loop does when stopped): log it
  // instead of crashing a bot that holds approved changes in flight.
  process.on("unhandledRejection", (reason) => {
    logger.error({ err: reason instanceof Error ? reason.message : String(reason) }, "unhandled promise rejection");
  });
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

void main();
