import { randomBytes } from "node:crypto";
import { afterEach } from "node:test";
import pg from "pg";
import { openStore } from "../../src/store/open-store.js";
import type { Store } from "../../src/store/store.js";

/** Set in `.ci/run`; where it is unset, PostgreSQL tests are skipped with this reason. */
export const PG_URL = process.env.TEST_DATABASE_URL;
export const PG_SKIP = PG_URL
  ? false
  : "TEST_DATABASE_URL is unset: PostgreSQL tests skipped (set it to e.g. postgres://postgres@127.0.0.1:5432/test)";

/**
 * A fresh, empty schema in the test database, and a DATABASE_URL whose connections use it (so
 * tests never see each other's rows). `drop()` removes it.
 */
export async function freshPgSchema(): Promise<{ url: string; schema: string; drop: () => Promise<void> }> {
  if (!PG_URL) throw new Error(String(PG_SKIP));
  const schema = `t_${randomBytes(6).toString("hex")}`;
  await admin(`create schema ${schema}`);
  const url = new URL(PG_URL);
  url.searchParams.set("options", `-c search_path=${schema}`);
  return { url: url.toString(), schema, drop: () => admin(`drop schema if exists ${schema} cascade`) };
}

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** Undo steps registered by a test, run in reverse after each test of the calling suite. */
export function cleanupAfterEach(
  bound: (step: Promise<unknown>) => Promise<unknown> = (p) => p,
): (() => Promise<unknown>)[] {
  const steps: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of steps.splice(0).reverse()) await bound(step().catch(() => undefined));
  });
  return steps;
}

/** A store on a fresh schema, closed and dropped by `cleanup`. */
export async function openFreshPgStore(cleanup: (() => Promise<unknown>)[]): Promise<{ store: Store; url: string }> {
  const schema = await freshPgSchema();
  cleanup.push(schema.drop);
  const store = await openStore(schema.url);
  cleanup.push(() => store.close());
  return { store, url: schema.url };
}
