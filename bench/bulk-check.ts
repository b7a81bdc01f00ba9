/**
 * Bulk CSV check benchmark (issue 5): parse a CSV of N rows and resolve its users in JumpCloud the
 * way `/jc-update bulk` does (parseBulkCsv + resolveBulkCsv through the rate-limited client),
 * against the JumpCloud simulator in this process.
 *
 *   npm run bench:bulk -- [--rows 5000] [--directory 20000] [--rate 5] [--latency 50]
 *                         [--concurrency 2] [--manager-every 0]
 *
 * --directory is how many users JumpCloud holds (the CSV names the first --rows of them);
 * --rate is both the simulator's limit (429 above it) and the client's JUMPCLOUD_REQUESTS_PER_SECOND;
 * --manager-every k gives every k-th row a manager (by email) to resolve too.
 * Prints one figure per line, then the same figures as one JSON line. Exit code 1 when a row was
 * not resolved.
 */

import { performance } from "node:perf_hooks";
import { Writable } from "node:stream";
import { parseArgs } from "node:util";
import { JumpCloudClient } from "../src/jumpcloud/jumpcloud-client.js";
import { resolveBulkCsv } from "../src/jumpcloud/resolve-bulk-csv.js";
import { createLogger } from "../src/logger.js";
import { DEFAULT_ADMIN_FIELDS, DEFAULT_SELF_SERVICE_FIELDS } from "../src/requests/fields.js";
import { parseBulkCsv } from "../src/requests/parse-bulk-csv.js";
import { type SeedUser, startFakeJumpCloud } from "../src/sim/fake-jumpcloud.js";

const { values: args } = parseArgs({
  options: {
    rows: { type: "string", default: "5000" },
    directory: { type: "string", default: "20000" },
    rate: { type: "string", default: "5" },
    latency: { type: "string", default: "50" },
    concurrency: { type: "string", default: "2" },
    "manager-every": { type: "string", default: "0" },
  },
  strict: true,
});
const rows = Number(args.rows);
const directorySize = Math.max(Number(args.directory), rows);
const rate = Number(args.rate);
const managerEvery = Number(args["manager-every"]);

const users: SeedUser[] = Array.from({ length: directorySize }, (_, i) => ({
  _id: `6a${i.toString(16).padStart(22, "0")}`,
  email: `person${i}@corp.example`,
  username: `person${i}`,
  department: "Sales",
}));
const jc = await startFakeJumpCloud({ apiKey: "bench", users, rateLimitPerSecond: rate, jobDelayMs: 0 });
jc.setLatency(Number(args.latency));
const client = new JumpCloudClient({
  apiUrl: jc.url,
  apiKey: "bench",
  suppressEmail: true,
  requestsPerSecond: rate,
  concurrency: Number(args.concurrency),
  retry: { attempts: 4, baseDelayMs: 1000, jitter: 0.1 },
  logger: createLogger({ level: "silent", destination: new Writable({ write: (_c, _e, d) => d() }) }),
});

const lines = ["email,department,manager"];
for (let i = 0; i < rows; i++) {
  const manager = managerEvery > 0 && i % managerEvery === 0 ? `person${directorySize - 1 - i}@corp.example` : "";
  lines.push(`Person${i}@corp.example,"Revenue, EMEA",${manager}`);
}
const csv = `\ufeff${lines.join("\r\n")}\r\n`;

const started = performance.now();
const parsed = parseBulkCsv(csv, { selfService: DEFAULT_SELF_SERVICE_FIELDS, admin: DEFAULT_ADMIN_FIELDS });
const parsedAt = performance.now();
const diff = await resolveBulkCsv(parsed, client);
const done = performance.now();
const lookups = jc.calls.filter((c) => c.path === "/api/search/systemusers" || c.path === "/api/systemusers");
const figures = {
  rows,
  directory: directorySize,
  rate,
  parse_errors: parsed.errors.length,
  resolved_rows: diff.rows.length,
  problems: diff.errors.length,
  lookup_calls: lookups.length,
  calls_429: jc.calls.filter((c) => c.status === 429).length,
  parse_ms: Math.round(parsedAt - started),
  resolve_s: Number(((done - parsedAt) / 1000).toFixed(2)),
  calls_over_rate_s: Number((lookups.length / rate).toFixed(2)),
  per_row_calls_s: Number((rows / rate).toFixed(0)),
  peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
};
for (const [k, v] of Object.entries(figures)) console.log(`${k}: ${v}`);
console.log(JSON.stringify(figures));
await jc.close();
process.exit(figures.resolved_rows === rows ? 0 : 1);
