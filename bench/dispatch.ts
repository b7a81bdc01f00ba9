/**
 * Dispatch benchmark (issue 4): N approved changes through the real Dispatcher + JumpCloudClient +
 * store, against the JumpCloud simulator in this process, then a one-change-per-call baseline.
 *
 *   npm run bench:dispatch -- [--n 10000] [--batch 100] [--rate 20] [--latency 50] [--concurrency 2]
 *                             [--fail503 0] [--retry-delay 200] [--retry-attempts 4] [--poll 100]
 *                             [--window 200] [--job-delay 0] [--baseline-n min(N,200)]
 *                             [--client-rate <rate>] [--conflict-check on|off]
 *                             [--db memory|file|sqlite:<path>] [--timeout 900] [--stall 30]
 *
 * --rate is the simulator's limit (429 above it) and, unless --client-rate says otherwise, the
 * client's JUMPCLOUD_REQUESTS_PER_SECOND. --fail503 p answers every round(1/p)-th bulk attempt 503.
 * --baseline-n 0 skips the baseline. Diagnostics on stderr: BENCH_TRACE=<k> (first k calls: client
 * start and simulator arrival), BENCH_TRACE_429=1 (why each 429 happened).
 *
 * Prints one figure per line, then the same figures as one JSON line. Exit code 1 when a change
 * was lost, duplicated, or not applied before the timeout.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import type { Config } from "../src/config.js";
import { Dispatcher } from "../src/jumpcloud/dispatcher.js";
import { JumpCloudClient } from "../src/jumpcloud/jumpcloud-client.js";
import { createLogger } from "../src/logger.js";
import { type FakeJumpCloud, type JcCall, type SeedUser, startFakeJumpCloud } from "../src/sim/fake-jumpcloud.js";
import { openStore } from "../src/store/open-store.js";
import type { ItemOutcome, Store } from "../src/store/store.js";

// ---------------------------------------------------------------------------------------------
// Options

const { values: args } = parseArgs({
  options: {
    n: { type: "string", default: "10000" },
    batch: { type: "string", default: "100" },
    rate: { type: "string", default: "20" },
    latency: { type: "string", default: "50" },
    concurrency: { type: "string", default: "2" },
    fail503: { type: "string", default: "0" },
    "retry-delay": { type: "string", default: "200" },
    "retry-attempts": { type: "string", default: "4" },
    poll: { type: "string", default: "100" },
    window: { type: "string", default: "200" },
    "job-delay": { type: "string", default: "0" },
    "baseline-n": { type: "string" },
    "client-rate": { type: "string" },
    "conflict-check": { type: "string", default: "on" },
    db: { type: "string", default: "memory" },
    timeout: { type: "string", default: "900" },
    stall: { type: "string", default: "30" },
    help: { type: "boolean", default: false },
  },
  strict: true,
});

if (args.help) {
  console.log(
    "usage: tsx bench/dispatch.ts [--n 10000] [--batch 100] [--rate 20] [--latency 50] [--concurrency 2] [--fail503 0]\n" +
      "  [--retry-delay 200] [--retry-attempts 4] [--poll 100] [--window 200] [--job-delay 0] [--baseline-n min(N,200)]\n" +
      "  [--client-rate <rate>] [--conflict-check on|off] [--db memory|file|sqlite:<path>] [--timeout 900] [--stall 30]",
  );
  process.exit(0);
}

function num(name: string, raw: string | undefined, min: number, integer = true): number {
  const value = Number(raw);
  if (raw === undefined || !Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    console.error(`--${name} must be ${integer ? "an integer" : "a number"} >= ${min} (got ${String(raw)})`);
    process.exit(2);
  }
  return value;
}

const N = num("n", args.n, 1);
const BATCH = num("batch", args.batch, 1);
const RATE = num("rate", args.rate, 1);
const LATENCY = num("latency", args.latency, 0);
const CONCURRENCY = num("concurrency", args.concurrency, 1);
const FAIL503 = num("fail503", args.fail503, 0, false);
const RETRY_DELAY = num("retry-delay", args["retry-delay"], 0);
const RETRY_ATTEMPTS = num("retry-attempts", args["retry-attempts"], 1);
const POLL = num("poll", args.poll, 1);
const WINDOW = num("window", args.window, 0);
const JOB_DELAY = num("job-delay", args["job-delay"], 0);
const BASELINE_N = num("baseline-n", args["baseline-n"] ?? String(Math.min(N, 200)), 0);
const CLIENT_RATE = num("client-rate", args["client-rate"] ?? String(RATE), 1);
const TIMEOUT_S = num("timeout", args.timeout, 1);
/** Give up when neither a JumpCloud call nor a settled item was seen for this long. */
const STALL_S = num("stall", args.stall, 1);
if (args["conflict-check"] !== "on" && args["conflict-check"] !== "off") {
  console.error("--conflict-check must be on or off");
  process.exit(2);
}
/** CONFLICT_CHECK (default on): the dispatcher reads each batch's users before sending. */
const CONFLICT_CHECK = args["conflict-check"] === "on";
if (FAIL503 >= 1) {
  console.error("--fail503 must be below 1");
  process.exit(2);
}
/** Every k-th bulk attempt is answered 503 (deterministic; 0 = never). */
const FAIL_EVERY = FAIL503 > 0 ? Math.max(1, Math.round(1 / FAIL503)) : 0;

