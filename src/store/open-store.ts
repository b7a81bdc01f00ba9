import { existsSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import Database from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { AppError } from "../errors.js";
import { KyselyStore } from "./kysely-store.js";
import { migrateToLatest } from "./migrations.js";
import type { Database as Schema } from "./schema.js";
import type { Store } from "./store.js";

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
    await migrateToLatest(db as Kysely<unknown>);
    return new KyselyStore(db);
  }
  throw new AppError(
    "unsupported_database",
    "DATABASE_URL: PostgreSQL is not supported yet by this build; use sqlite:<file> (see docs/decisions.md).",
  );
}
