import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadConfig, secretsOf } from "../../src/config.js";
import { ConfigError } from "../../src/errors.js";

const MINIMAL = {
  SLACK_BOT_TOKEN: "xoxb-1111-2222-minimalTokenValue",
  SLACK_SIGNING_SECRET: "signing-secret-minimal-value",
  APPROVAL_CHANNEL_ID: "C0APPROVALS",
  APPROVER_USER_IDS: "U0APPROVER1",
  JUMPCLOUD_API_KEY: "jc-api-key-minimal-value",
} as const;

const DEFAULT_SELF_SERVICE = [
  "firstname",
  "middlename",
  "lastname",
  "displayname",
  "jobTitle",
  "department",
  "location",
  "phone.work",
  "phone.mobile",
];
const DEFAULT_ADMIN = [
  "email",
  "username",
  "alternateEmail",
  "employeeIdentifier",
  "employeeType",
  "company",
  "costCenter",
  "manager",
  "attributes.*",
];

/** Runs loadConfig expecting a ConfigError, and returns it. */
function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail("loadConfig accepted an invalid environment");
}

function namesOf(error: ConfigError): string[] {
  return error.variables.map((v) => v.name).sort();
}

function problemOf(error: ConfigError, name: string): string {
  const found = error.variables.find((v) => v.name === name);
  assert.ok(found, `${name} is not listed in ${JSON.stringify(error.variables)}`);
  return found.problem;
}