const API_KEY = "bench-api-key";
/** One results page holds up to 100 records (JumpCloud's limit, and the client's page size). */
const RESULTS_PAGE = 100;

// ---------------------------------------------------------------------------------------------
// Helpers

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function userId(i: number): string {
  return `65b0${i.toString(16).padStart(20, "0")}`; // 24 hex chars, like a JumpCloud ObjectId
}

function makeUsers(count: number): SeedUser[] {
  return Array.from({ length: count }, (_, i) => ({
    _id: userId(i),
    email: `bench.user${i}@example.com`,
    username: `bench.user${i}`,
    jobTitle: "Engineer",
  }));
}

const newTitle = (i: number) => `Bench Title ${i}`;

function secs(ms: number): number {
  return Math.round(ms) / 1000;
}

function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Most calls that arrived within any sliding second (arrival times in ms). */
function peakPerSecond(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while ((sorted[lo] ?? 0) <= (sorted[hi] ?? 0) - 1000) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

function memorySampler(): { stop(): { rssMax: number; heapUsedMax: number } } {
  let rssMax = 0;
  let heapUsedMax = 0;
  const sample = () => {
    const m = process.memoryUsage();
    rssMax = Math.max(rssMax, m.rss);
    heapUsedMax = Math.max(heapUsedMax, m.heapUsed);
  };
  sample();
  const timer = setInterval(sample, 100);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return { rssMax, heapUsedMax };
    },
  };
}

const MB = (bytes: number) => round(bytes / 1024 / 1024, 1);

// ---------------------------------------------------------------------------------------------
// Dispatcher run

interface DispatchFigures {
  completed: boolean;
  ended: "done" | "timeout" | "stalled";
  clientQueue: { paused: boolean; waiting: number; running: number };
  seedSeconds: number;
  wallSeconds: number;
  firstCallAfterMs: number | null;
  lastBulkAtMs: number | null;
  bulkAttempts: number;
  bulkAccepted: number;
  bulk503: number;
  resultsCalls: number;
  resultsExtraPages: number;
  resultsPollsPerJobMax: number;
  lookups: number;
  otherCalls: number;
  totalCalls: number;
  calls429: number;
  peakCallsPerSecond: number;
  peakStartsPerSecond: number;
  arrivalDelayP50Ms: number | null;
  arrivalDelayMaxMs: number | null;
  longestGapBetweenCallsMs: number;
  meanSubmitToFirstResultMs: number | null;
  maxSubmitToFirstResultMs: number | null;
  requeued: number;
  appliedInStore: number;
  notAppliedInStore: number;
  lost: number;
  duplicated: number;
  schemaViolations: number;
  longestLoopStallMs: number;
  loopStallsOver100msTotalMs: number;
  claims: number;
  claimTotalMs: number;
  claimMaxMs: number;
  lastClaimAtMs: number | null;
  completeTotalMs: number;
  completeMaxMs: number;
  rssMaxMB: number;
  heapUsedMaxMB: number;
  storeStates: Record<string, number>;
}

