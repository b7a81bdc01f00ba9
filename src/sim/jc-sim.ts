/**
 * `npm run jc-sim`: runs the fake JumpCloud API locally so the bot can be tried against a
 * workspace without touching a real JumpCloud organization.
 *
 * Env: JC_SIM_PORT (8787), JC_SIM_API_KEY (sim-api-key), JC_SIM_EMAILS (comma list mapped onto
 * the sample users, e.g. your Slack workspace emails), JC_SIM_ORG_ID (optional),
 * JC_SIM_JOB_DELAY_MS (1000), JC_SIM_RATE_LIMIT (optional, requests per second),
 * JC_BULK_SCHEMA_PATH (optional, path of jumpcloud-v2-bulk-users.openapi.json).
 */
import { SAMPLE_ORG_ID, sampleUsers, startFakeJumpCloud } from "./fake-jumpcloud.js";

function intEnv(name: string, fallback: number | undefined): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`${name} must be a non-negative integer`);
    process.exit(1);
  }
  return n;
}

async function main(): Promise<void> {
  const port = intEnv("JC_SIM_PORT", 8787) ?? 8787;
  const apiKey = process.env.JC_SIM_API_KEY?.trim() || "sim-api-key";
  const orgId = process.env.JC_SIM_ORG_ID?.trim() || undefined;
  const emails = process.env.JC_SIM_EMAILS?.split(",")
    .map((e) => e.trim())
    .filter((e) => e.length > 0);
  const jobDelayMs = intEnv("JC_SIM_JOB_DELAY_MS", 1000);
  const rateLimitPerSecond = intEnv("JC_SIM_RATE_LIMIT", undefined);

  const sim = await startFakeJumpCloud({
    apiKey,
    orgId,
    port,
    users: sampleUsers(emails, orgId ?? SAMPLE_ORG_ID),
    jobDelayMs,
    rateLimitPerSecond: rateLimitPerSecond || undefined,
  });

  const lines = [
    `Fake JumpCloud API listening on ${sim.url}`,
    `API key: ${apiKey}${orgId ? `   org id: ${orgId}` : ""}`,
    `Bulk jobs stay pending ${jobDelayMs} ms${rateLimitPerSecond ? `; rate limit ${rateLimitPerSecond}/s` : ""}`,
    "",
    "Put these lines in .env:",
    `  JUMPCLOUD_API_URL=${sim.url}`,
    `  JUMPCLOUD_API_KEY=${apiKey}`,
    ...(orgId ? [`  JUMPCLOUD_ORG_ID=${orgId}`] : []),
    "",
    "Seeded users (set JC_SIM_EMAILS=a@x,b@y to use your Slack emails):",
    ...[...sim.users.values()].map(
      (u) => `  ${u.email.padEnd(34)} ${u.username.padEnd(20)} ${u._id}  ${u.displayname ?? ""}`,
    ),
    "",
    "Control (no API key needed):",
    `  curl -s ${sim.url}/__sim/users`,
    `  curl -s -X POST ${sim.url}/__sim/inject -H 'content-type: application/json' \\`,
    `       -d '{"route":"bulk","status":503,"count":2}'        # next 2 bulk calls answer 503`,
    `  curl -s -X POST ${sim.url}/__sim/inject -H 'content-type: application/json' \\`,
    `       -d '{"route":"any","status":429,"count":1,"retryAfter":5}'`,
    `  curl -s -X POST ${sim.url}/__sim/latency -H 'content-type: application/json' \\`,
    `       -d '{"ms":4000,"route":"lookup"}'                  # slow user lookups`,
    `  curl -s -X POST ${sim.url}/__sim/fail-user -H 'content-type: application/json' \\`,
    `       -d '{"id":"<user id>","message":"Email address already exists"}'`,
    `  curl -s ${sim.url}/__sim/calls          # every API request received`,
    `  curl -s -X POST ${sim.url}/__sim/reset  # back to the seeded users`,
    "",
    "Ctrl-C to stop.",
  ];
  console.log(lines.join("\n"));

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping fake JumpCloud`);
    sim.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

main().catch((err: unknown) => {
  console.error(`jc-sim: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
