import { existsSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import Database from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect } from "kysely";
import pg from "pg";
import { AppError } from "../errors.js";
import { KyselyStore } from "./kysely-store.js";
import { migrateToLatest } from "./migrations.js";
import type { Database as Schema } from "./schema.js";
import type { Store } from "./store.js";

/** Connections per process: a few handlers, the dispatcher and the notifier at once. */
const PG_POOL_SIZE = 10;

/** Opens the store named by DATABASE_URL and brings its schema up to date. */
export async function openStore(databaseUrl: string, options: { mustExist?: boolean } = {}): Promise<Store> {
  if (databaseUrl.startsWith("sqlite:")) {
    const file = databaseUrl.slice("sqlite:".length);
    const inMemory = file === ":memory:" || file === "";
    // Tools that only read (audit export) must not create an empty database from a typo.
    if (options.mustExist && !inMemory && !existsSync(file)) {
      throw new AppError("database_not_found", `DATABASE_URL: no database file at ${resolve(file)}`);
    }
    if (!inMemory) mkdirSync(dirname(resolve(file)), { recursive: true });
    const sqlite = new Database(inMemory ? ":memory:" : file);
    // WAL + a busy timeout: the audit export may read while the bot writes.
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma("busy_timeout = 5000");
    sqlite.pragma("foreign_keys = ON");
    const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: sqlite }) });
    await migrateToLatest(db as Kysely<unknown>, "sqlite");
    return new KyselyStore(db, "sqlite");
  }
  if (isPostgresUrl(databaseUrl)) {
    const pool = new pg.Pool({
      connectionString: databaseUrl,
      max: PG_POOL_SIZE,
      // Bounded waits: a replica stuck mid-transaction (paused, cut off) holds the write lock
      // until PostgreSQL ends it; the others time out and retry instead of hanging, and
      // /healthz answers 503 rather than nothing.
      idle_in_transaction_session_timeout: 10_000,
      lock_timeout: 5_000,
      connectionTimeoutMillis: 5_000,
      keepAlive: true,
    });
    // An idle connection dropped by the server must not crash the process: the pool replaces it.
    pool.on("error", () => undefined);
    const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
    try {
      const schema = await ensureSchema(pool);
      await migrateToLatest(db as Kysely<unknown>, "postgres", schema);
    } catch (error) {
      await db.destroy().catch(() => undefined);
      throw new AppError(
        "database_unreachable",
        `DATABASE_URL: cannot open the PostgreSQL database (${pgReason(error)})`,
      );
    }
    const healthPool = new pg.Pool({
      connectionString: databaseUrl,
      max: 1,
      connectionTimeoutMillis: 2_000,
      query_timeout: 2_000,
      keepAlive: true,
    });
    healthPool.on("error", () => undefined);
    return new KyselyStore(db, "postgres", {
      ping: async () => {
        await healthPool.query("select 1");
      },
      close: () => healthPool.end(),
    });
  }
  throw new AppError("unsupported_database", "DATABASE_URL: use sqlite:<file> or postgres://user@host:port/database");
}

export function isPostgresUrl(url: string): boolean {
  return url.startsWith("postgres://") || url.startsWith("postgresql://");
}

/** The driver's reason, never the URL (it may hold a password). */
function pgReason(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown };
  const message = typeof e.message === "string" ? e.message.replace(/postgres(ql)?:\/\/\S+/g, "<url>") : "";
  return [typeof e.code === "string" ? e.code : "", message].filter(Boolean).join(": ") || "unknown error";
}

/**
 * The schema the bot's tables go in: the first of the connection's search_path, created if it
 * does not exist yet (`?options=-c%20search_path%3Dname` names it; `public` by default).
 */
async function ensureSchema(pool: pg.Pool): Promise<string> {
  const current = (await pool.query<{ s: string | null }>("select current_schema() as s")).rows[0]?.s;
  if (current) return current;
  const path = (await pool.query<{ p: string }>("select current_setting('search_path') as p")).rows[0]?.p ?? "";
  const first = path
    .split(",")
    .map((name) => name.trim().replace(/^"(.*)"$/, "$1"))
    .find((name) => name !== "" && name !== "$user");
  if (!first) throw new AppError("database_schema", "DATABASE_URL: the search_path names no schema");
  await pool.query(`create schema if not exists "${first.replace(/"/g, '""')}"`);
  return first;
}