async function runDispatcher(): Promise<DispatchFigures> {
  const users = makeUsers(N);
  const sim = await startFakeJumpCloud({
    apiKey: API_KEY,
    users,
    rateLimitPerSecond: RATE,
    latencyMs: LATENCY,
    jobDelayMs: JOB_DELAY,
  });

  let tempDir: string | undefined;
  let databaseUrl: string;
  if (args.db === "memory") databaseUrl = "sqlite::memory:";
  else if (args.db === "file") {
    tempDir = mkdtempSync(join(tmpdir(), "jc-bench-"));
    databaseUrl = `sqlite:${join(tempDir, "bench.db")}`;
  } else databaseUrl = String(args.db);
  const store = await openStore(databaseUrl);
  const logger = createLogger({ level: "silent" });

  // --- N approved changes, before the clock starts -------------------------------------------
  const seedStart = performance.now();
  const requestIds: number[] = [];
  const at = new Date().toISOString();
  for (let i = 0; i < N; i++) {
    const user = users[i] as SeedUser;
    const request = await store.createRequest(
      {
        kind: "single",
        requesterId: "UBENCHREQ",
        targetUserId: user._id,
        targetLabel: user.email,
        targetSlackId: null,
        reason: "dispatch benchmark",
        changes: [{ field: "jobTitle", oldValue: String(user.jobTitle ?? ""), newValue: newTitle(i) }],
      },
      at,
    );
    const decided = await store.decide({ requestId: request.id, decision: "approve", actor: "UBENCH", at });
    if (!decided.ok) throw new Error(`could not approve request ${request.id}: ${decided.reason}`);
    requestIds.push(request.id);
  }
  const seedSeconds = secs(performance.now() - seedStart);

  // --- a watched store: counts settled items without adding anything to the store ------------
  // (oldestReadyAt() and listSubmittedBatches() cannot tell "done": items claimed but still
  // waiting for the PATCH are 'sending', which neither query shows.)
  const settled = new Map<number, ItemOutcome["state"]>();
  let requeued = 0;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((r) => {
    resolveDone = r;
  });
  // Wrapped methods below; every other method runs on the real store (bound, so private fields work).
  const overrides: Partial<Store> = {};
  const watched = new Proxy(store, {
    get(target, prop, receiver) {
      const own = (overrides as Record<PropertyKey, unknown>)[prop];
      if (own !== undefined) return own;
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as Store;
  overrides.completeBatch = async (batchId, outcomes, when, options) => {
    await store.completeBatch(batchId, outcomes, when, options);
    for (const o of outcomes) if (!settled.has(o.itemId)) settled.set(o.itemId, o.state);
    if (settled.size >= N) resolveDone();
  };
  // Time spent in the store's batch calls (better-sqlite3 is synchronous: this blocks the event loop).
  const storeTime = { claims: 0, claimMs: 0, claimMaxMs: 0, lastClaimAt: 0, completeMs: 0, completeMaxMs: 0 };
  overrides.claimBatch = async (max, now) => {
    const t = performance.now();
    const batch = await store.claimBatch(max, now);
    const ms = performance.now() - t;
    storeTime.claims += batch ? 1 : 0;
    storeTime.claimMs += ms;
    storeTime.claimMaxMs = Math.max(storeTime.claimMaxMs, ms);
    if (batch) storeTime.lastClaimAt = performance.now();
    return batch;
  };
  const countComplete = overrides.completeBatch;
  overrides.completeBatch = async (batchId, outcomes, when, options) => {
    const t = performance.now();
    await countComplete(batchId, outcomes, when, options);
    const ms = performance.now() - t;
    storeTime.completeMs += ms;
    storeTime.completeMaxMs = Math.max(storeTime.completeMaxMs, ms);
  };
  overrides.releaseBatch = async (batchId, input) => {
    requeued += 1;
    await store.releaseBatch(batchId, input);
  };

  // --- 503 for every k-th bulk attempt, answered by the simulator -----------------------------
  let bulkSeen = 0;
  const fetchImpl: typeof fetch = (input, init) => {
    if (FAIL_EVERY > 0 && init?.method === "PATCH") {
      bulkSeen += 1;
      if (bulkSeen % FAIL_EVERY === 0) sim.inject({ route: "bulk", status: 503, count: 1 });
    }
    // Diagnostic only: when the client's queue let this call start (the simulator records headers).
    const headers = { ...(init?.headers as Record<string, string> | undefined), "x-bench-start": String(Date.now()) };
    return fetch(input, { ...init, headers });
  };

  const jumpcloud = new JumpCloudClient({
    apiUrl: sim.url,
    apiKey: API_KEY,
    suppressEmail: true,
    requestsPerSecond: CLIENT_RATE, // JUMPCLOUD_REQUESTS_PER_SECOND
    concurrency: CONCURRENCY, // JUMPCLOUD_CONCURRENCY
    retry: { attempts: RETRY_ATTEMPTS, baseDelayMs: RETRY_DELAY, jitter: 0.1 },
    fetch: fetchImpl,
    logger,
  });
  const config: Config["dispatch"] = {
    batchMaxSize: BATCH,
    batchWindowMs: WINDOW,
    retryMaxAttempts: RETRY_ATTEMPTS,
    retryBaseDelayMs: RETRY_DELAY,
    resultsPollIntervalMs: POLL,
    giveUpHours: 24,
    conflictCheck: CONFLICT_CHECK,
  };
  const dispatcher = new Dispatcher({
    store: watched,
    jumpcloud,
    config,
    logger,
    clock: { now: () => new Date() },
    onNotify: () => {},
  });

  // --- the measured part ---------------------------------------------------------------------
  const memory = memorySampler();
  // Longest time the event loop did not run a 10 ms timer (HTTP I/O of the client waits as long).
  let lastTurn = performance.now();
  let longestStall = 0;
  let stalledOver100 = 0;
  const stallTimer = setInterval(() => {
    const now = performance.now();
    const gap = now - lastTurn - 10;
    longestStall = Math.max(longestStall, gap);
    if (gap > 100) stalledOver100 += gap;
    lastTurn = now;
  }, 10);
  const startEpoch = Date.now();
  const start = performance.now();
  await dispatcher.start();
  // Ends at the timeout, or earlier when nothing moves (no call, no settled item) for --stall s.
  let ended: "done" | "timeout" | "stalled" = "done";
  let watchdog: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<void>((resolve) => {
    let seen = -1;
    let lastMove = performance.now();
    watchdog = setInterval(() => {
      const now = performance.now();
      const moved = sim.calls.length + settled.size;
      if (moved !== seen) {
        seen = moved;
        lastMove = now;
      }
      if (now - start > TIMEOUT_S * 1000) ended = "timeout";
      else if (now - lastMove > STALL_S * 1000) ended = "stalled";
      else return;
      resolve();
    }, 250);
  });
  await Promise.race([done, gaveUp]);
  if (settled.size >= N) ended = "done";
  const wallMs = performance.now() - start;
  clearInterval(watchdog);
  // The client's queue (private; read for diagnosis only): a paused queue with work left is stuck.
  const queue = (jumpcloud as unknown as { queue: { isPaused: boolean; size: number; pending: number } }).queue;
  const clientQueue = { paused: queue.isPaused, waiting: queue.size, running: queue.pending };
  const mem = memory.stop();
  clearInterval(stallTimer);
  const completed = ended === "done";
  if (completed) {
    // Cross-check with the store's own view of what is left.
    const left = (await store.listSubmittedBatches()).length;
    const queued = await store.oldestReadyAt();
    if (left !== 0 || queued !== undefined) {
      console.error(
        `warning: all items settled but the store still lists ${left} submitted batches / queued items from ${String(queued)}`,
      );
    }
  }
  await dispatcher.stop(2000);

  // --- verification ----------------------------------------------------------------------------
  const storeStates: Record<string, number> = {};
  for (const id of requestIds) {
    const request = await store.getRequest(id);
    const state = request?.state ?? "missing";
    storeStates[state] = (storeStates[state] ?? 0) + 1;
  }
  const appliedInStore = storeStates.applied ?? 0;

  let lost = 0;
  users.forEach((u, i) => {
    if (sim.users.get(u._id)?.jobTitle !== newTitle(i)) lost += 1;
  });
  const seenIn = new Map<string, number>();
  for (const call of sim.bulkCalls) {
    for (const element of call.body) {
      const id = String(element.id);
      seenIn.set(id, (seenIn.get(id) ?? 0) + 1);
    }
  }
  const duplicated = [...seenIn.values()].filter((count) => count > 1).length;

  // --- call accounting -------------------------------------------------------------------------
  const calls: JcCall[] = [...sim.calls];
  const byRoute = (route: JcCall["route"]) => calls.filter((c) => c.route === route);
  const bulk = byRoute("bulk");
  const results = byRoute("results");
  const skipOf = (c: JcCall) => Number(typeof c.query.skip === "string" ? c.query.skip : 0);
  const jobOf = (c: JcCall) => decodeURIComponent(c.path.split("/")[5] ?? "");
  const firstPagePolls = new Map<string, number[]>();
  for (const c of results) {
    if (skipOf(c) !== 0 || c.status === 429) continue;
    const list = firstPagePolls.get(jobOf(c)) ?? [];
    list.push(c.at);
    firstPagePolls.set(jobOf(c), list);
  }
  const lags = sim.bulkCalls
    .map((b) => {
      const first = firstPagePolls.get(b.jobId)?.[0];
      return first === undefined ? undefined : first - b.at;
    })
    .filter((x): x is number => x !== undefined);
  // Client start -> simulator arrival: the client's window is measured at the first, JumpCloud's at the second.
  const delays = calls
    .map((c) => c.at - Number(c.headers["x-bench-start"]))
    .filter((x) => Number.isFinite(x))
    .sort((a, b) => a - b);
  const arrivals = calls.map((c) => c.at).sort((a, b) => a - b);
  let longestGap = 0;
  for (let i = 1; i < arrivals.length; i++)
    longestGap = Math.max(longestGap, (arrivals[i] ?? 0) - (arrivals[i - 1] ?? 0));
  if (process.env.BENCH_TRACE) {
    for (const c of calls.slice(0, Number(process.env.BENCH_TRACE))) {
      console.error(
        `trace ${c.route} ${c.status} start=${Number(c.headers["x-bench-start"]) - startEpoch} arrive=${c.at - startEpoch}`,
      );
    }
  }
  if (process.env.BENCH_TRACE_429) {
    // For each 429: the 20th earlier accepted arrival, by client start and by simulator arrival.
    const accepted = calls.filter((c) => c.status !== 429 && c.status !== 503).sort((a, b) => a.at - b.at);
    for (const c of calls.filter((x) => x.status === 429)) {
      const before = accepted.filter((a) => a.at <= c.at).slice(-RATE);
      const first = before[0];
      if (!first) continue;
      const startOf = (x: JcCall) => Number(x.headers["x-bench-start"]);
      console.error(
        `429 ${c.route}: arrival gap to ${RATE}th earlier accepted = ${c.at - first.at} ms; start gap = ${startOf(c) - startOf(first)} ms; ` +
          `delays first/this = ${first.at - startOf(first)}/${c.at - startOf(c)} ms`,
      );
    }
  }
  const firstAt = calls.length > 0 ? Math.min(...calls.map((c) => c.at)) : undefined;
  const lastBulkAt = bulk.length > 0 ? Math.max(...bulk.map((c) => c.at)) : undefined;

  const figures: DispatchFigures = {
    completed,
    ended,
    clientQueue,
    seedSeconds,
    wallSeconds: secs(wallMs),
    firstCallAfterMs: firstAt === undefined ? null : firstAt - startEpoch,
    lastBulkAtMs: lastBulkAt === undefined ? null : lastBulkAt - startEpoch,
    bulkAttempts: bulk.length,
    bulkAccepted: sim.bulkCalls.length,
    bulk503: bulk.filter((c) => c.status === 503).length,
    resultsCalls: results.length,
    resultsExtraPages: results.filter((c) => skipOf(c) > 0).length,
    resultsPollsPerJobMax: Math.max(0, ...[...firstPagePolls.values()].map((l) => l.length)),
    lookups: byRoute("lookup").length,
    otherCalls: byRoute("other").length,
    totalCalls: calls.length,
    calls429: calls.filter((c) => c.status === 429).length,
    peakCallsPerSecond: peakPerSecond(calls.map((c) => c.at)),
    peakStartsPerSecond: peakPerSecond(calls.map((c) => Number(c.headers["x-bench-start"])).filter(Number.isFinite)),
    arrivalDelayP50Ms: delays[Math.floor(delays.length * 0.5)] ?? null,
    arrivalDelayMaxMs: delays.at(-1) ?? null,
    longestGapBetweenCallsMs: longestGap,
    meanSubmitToFirstResultMs: lags.length > 0 ? Math.round(lags.reduce((a, b) => a + b, 0) / lags.length) : null,
    maxSubmitToFirstResultMs: lags.length > 0 ? Math.max(...lags) : null,
    requeued,
    appliedInStore,
    notAppliedInStore: N - appliedInStore,
    lost,
    duplicated,
    schemaViolations: sim.schemaViolations.length,
    longestLoopStallMs: Math.round(longestStall),
    loopStallsOver100msTotalMs: Math.round(stalledOver100),
    claims: storeTime.claims,
    claimTotalMs: Math.round(storeTime.claimMs),
    claimMaxMs: Math.round(storeTime.claimMaxMs),
    lastClaimAtMs: storeTime.lastClaimAt > 0 ? Math.round(storeTime.lastClaimAt - start) : null,
    completeTotalMs: Math.round(storeTime.completeMs),
    completeMaxMs: Math.round(storeTime.completeMaxMs),
    rssMaxMB: MB(mem.rssMax),
    heapUsedMaxMB: MB(mem.heapUsedMax),
    storeStates,
  };

  await store.close();
  await sim.close();
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  return figures;
}

// ---------------------------------------------------------------------------------------------
// Baseline: one change per call, in sequence (a per-user script)

interface BaselineFigures {
  users: number;
  seconds: number;
  calls: number;
  calls429: number;
  msPerChange: number;
  extrapolatedSeconds: number;
}

async function runBaseline(): Promise<BaselineFigures | undefined> {
  if (BASELINE_N === 0) return undefined;
  const users = makeUsers(BASELINE_N);
  const sim: FakeJumpCloud = await startFakeJumpCloud({
    apiKey: API_KEY,
    users,
    rateLimitPerSecond: RATE,
    latencyMs: LATENCY,
    jobDelayMs: JOB_DELAY,
  });
  let calls = 0;
  let calls429 = 0;
  const start = performance.now();
  for (const [i, user] of users.entries()) {
    for (;;) {
      calls += 1;
      const response = await fetch(`${sim.url}/api/v2/bulk/users?suppressEmail=true`, {
        method: "PATCH",
        headers: { "x-api-key": API_KEY, accept: "application/json", "content-type": "application/json" },
        body: JSON.stringify([{ id: user._id, jobTitle: newTitle(i) }]),
      });
      await response.text();
      if (response.status === 429) {
        // What a careful script does: wait Retry-After, then send the same change again.
        calls429 += 1;
        await sleep(Number(response.headers.get("retry-after") ?? "1") * 1000);
        continue;
      }
      if (!response.ok) throw new Error(`baseline PATCH answered ${response.status}`);
      break;
    }
  }
  const ms = performance.now() - start;
  await sim.close();
  return {
    users: BASELINE_N,
    seconds: secs(ms),
    calls,
    calls429,
    msPerChange: round(ms / BASELINE_N, 1),
    extrapolatedSeconds: round(((ms / BASELINE_N) * N) / 1000, 1),
  };
}

// ---------------------------------------------------------------------------------------------
// Main

const d = await runDispatcher();
const b = await runBaseline();

const jobs = Math.ceil(N / BATCH);
const minBulk = jobs;
// One results read per job when the job is final at the first read (simulator jobDelayMs 0) and
// the reader stops at the last record: ceil(jobSize / 100) pages per job.
let minResults = 0;
for (let left = N; left > 0; left -= BATCH) minResults += Math.ceil(Math.min(BATCH, left) / RESULTS_PAGE);
// Every injected 503 costs one call that has to be repeated.
const minTotal = minBulk + minResults + d.bulk503;
// With CONFLICT_CHECK on, reading the batch's users (one search of up to 100 ids) is part of the
// work: ceil(size/100) lookups per job.
const minLookups = CONFLICT_CHECK ? minResults : 0;
const minTotalWithLookups = minTotal + minLookups;
const floorMadeS = d.totalCalls / RATE;
const floorMinS = minTotal / RATE;
const aims = {
  callsAtMinimum: d.totalCalls === minTotal,
  callsAtMinimumInclLookups: d.totalCalls === minTotalWithLookups,
  wallWithin10pctOfCallsOverRate: d.wallSeconds <= floorMadeS * 1.1,
  wallWithin10pctOfMinimum: d.wallSeconds <= floorMinS * 1.1,
  zero429: d.calls429 === 0,
  nothingLostOrDuplicated: d.lost === 0 && d.duplicated === 0 && d.notAppliedInStore === 0,
};

const lines: [string, string | number | boolean | null][] = [
  ["N (approved changes)", N],
  ["batch size", BATCH],
  ["rate limit (simulator, requests/s)", RATE],
  ["client JUMPCLOUD_REQUESTS_PER_SECOND", CLIENT_RATE],
  ["concurrency", CONCURRENCY],
  ["latency (ms)", LATENCY],
  ["503 share (every k-th bulk attempt)", FAIL503 > 0 ? `${FAIL503} (k=${FAIL_EVERY})` : 0],
  ["batch window (ms)", WINDOW],
  ["results poll interval (ms)", POLL],
  ["retry base delay (ms)", RETRY_DELAY],
  ["job delay (ms)", JOB_DELAY],
  ["conflict check", CONFLICT_CHECK ? "on" : "off"],
  ["store", String(args.db)],
  ["seeding N approved requests (s, not measured)", d.seedSeconds],
  ["completed", d.completed],
  ["ended by", d.ended === "stalled" ? `stalled (nothing moved for ${STALL_S} s)` : d.ended],
  [
    "client queue at the end: paused / waiting / running",
    `${d.clientQueue.paused} / ${d.clientQueue.waiting} / ${d.clientQueue.running}`,
  ],
  ["bulk calls made (attempts)", d.bulkAttempts],
  ["bulk calls accepted", d.bulkAccepted],
  ["bulk calls answered 503", d.bulk503],
  ["minimum bulk calls ceil(N/batch)", minBulk],
  ["results calls", d.resultsCalls],
  ["  of which extra pages (skip>0)", d.resultsExtraPages],
  ["  max first-page polls for one job (excl. 429)", d.resultsPollsPerJobMax],
  ["minimum results calls (1 read per job, ceil(size/100) pages)", minResults],
  ["lookup calls", d.lookups],
  ["minimum lookup calls (conflict check: 1 search of <=100 ids per job)", minLookups],
  ["total JumpCloud calls", d.totalCalls],
  ["minimum total calls (bulk + results + 503 retries)", minTotal],
  ["calls / minimum", round(d.totalCalls / minTotal, 3)],
  ["minimum total incl. conflict-check lookups", minTotalWithLookups],
  ["calls / minimum incl. lookups", round(d.totalCalls / minTotalWithLookups, 3)],
  ["wall time (s)", d.wallSeconds],
  ["floor: calls made / rate (s)", round(floorMadeS, 2)],
  ["wall / (calls made / rate)", round(d.wallSeconds / floorMadeS, 3)],
  ["floor: minimum calls / rate (s)", round(floorMinS, 2)],
  ["wall / (minimum calls / rate)", round(d.wallSeconds / floorMinS, 3)],
  ["floor: minimum incl. lookups / rate (s)", round(minTotalWithLookups / RATE, 2)],
  ["wall / (minimum incl. lookups / rate)", round(d.wallSeconds / (minTotalWithLookups / RATE), 3)],
  ["first JumpCloud call after start (ms)", d.firstCallAfterMs],
  [
    "wall from first call to done (s)",
    d.firstCallAfterMs === null ? null : round(d.wallSeconds - d.firstCallAfterMs / 1000, 3),
  ],
  [
    "(wall from first call) / (calls made / client rate)",
    d.firstCallAfterMs === null
      ? null
      : round((d.wallSeconds - d.firstCallAfterMs / 1000) / (d.totalCalls / CLIENT_RATE), 3),
  ],
  ["last bulk call at (ms after start)", d.lastBulkAtMs],
  ["bulk accepted -> first results read, mean (ms)", d.meanSubmitToFirstResultMs],
  ["bulk accepted -> first results read, max (ms)", d.maxSubmitToFirstResultMs],
  ["peak calls in any sliding second (simulator arrival)", d.peakCallsPerSecond],
  ["peak calls in any sliding second (client start)", d.peakStartsPerSecond],
  ["client start -> simulator arrival, median / max (ms)", `${d.arrivalDelayP50Ms} / ${d.arrivalDelayMaxMs}`],
  ["longest gap between two calls (ms)", d.longestGapBetweenCallsMs],
  ["effective calls/s (calls / wall)", round(d.totalCalls / d.wallSeconds, 2)],
  ["longest event-loop stall (ms)", d.longestLoopStallMs],
  ["event-loop stalls > 100 ms, total (ms)", d.loopStallsOver100msTotalMs],
  ["store.claimBatch: batches / total ms / max ms", `${d.claims} / ${d.claimTotalMs} / ${d.claimMaxMs}`],
  ["last batch claimed at (ms after start)", d.lastClaimAtMs],
  ["store.completeBatch: total ms / max ms", `${d.completeTotalMs} / ${d.completeMaxMs}`],
  ["429s received", d.calls429],
  ["batches re-queued (attempts ran out)", d.requeued],
  ["requests applied in store", d.appliedInStore],
  ["requests not applied in store", d.notAppliedInStore],
  ["changes lost (not in simulator users)", d.lost],
  ["changes duplicated (user in >1 accepted bulk body)", d.duplicated],
  ["schema violations", d.schemaViolations],
  ["peak RSS (MB, whole process incl. simulator)", d.rssMaxMB],
  ["peak heapUsed (MB)", d.heapUsedMaxMB],
];
if (b) {
  lines.push(
    ["baseline users (sequential, 1 change per PATCH)", b.users],
    ["baseline time (s)", b.seconds],
    ["baseline calls (incl. 429 retries)", b.calls],
    ["baseline 429s", b.calls429],
    ["baseline ms per change", b.msPerChange],
    [`baseline extrapolated to N=${N} (s)`, b.extrapolatedSeconds],
    ["speed ratio (baseline for N / dispatcher wall)", round(b.extrapolatedSeconds / d.wallSeconds, 1)],
    ["baseline floor at the rate limit N / rate (s)", N / RATE],
  );
}
for (const [name, value] of Object.entries(aims)) lines.push([`aim ${name}`, value ? "PASS" : "FAIL"]);

for (const [label, value] of lines) console.log(`${label}: ${value}`);
console.log(
  JSON.stringify({
    n: N,
    batch: BATCH,
    rate: RATE,
    clientRate: CLIENT_RATE,
    concurrency: CONCURRENCY,
    latencyMs: LATENCY,
    fail503: FAIL503,
    windowMs: WINDOW,
    pollMs: POLL,
    retryDelayMs: RETRY_DELAY,
    jobDelayMs: JOB_DELAY,
    store: args.db,
    conflictCheck: CONFLICT_CHECK,
    minBulk,
    minResults,
    minTotal,
    minLookups,
    minTotalWithLookups,
    floorMadeS: round(floorMadeS, 2),
    floorMinS: round(floorMinS, 2),
    ...d,
    baseline: b ?? null,
    speedRatio: b ? round(b.extrapolatedSeconds / d.wallSeconds, 1) : null,
    aims,
  }),
);

process.exit(d.completed && d.lost === 0 && d.duplicated === 0 && d.notAppliedInStore === 0 ? 0 : 1);
