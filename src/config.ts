import { z } from "zod";
import { ConfigError } from "./errors.js";
import { DEFAULT_ADMIN_FIELDS, DEFAULT_SELF_SERVICE_FIELDS, fieldDef } from "./requests/fields.js";

/** The only reader of the environment (SPEC §8). Errors name variables, never their values. */

const idList = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.string().regex(/^[UW][A-Z0-9]+$/, "must be Slack user ids like U0123ABC, comma separated")));

const fieldList = z.preprocess(
  (v) => (typeof v === "string" && v.trim() === "" ? undefined : v),
  z
    .string()
    .optional()
    .transform((v) =>
      v === undefined
        ? undefined
        : v
            .split(",")
            .map((s) => s.trim())
            .filter(Boolean),
    )
    .pipe(
      z
        .array(
          z
            .string()
            .refine(
              (k) => k === "attributes.*" || fieldDef(k) !== undefined,
              "lists an unknown field name (see the Fields table in the README)",
            ),
        )
        .optional(),
    ),
);

const int = (def: number, min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(def);

const emptyToUndefined = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);
const optional = <T extends z.ZodType>(schema: T) => z.preprocess(emptyToUndefined, schema.optional());

const envSchema = z.object({
  SLACK_BOT_TOKEN: z.string().startsWith("xoxb-", "must be a bot token (xoxb-…)"),
  SLACK_SIGNING_SECRET: z.string().trim().min(1, "is required"),
  SLACK_APP_TOKEN: optional(z.string().startsWith("xapp-", "must be an app-level token (xapp-…)")),
  SLACK_API_URL: optional(z.url().endsWith("/api/", "must end in /api/")),
  PORT: z.preprocess(emptyToUndefined, int(3000, 0, 65535)),
  APPROVAL_CHANNEL_ID: z.string().regex(/^[CG][A-Z0-9]+$/, "must be a channel id like C0123ABC"),
  APPROVER_USER_IDS: idList,
  APPROVER_USERGROUP_ID: optional(z.string().regex(/^S[A-Z0-9]+$/, "must be a user group id like S0123ABC")),
  ADMIN_USER_IDS: idList,
  ADMIN_USERGROUP_ID: optional(z.string().regex(/^S[A-Z0-9]+$/, "must be a user group id like S0123ABC")),
  JUMPCLOUD_API_KEY: z.string().trim().min(1, "is required"),
  JUMPCLOUD_API_URL: z.preprocess(emptyToUndefined, z.url().default("https://console.jumpcloud.com")),
  JUMPCLOUD_ORG_ID: optional(z.string()),
  JUMPCLOUD_SUPPRESS_EMAIL: z.preprocess(emptyToUndefined, z.stringbool().default(true)),
  DATABASE_URL: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^(sqlite:|postgres:\/\/|postgresql:\/\/)/, "must start with sqlite: or postgres://")
      .default("sqlite:./data/jc-update-bot.db"),
  ),
  SELF_SERVICE_FIELDS: fieldList,
  ADMIN_FIELDS: fieldList,
  BATCH_MAX_SIZE: z.preprocess(emptyToUndefined, int(100, 1, 1000)),
  BATCH_WINDOW_MS: z.preprocess(emptyToUndefined, int(2000, 0)),
  JUMPCLOUD_REQUESTS_PER_SECOND: z.preprocess(emptyToUndefined, int(5, 1, 1000)),
  JUMPCLOUD_CONCURRENCY: z.preprocess(emptyToUndefined, int(2, 1, 100)),
  RETRY_MAX_ATTEMPTS: z.preprocess(emptyToUndefined, int(4, 1, 20)),
  RETRY_BASE_DELAY_MS: z.preprocess(emptyToUndefined, int(5000, 0)),
  RESULTS_POLL_INTERVAL_MS: z.preprocess(emptyToUndefined, int(5000, 1)),
  LOG_LEVEL: z.preprocess(
    emptyToUndefined,
    z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
  ),
  REQUEST_TTL_HOURS: z.preprocess(emptyToUndefined, z.coerce.number().positive().default(72)),
  REMINDER_AFTER_MINUTES: z.preprocess(emptyToUndefined, z.coerce.number().positive().default(240)),
  DISPATCH_GIVE_UP_HOURS: z.preprocess(emptyToUndefined, z.coerce.number().positive().default(24)),
  CONFLICT_CHECK: z.preprocess(emptyToUndefined, z.enum(["on", "off"]).default("on")),
});

export interface Config {
  slack: {
    botToken: string;
    signingSecret: string;
    appToken: string | undefined;
    apiUrl: string | undefined;
    port: number;
    approvalChannelId: string;
  };
  approvers: { userIds: readonly string[]; usergroupId: string | undefined };
  admins: { userIds: readonly string[]; usergroupId: string | undefined };
  jumpcloud: {
    apiKey: string;
    apiUrl: string;
    orgId: string | undefined;
    suppressEmail: boolean;
    requestsPerSecond: number;
    concurrency: number;
  };
  databaseUrl: string;
  fields: { selfService: readonly string[]; admin: readonly string[] };
  dispatch: {
    batchMaxSize: number;
    batchWindowMs: number;
    retryMaxAttempts: number;
    retryBaseDelayMs: number;
    resultsPollIntervalMs: number;
    giveUpHours: number;
    conflictCheck: boolean;
  };
  requests: { ttlHours: number; reminderAfterMinutes: number };
  logLevel: "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "silent";
}

