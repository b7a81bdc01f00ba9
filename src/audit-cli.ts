import { parseArgs } from "node:util";
import { config as loadDotenv } from "dotenv";
import { formatAuditCsv, formatAuditJson, formatItemsCsv, formatItemsJson } from "./audit/format-audit.js";
import { loadDatabaseUrl } from "./config.js";
import { ConfigError, errorMessage } from "./errors.js";
import { openStore } from "./store/open-store.js";

/**
 * `npm run -s audit -- --since <date> [--until <date>] [--format csv|json] [--per-user]`: the
 * audit trail of every request transition, to stdout; with --per-user, one line per field of
 * each user change approved in the period, with what became of it. Needs only DATABASE_URL.
 */
const USAGE = "usage: npm run -s audit -- --since <date> [--until <date>] [--format csv|json] [--per-user]";
const OPTIONS = {
  since: { type: "string" },
  until: { type: "string" },
  format: { type: "string", default: "csv" },
  "per-user": { type: "boolean", default: false },
  help: { type: "boolean", default: false },
} as const;

async function main(): Promise<number> {
  loadDotenv({ path: process.env.DOTENV_CONFIG_PATH || ".env", quiet: true });
  let args: ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>["values"];
  try {
    args = parseArgs({ options: OPTIONS, strict: true }).values;
  } catch (error) {
    process.stderr.write(`${errorMessage(error)}\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const since = toIso(args.since);
  const until = args.until === undefined ? undefined : toIso(args.until);
  if (!since || until === null || (args.format !== "csv" && args.format !== "json")) {
    process.stderr.write(
      `--since needs a date (2026-01-31 or an ISO time), --until too if given, --format csv or json\n${USAGE}\n`,
    );
    return 2;
  }
  let databaseUrl: string;
  try {
    databaseUrl = loadDatabaseUrl(process.env);
  } catch (error) {
    process.stderr.write(`${error instanceof ConfigError ? error.message : errorMessage(error)}\n`);
    return 1;
  }
  let store: Awaited<ReturnType<typeof openStore>>;
  try {
    store = await openStore(databaseUrl, { mustExist: true });
  } catch (error) {
    process.stderr.write(`${errorMessage(error)}\n`);
    return 1;
  }
  try {
    if (args["per-user"]) {
      const items = await store.listItemsSince(since, until);
      process.stdout.write(args.format === "json" ? formatItemsJson(items) : formatItemsCsv(items));
      process.stderr.write(`${items.length} approved user changes since ${since}\n`);
      return 0;
    }
    const rows = await store.listAuditSince(since, until);
    process.stdout.write(args.format === "json" ? formatAuditJson(rows) : formatAuditCsv(rows));
    process.stderr.write(`${rows.length} audit entries since ${since}\n`);
    return 0;
  } finally {
    await store.close();
  }
}

/** A date or time as an ISO string; null when it is not one. */
function toIso(value: string | undefined): string | null {
  if (!value) return null;
  const time = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00.000Z` : value);
  return Number.isNaN(time) ? null : new Date(time).toISOString();
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`audit export failed: ${errorMessage(error)}\n`);
    process.exitCode = 1;
  },
);
