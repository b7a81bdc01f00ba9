import {
  type ColumnDefinitionBuilder,
  type Kysely,
  type Migration,
  type MigrationProvider,
  Migrator,
  sql,
} from "kysely";

export type SqlDialect = "sqlite" | "postgres";

/**
 * Migrations in code (no files to locate at run time); they run on every start. The SQL is the
 * same on both dialects but for generated ids (SQLite's autoincrement, PostgreSQL's identity).
 */
const migrations = (dialect: SqlDialect): Record<string, Migration> => {
  const id = (c: ColumnDefinitionBuilder) =>
    dialect === "postgres" ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement();
  return {
    "0001_initial": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("requests")
          .addColumn("id", "integer", id)
          .addColumn("kind", "text", (c) => c.notNull())
          .addColumn("state", "text", (c) => c.notNull())
          .addColumn("requester_id", "text", (c) => c.notNull())
          .addColumn("target_user_id", "text", (c) => c.notNull())
          .addColumn("target_label", "text", (c) => c.notNull())
          .addColumn("target_slack_id", "text")
          .addColumn("reason", "text", (c) => c.notNull())
          .addColumn("changes", "text", (c) => c.notNull())
          .addColumn("created_at", "text", (c) => c.notNull())
          .addColumn("updated_at", "text", (c) => c.notNull())
          .addColumn("decided_by", "text")
          .addColumn("decided_at", "text")
          .addColumn("decision_note", "text")
          .addColumn("approval_channel", "text")
          .addColumn("approval_ts", "text")
          .addColumn("status_note", "text")
          .execute();
        await db.schema.createIndex("requests_requester").on("requests").columns(["requester_id", "id"]).execute();
        await db.schema.createIndex("requests_state").on("requests").column("state").execute();

        await db.schema
          .createTable("audit")
          .addColumn("id", "integer", id)
          .addColumn("request_id", "integer", (c) => c.notNull().references("requests.id"))
          .addColumn("event", "text", (c) => c.notNull())
          .addColumn("from_state", "text")
          .addColumn("to_state", "text")
          .addColumn("actor", "text", (c) => c.notNull())
          .addColumn("at", "text", (c) => c.notNull())
          .addColumn("detail", "text")
          .execute();
        await db.schema.createIndex("audit_request").on("audit").column("request_id").execute();
        await db.schema.createIndex("audit_at").on("audit").column("at").execute();

        await db.schema
          .createTable("batches")
          .addColumn("id", "integer", id)
          .addColumn("state", "text", (c) => c.notNull())
          .addColumn("job_id", "text")
          .addColumn("created_at", "text", (c) => c.notNull())
          .addColumn("submitted_at", "text")
          .addColumn("completed_at", "text")
          .execute();
        await db.schema.createIndex("batches_state").on("batches").column("state").execute();

        await db.schema
          .createTable("items")
          .addColumn("id", "integer", id)
          .addColumn("request_id", "integer", (c) => c.notNull().references("requests.id"))
          .addColumn("user_id", "text", (c) => c.notNull())
          .addColumn("state", "text", (c) => c.notNull())
          .addColumn("seq", "integer", (c) => c.notNull())
          .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("ready_at", "text", (c) => c.notNull())
          .addColumn("batch_id", "integer", (c) => c.references("batches.id"))
          .addColumn("batch_pos", "integer")
          .addColumn("job_id", "text")
          .addColumn("message", "text")
          .addColumn("created_at", "text", (c) => c.notNull())
          .addColumn("updated_at", "text", (c) => c.notNull())
          .execute();
        await db.schema.createIndex("items_state_ready").on("items").columns(["state", "ready_at", "seq"]).execute();
        await db.schema.createIndex("items_user").on("items").columns(["user_id", "state"]).execute();
        await db.schema.createIndex("items_request").on("items").column("request_id").execute();
        await db.schema.createIndex("items_batch").on("items").column("batch_id").execute();

        await db.schema
          .createTable("outbox")
          .addColumn("id", "integer", id)
          .addColumn("kind", "text", (c) => c.notNull())
          .addColumn("request_id", "integer", (c) => c.notNull().references("requests.id"))
          .addColumn("state", "text", (c) => c.notNull())
          .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("ready_at", "text", (c) => c.notNull())
          .addColumn("last_error", "text")
          .addColumn("created_at", "text", (c) => c.notNull())
          .execute();
        await db.schema.createIndex("outbox_pending").on("outbox").columns(["state", "ready_at", "id"]).execute();

        await db.schema
          .createTable("drafts")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("data", "text", (c) => c.notNull())
          .addColumn("created_at", "text", (c) => c.notNull())
          .execute();
      },
    },
    "0002_drafts_once_and_reminders": {
      async up(db: Kysely<unknown>) {
        // One request per modal: a double submit (or Slack resending it) finds the first request.
        await db.schema.alterTable("requests").addColumn("draft_id", "text").execute();
        await db.schema.createIndex("requests_draft").unique().on("requests").column("draft_id").execute();
        await db.schema.alterTable("requests").addColumn("reminded_at", "text").execute();
      },
    },
    "0003_items_claim_index": {
      async up(db: Kysely<unknown>) {
        // claimBatch looks up each candidate's user for items in flight or queued earlier.
        await db.schema.createIndex("items_user_state_seq").on("items").columns(["user_id", "state", "seq"]).execute();
      },
    },
    "0004_bulk_requests": {
      async up(db: Kysely<unknown>) {
        // A bulk request's rows (one user each), stored at submission and turned into items on
        // approval. Items carry their own changes so the dispatcher reads one shape for both kinds.
        await db.schema
          .createTable("request_rows")
          .addColumn("request_id", "integer", (c) => c.notNull())
          .addColumn("row_no", "integer", (c) => c.notNull())
          .addColumn("user_id", "text", (c) => c.notNull())
          .addColumn("label", "text", (c) => c.notNull())
          .addColumn("changes", "text", (c) => c.notNull())
          .addPrimaryKeyConstraint("request_rows_pk", ["request_id", "row_no"])
          .execute();
        await db.schema.alterTable("requests").addColumn("bulk", "text").execute();
        await db.schema.alterTable("items").addColumn("changes", "text").execute();
        await db.schema.alterTable("items").addColumn("label", "text").execute();
        await db.schema.alterTable("items").addColumn("row_no", "integer").execute();
        // Items made before this migration took their changes from their (single) request.
        await sql`update items set
          changes = (select r.changes from requests r where r.id = items.request_id),
          label = (select r.target_label from requests r where r.id = items.request_id)
        where changes is null`.execute(db);
        // Applied changes are looked up per user when checking conflicts.
        await db.schema.createIndex("items_user_updated").on("items").columns(["user_id", "updated_at"]).execute();
      },
    },
    "0005_bulk_checks": {
      async up(db: Kysely<unknown>) {
        // A bulk CSV being checked in JumpCloud: if the process dies meanwhile, the next start
        // tells the admin instead of leaving the modal on "Checking…" forever.
        await db.schema
          .createTable("bulk_checks")
          .addColumn("draft_id", "text", (c) => c.primaryKey())
          .addColumn("requester_id", "text", (c) => c.notNull())
          .addColumn("view_id", "text", (c) => c.notNull())
          .addColumn("started_at", "text", (c) => c.notNull())
          .execute();
        // nextOutbox holds a request's rows behind its earlier ones waiting for a retry.
        await db.schema
          .createIndex("outbox_request_state")
          .on("outbox")
          .columns(["request_id", "state", "id"])
          .execute();
      },
    },
    "0006_bulk_check_heartbeat": {
      async up(db: Kysely<unknown>) {
        // With several replicas, a check is interrupted when its process stops renewing it, not
        // merely because some process started.
        await db.schema.alterTable("bulk_checks").addColumn("heartbeat_at", "text").execute();
      },
    },
    "0007_items_solo": {
      async up(db: Kysely<unknown>) {
        // An item JumpCloud refused as part of a batch (400) goes alone next time, so one bad
        // value fails only its own user.
        await db.schema
          .alterTable("items")
          .addColumn("solo", "integer", (c) => c.notNull().defaultTo(0))
          .execute();
      },
    },
  };
};

class InCodeProvider implements MigrationProvider {
  constructor(private readonly dialect: SqlDialect) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations(this.dialect);
  }
}

/**
 * `schema` (PostgreSQL): where the migration tables live. Without it Kysely looks for them in
 * every schema of the database and takes another deployment's for its own.
 */
export async function migrateToLatest(
  db: Kysely<unknown>,
  dialect: SqlDialect = "sqlite",
  schema?: string,
): Promise<void> {
  const { error, results } = await new Migrator({
    db,
    provider: new InCodeProvider(dialect),
    ...(schema ? { migrationTableSchema: schema } : {}),
  }).migrateToLatest();
  const failed = results?.find((r) => r.status === "Error");
  // No migration ran (the database could not be reached): the driver's own error says why.
  if (error && !failed) throw error;
  if (error || failed) {
    throw new Error(`Database migration ${failed?.migrationName ?? ""} failed: ${String(error)}`);
  }
}