describe("loadConfig: defaults", () => {
  it("a minimal valid environment gives every SPEC §8 default", () => {
    const config = loadConfig({ ...MINIMAL });
    assert.deepEqual(config, {
      slack: {
        botToken: MINIMAL.SLACK_BOT_TOKEN,
        signingSecret: MINIMAL.SLACK_SIGNING_SECRET,
        appToken: undefined,
        apiUrl: undefined,
        port: 3000,
        approvalChannelId: "C0APPROVALS",
      },
      approvers: { userIds: ["U0APPROVER1"], usergroupId: undefined },
      admins: { userIds: [], usergroupId: undefined },
      jumpcloud: {
        apiKey: MINIMAL.JUMPCLOUD_API_KEY,
        apiUrl: "https://console.jumpcloud.com",
        orgId: undefined,
        suppressEmail: true,
        requestsPerSecond: 5,
        concurrency: 2,
      },
      databaseUrl: "sqlite:./data/jc-update-bot.db",
      fields: { selfService: DEFAULT_SELF_SERVICE, admin: DEFAULT_ADMIN },
      dispatch: {
        batchMaxSize: 100,
        batchWindowMs: 2000,
        retryMaxAttempts: 4,
        retryBaseDelayMs: 5000,
        resultsPollIntervalMs: 5000,
        giveUpHours: 24,
        conflictCheck: true,
      },
      requests: { ttlHours: 72, reminderAfterMinutes: 240 },
      logLevel: "info",
    });
  });

  it("the returned config is frozen", () => {
    const config = loadConfig({ ...MINIMAL });
    assert.equal(Object.isFrozen(config), true);
    assert.throws(() => {
      (config as { databaseUrl: string }).databaseUrl = "sqlite::memory:";
    }, TypeError);
    assert.equal(config.databaseUrl, "sqlite:./data/jc-update-bot.db");
  });

  it("nested config sections are frozen too", {}, () => {
    const config = loadConfig({ ...MINIMAL });
    assert.equal(Object.isFrozen(config.slack), true);
    assert.equal(Object.isFrozen(config.dispatch), true);
    assert.equal(Object.isFrozen(config.fields.selfService), true);
  });

  it("empty strings count as unset for optional variables", () => {
    const config = loadConfig({
      ...MINIMAL,
      SLACK_APP_TOKEN: "",
      SLACK_API_URL: "",
      PORT: "",
      APPROVER_USERGROUP_ID: "",
      ADMIN_USER_IDS: "",
      ADMIN_USERGROUP_ID: "",
      JUMPCLOUD_API_URL: "",
      JUMPCLOUD_ORG_ID: "",
      JUMPCLOUD_SUPPRESS_EMAIL: "",
      DATABASE_URL: "",
      BATCH_MAX_SIZE: "",
      BATCH_WINDOW_MS: "",
      JUMPCLOUD_REQUESTS_PER_SECOND: "",
      JUMPCLOUD_CONCURRENCY: "",
      RETRY_MAX_ATTEMPTS: "",
      RETRY_BASE_DELAY_MS: "",
      RESULTS_POLL_INTERVAL_MS: "",
      LOG_LEVEL: "",
      REQUEST_TTL_HOURS: "",
      REMINDER_AFTER_MINUTES: "",
      DISPATCH_GIVE_UP_HOURS: "",
      CONFLICT_CHECK: "",
    });
    assert.equal(config.slack.appToken, undefined);
    assert.equal(config.slack.apiUrl, undefined);
    assert.equal(config.slack.port, 3000);
    assert.equal(config.approvers.usergroupId, undefined);
    assert.deepEqual(config.admins, { userIds: [], usergroupId: undefined });
    assert.equal(config.jumpcloud.apiUrl, "https://console.jumpcloud.com");
    assert.equal(config.jumpcloud.orgId, undefined);
    assert.equal(config.jumpcloud.suppressEmail, true);
    assert.equal(config.jumpcloud.requestsPerSecond, 5);
    assert.equal(config.jumpcloud.concurrency, 2);
    assert.equal(config.databaseUrl, "sqlite:./data/jc-update-bot.db");
    assert.deepEqual(config.dispatch, {
      batchMaxSize: 100,
      batchWindowMs: 2000,
      retryMaxAttempts: 4,
      retryBaseDelayMs: 5000,
      resultsPollIntervalMs: 5000,
      giveUpHours: 24,
      conflictCheck: true,
    });
    assert.deepEqual(config.requests, { ttlHours: 72, reminderAfterMinutes: 240 });
    assert.equal(config.logLevel, "info");
  });

  it("empty SELF_SERVICE_FIELDS / ADMIN_FIELDS count as unset (section 3 defaults)", {}, () => {
    const config = loadConfig({ ...MINIMAL, SELF_SERVICE_FIELDS: "", ADMIN_FIELDS: "" });
    assert.deepEqual(config.fields.selfService, DEFAULT_SELF_SERVICE);
    assert.deepEqual(config.fields.admin, DEFAULT_ADMIN);
  });

  it("reads explicit values: lists trimmed, trailing slash dropped, booleans and switches", () => {
    const config = loadConfig({
      ...MINIMAL,
      APPROVER_USER_IDS: "U0AAA, W0BBB ,U0CCC",
      ADMIN_USER_IDS: "U0ADMIN",
      ADMIN_USERGROUP_ID: "S0ADMINS",
      SLACK_APP_TOKEN: "xapp-1-app-token",
      SLACK_API_URL: "http://127.0.0.1:9999/api/",
      PORT: "8080",
      JUMPCLOUD_API_URL: "https://console.eu.jumpcloud.com/",
      JUMPCLOUD_ORG_ID: "org-123",
      JUMPCLOUD_SUPPRESS_EMAIL: "false",
      SELF_SERVICE_FIELDS: "firstname, attributes.costCode",
      ADMIN_FIELDS: "email,phone.work",
      BATCH_MAX_SIZE: "7",
      BATCH_WINDOW_MS: "0",
      CONFLICT_CHECK: "off",
      LOG_LEVEL: "debug",
    });
    assert.deepEqual(config.approvers.userIds, ["U0AAA", "W0BBB", "U0CCC"]);
    assert.deepEqual(config.admins, { userIds: ["U0ADMIN"], usergroupId: "S0ADMINS" });
    assert.equal(config.slack.appToken, "xapp-1-app-token");
    assert.equal(config.slack.apiUrl, "http://127.0.0.1:9999/api/");
    assert.equal(config.slack.port, 8080);
    assert.equal(config.jumpcloud.apiUrl, "https://console.eu.jumpcloud.com");
    assert.equal(config.jumpcloud.orgId, "org-123");
    assert.equal(config.jumpcloud.suppressEmail, false);
    assert.deepEqual(config.fields, {
      selfService: ["firstname", "attributes.costCode"],
      admin: ["email", "phone.work"],
    });
    assert.equal(config.dispatch.batchMaxSize, 7);
    assert.equal(config.dispatch.batchWindowMs, 0);
    assert.equal(config.dispatch.conflictCheck, false);
    assert.equal(config.logLevel, "debug");
  });

  it("an approver user group alone is enough", () => {
    const config = loadConfig({ ...MINIMAL, APPROVER_USER_IDS: undefined, APPROVER_USERGROUP_ID: "S0APPROVERS" });
    assert.deepEqual(config.approvers, { userIds: [], usergroupId: "S0APPROVERS" });
  });
});