/** Parses the environment; throws ConfigError naming every variable at fault. */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  const problems = new Map<string, string>();
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? "environment");
      if (!problems.has(name)) problems.set(name, describeIssue(issue, env[name]));
    }
  }
  // Checked on the raw environment so it is reported together with every other problem.
  const blank = (name: string) => (env[name] ?? "").trim() === "";
  if (blank("APPROVER_USER_IDS") && blank("APPROVER_USERGROUP_ID") && !problems.has("APPROVER_USER_IDS")) {
    problems.set("APPROVER_USER_IDS", "set APPROVER_USER_IDS or APPROVER_USERGROUP_ID (at least one is required)");
  }
  if (problems.size > 0 || !parsed.success) {
    throw new ConfigError([...problems].map(([name, problem]) => ({ name, problem })));
  }
  const e = parsed.data;
  return deepFreeze({
    slack: {
      botToken: e.SLACK_BOT_TOKEN,
      signingSecret: e.SLACK_SIGNING_SECRET,
      appToken: e.SLACK_APP_TOKEN,
      apiUrl: e.SLACK_API_URL,
      port: e.PORT,
      approvalChannelId: e.APPROVAL_CHANNEL_ID,
    },
    approvers: { userIds: e.APPROVER_USER_IDS, usergroupId: e.APPROVER_USERGROUP_ID },
    admins: { userIds: e.ADMIN_USER_IDS, usergroupId: e.ADMIN_USERGROUP_ID },
    jumpcloud: {
      apiKey: e.JUMPCLOUD_API_KEY,
      apiUrl: e.JUMPCLOUD_API_URL.replace(/\/+$/, ""),
      orgId: e.JUMPCLOUD_ORG_ID,
      suppressEmail: e.JUMPCLOUD_SUPPRESS_EMAIL,
      requestsPerSecond: e.JUMPCLOUD_REQUESTS_PER_SECOND,
      concurrency: e.JUMPCLOUD_CONCURRENCY,
    },
    databaseUrl: e.DATABASE_URL,
    fields: {
      selfService: [...(e.SELF_SERVICE_FIELDS ?? DEFAULT_SELF_SERVICE_FIELDS)],
      admin: [...(e.ADMIN_FIELDS ?? DEFAULT_ADMIN_FIELDS)],
    },
    dispatch: {
      batchMaxSize: e.BATCH_MAX_SIZE,
      batchWindowMs: e.BATCH_WINDOW_MS,
      retryMaxAttempts: e.RETRY_MAX_ATTEMPTS,
      retryBaseDelayMs: e.RETRY_BASE_DELAY_MS,
      resultsPollIntervalMs: e.RESULTS_POLL_INTERVAL_MS,
      giveUpHours: e.DISPATCH_GIVE_UP_HOURS,
      conflictCheck: e.CONFLICT_CHECK === "on",
    },
    requests: { ttlHours: e.REQUEST_TTL_HOURS, reminderAfterMinutes: e.REMINDER_AFTER_MINUTES },
    logLevel: e.LOG_LEVEL,
  });
}

/**
 * What is wrong with one variable, never quoting its value: our own messages and zod's
 * defaults describe the expectation only.
 */
function describeIssue(issue: z.core.$ZodIssue, raw: string | undefined): string {
  if (raw === undefined || raw.trim() === "") return "is required";
  if (issue.code === "invalid_type")
    return issue.expected === "int" ? "must be a whole number" : `must be a ${issue.expected}`;
  return issue.message;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** Values that must never be printed: the logger redacts them wherever they appear. */
export function secretsOf(config: Config): string[] {
  return [
    config.slack.botToken,
    config.slack.signingSecret,
    config.slack.appToken,
    config.jumpcloud.apiKey,
    databasePassword(config.databaseUrl),
  ].filter((s): s is string => typeof s === "string" && s.length > 0);
}

/** The password in a postgres:// URL, if any: it must never reach the logs either. */
function databasePassword(url: string): string | undefined {
  if (!/^postgres(ql)?:\/\//.test(url)) return undefined;
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}

/** Just the store location, for tools (audit export) that must run without Slack credentials. */
export function loadDatabaseUrl(env: Readonly<Record<string, string | undefined>>): string {
  const parsed = envSchema.shape.DATABASE_URL.safeParse(env.DATABASE_URL);
  if (!parsed.success)
    throw new ConfigError([
      { name: "DATABASE_URL", problem: describeIssue(parsed.error.issues[0] as z.core.$ZodIssue, env.DATABASE_URL) },
    ]);
  return parsed.data;
}
