import { randomBytes } from "node:crypto";
import pg from "pg";

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