describe("loadConfig: missing variables", () => {
  for (const name of Object.keys(MINIMAL)) {
    it(`missing ${name} alone → ConfigError naming exactly ${name}`, () => {
      const env: Record<string, string | undefined> = { ...MINIMAL };
      delete env[name];
      const error = configError(env);
      assert.deepEqual(namesOf(error), [name]);
      assert.match(error.message, new RegExp(`- ${name}: `));
    });
  }

  it("missing SLACK_SIGNING_SECRET and JUMPCLOUD_API_KEY → exactly those two, each 'is required'", () => {
    const error = configError({ ...MINIMAL, SLACK_SIGNING_SECRET: undefined, JUMPCLOUD_API_KEY: undefined });
    assert.deepEqual(namesOf(error), ["JUMPCLOUD_API_KEY", "SLACK_SIGNING_SECRET"]);
    assert.equal(problemOf(error, "SLACK_SIGNING_SECRET"), "is required");
    assert.equal(problemOf(error, "JUMPCLOUD_API_KEY"), "is required");
    assert.equal(error.code, "invalid_config");
  });

  it("an empty required variable counts as missing", () => {
    const error = configError({ ...MINIMAL, SLACK_SIGNING_SECRET: "" });
    assert.deepEqual(namesOf(error), ["SLACK_SIGNING_SECRET"]);
    assert.equal(problemOf(error, "SLACK_SIGNING_SECRET"), "is required");
  });

  it("neither APPROVER_USER_IDS nor APPROVER_USERGROUP_ID → error naming APPROVER_USER_IDS and the group", () => {
    const error = configError({ ...MINIMAL, APPROVER_USER_IDS: undefined });
    assert.deepEqual(namesOf(error), ["APPROVER_USER_IDS"]);
    assert.match(problemOf(error, "APPROVER_USER_IDS"), /APPROVER_USERGROUP_ID/);
  });

  it("empty APPROVER_USER_IDS and APPROVER_USERGROUP_ID → the same error", () => {
    const error = configError({ ...MINIMAL, APPROVER_USER_IDS: "", APPROVER_USERGROUP_ID: "" });
    assert.deepEqual(namesOf(error), ["APPROVER_USER_IDS"]);
  });

  it("an empty environment lists the four required variables", () => {
    const names = namesOf(configError({}));
    for (const name of ["APPROVAL_CHANNEL_ID", "JUMPCLOUD_API_KEY", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"]) {
      assert.ok(names.includes(name), `${name} missing from ${names.join(",")}`);
    }
  });

  it("an empty environment lists every missing variable, the approver pair included", {}, () => {
    assert.deepEqual(namesOf(configError({})), [
      "APPROVAL_CHANNEL_ID",
      "APPROVER_USER_IDS",
      "JUMPCLOUD_API_KEY",
      "SLACK_BOT_TOKEN",
      "SLACK_SIGNING_SECRET",
    ]);
  });
});

describe("loadConfig: invalid values are named, values never shown", () => {
  const cases: { name: string; value: string }[] = [
    { name: "PORT", value: "abc" },
    { name: "PORT", value: "70000" },
    { name: "BATCH_MAX_SIZE", value: "0" },
    { name: "JUMPCLOUD_SUPPRESS_EMAIL", value: "maybe" },
    { name: "SLACK_BOT_TOKEN", value: "xoxp-secretvalue" },
    { name: "SLACK_APP_TOKEN", value: "xoxb-not-an-app-token" },
    { name: "APPROVER_USER_IDS", value: "bob" },
    { name: "APPROVAL_CHANNEL_ID", value: "general" },
    { name: "SELF_SERVICE_FIELDS", value: "firstname,notafield" },
    { name: "ADMIN_FIELDS", value: "attributes." },
    { name: "SLACK_API_URL", value: "https://slack.example.com/v2" },
    { name: "JUMPCLOUD_API_URL", value: "not a url" },
    { name: "DATABASE_URL", value: "mysql://root:hunter2@db/jc" },
    { name: "LOG_LEVEL", value: "loud" },
    { name: "CONFLICT_CHECK", value: "sometimes" },
    { name: "REQUEST_TTL_HOURS", value: "-5" },
    { name: "RETRY_MAX_ATTEMPTS", value: "2.5" },
  ];
  for (const { name, value } of cases) {
    it(`${name}=${value} → ConfigError naming exactly ${name}, without the value`, () => {
      const error = configError({ ...MINIMAL, [name]: value });
      assert.deepEqual(namesOf(error), [name]);
      assert.equal(error.message.includes(value), false, error.message);
    });
  }

  it("several invalid values at once are all named", () => {
    const error = configError({
      ...MINIMAL,
      PORT: "abc",
      BATCH_MAX_SIZE: "0",
      JUMPCLOUD_SUPPRESS_EMAIL: "maybe",
      SLACK_BOT_TOKEN: "xoxp-secretvalue",
      APPROVER_USER_IDS: "bob",
      SELF_SERVICE_FIELDS: "firstname,notafield",
      SLACK_API_URL: "https://slack.example.com/",
    });
    assert.deepEqual(namesOf(error), [
      "APPROVER_USER_IDS",
      "BATCH_MAX_SIZE",
      "JUMPCLOUD_SUPPRESS_EMAIL",
      "PORT",
      "SELF_SERVICE_FIELDS",
      "SLACK_API_URL",
      "SLACK_BOT_TOKEN",
    ]);
  });

  it("PORT=abc is reported as invalid, not as missing", {}, () => {
    const error = configError({ ...MINIMAL, PORT: "abc" });
    assert.notEqual(problemOf(error, "PORT"), "is required");
  });

  it("the error message never contains any provided secret value", () => {
    const secrets = {
      SLACK_BOT_TOKEN: "xoxp-SECRET-bot-token-7f3a9c",
      SLACK_SIGNING_SECRET: "SECRET-signing-8b2d4e",
      SLACK_APP_TOKEN: "xoxb-SECRET-app-token-1c5e7a",
      JUMPCLOUD_API_KEY: "SECRET-jc-key-9e1f3b",
      JUMPCLOUD_ORG_ID: "SECRET-org-4a6c8e",
      DATABASE_URL: "mysql://admin:SECRET-dbpass-2d4f6a@db/jc",
      SLACK_API_URL: "https://SECRET-slack-host-5b7d9f.example.com/",
      JUMPCLOUD_API_URL: "SECRET-jc-url-3c5e7g",
      APPROVER_USER_IDS: "SECRET-approver-6d8f0h",
      APPROVAL_CHANNEL_ID: "SECRET-channel-7e9g1i",
      ADMIN_USERGROUP_ID: "SECRET-group-8f0h2j",
      SELF_SERVICE_FIELDS: "SECRET-field-9g1i3k",
      PORT: "SECRET-port-0h2j4l",
      BATCH_MAX_SIZE: "SECRET-size-1i3k5m",
      JUMPCLOUD_SUPPRESS_EMAIL: "SECRET-bool-2j4l6n",
      LOG_LEVEL: "SECRET-level-3k5m7o",
      CONFLICT_CHECK: "SECRET-switch-4l6n8p",
    };
    const error = configError(secrets);
    const shown = `${error.message}\n${error.userMessage}\n${JSON.stringify(error.variables)}\n${error.stack ?? ""}`;
    for (const [name, value] of Object.entries(secrets)) {
      assert.equal(shown.includes(value), false, `${name}'s value leaked: ${error.message}`);
    }
    // The invalid ones are all named (the signing secret, API key and org id accept any string).
    const valid = ["SLACK_SIGNING_SECRET", "JUMPCLOUD_API_KEY", "JUMPCLOUD_ORG_ID"];
    const names = namesOf(error);
    for (const name of Object.keys(secrets).filter((n) => !valid.includes(n))) {
      assert.ok(names.includes(name), `${name} not named in ${names.join(",")}`);
    }
  });
});

describe("secretsOf: what the logger scrubs", () => {
  it("includes the PostgreSQL password (decoded) besides the tokens and the API key", () => {
    const config = loadConfig({ ...MINIMAL, DATABASE_URL: "postgres://bot:s3cr%40t@db.internal:5432/jc" });
    const secrets = secretsOf(config);
    assert.ok(secrets.includes("s3cr@t"));
    assert.ok(secrets.includes(MINIMAL.JUMPCLOUD_API_KEY as string));
  });

  it("a SQLite path or a passwordless URL adds nothing", () => {
    for (const url of ["sqlite:./data/x.db", "postgres://bot@db.internal/jc"]) {
      const config = loadConfig({ ...MINIMAL, DATABASE_URL: url });
      assert.equal(secretsOf(config).length, secretsOf(loadConfig({ ...MINIMAL })).length);
    }
  });
});
