/**
 * A fake JumpCloud API on a real HTTP server (node:http), used by the end-to-end tests and by
 * `npm run jc-sim` for manual runs. It implements only what jc-update-bot calls:
 *
 *   GET   /api/systemusers?filter=<field>:$eq:<value>&limit=&skip=&fields=
 *   GET   /api/systemusers/:id
 *   POST  /api/search/systemusers                 {filter, fields, limit, skip}
 *   PATCH /api/v2/bulk/users?suppressEmail=       [bulk-user-update, ...]   -> {jobId}
 *   GET   /api/v2/bulk/users/:jobId/results?limit=&skip=
 *
 * plus control endpoints under /__sim/ (no API key) and fault injection.
 * Shapes follow /work/shared/reference/jumpcloud-v1-systemusers.openapi.json and
 * jumpcloud-v2-bulk-users.openapi.json. Every PATCH body is validated against the official
 * `bulk-user-update` schema; violations are answered 400 and collected in `schemaViolations`.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from "node:http";
import { createServer, STATUS_CODES } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { ErrorObject, ValidateFunction } from "ajv";
import { Ajv } from "ajv";
import type { JcAttribute, JcPhoneNumber, JcUser } from "../requests/types.js";

// ---------------------------------------------------------------------------------------------
// Types

export type SeedPhoneNumber = JcPhoneNumber;
export type SeedAttribute = JcAttribute;

/** A JumpCloud system user as the bot reads it, plus what only the simulator keeps. */
export interface SeedUser extends JcUser {
  activated?: boolean;
  state?: string;
  organization?: string;
}

/** Which requests a fault or a latency applies to. */
export type JcRoute = "bulk" | "results" | "lookup" | "any";

export interface JcFault {
  route: JcRoute;
  /** HTTP status to answer; 0 drops the connection without an answer (a network error). */
  status: number;
  /** How many matching requests get this answer (default 1). */
  count?: number;
  /** Seconds, sent as the Retry-After header. */
  retryAfter?: number;
  /** Response body; default `{"message": <status text>}`. */
  body?: unknown;
}

export interface FakeJumpCloudOptions {
  apiKey: string;
  /** When set, requests must carry header x-org-id with this value (else 401). */
  orgId?: string;
  users?: SeedUser[];
  port?: number;
  host?: string;
  /** How long a bulk job's records stay "pending" (default 0: results are final at once). */
  jobDelayMs?: number;
  /** Success status of PATCH /api/v2/bulk/users: the upstream spec says 201, the SDK 200. */
  bulkStatus?: 200 | 201;
  /** More than N accepted requests within any sliding second get 429 + Retry-After: 1. */
  rateLimitPerSecond?: number;
  /** Delay before answering any API request. */
  latencyMs?: number;
  /** Path of jumpcloud-v2-bulk-users.openapi.json (default: env JC_BULK_SCHEMA_PATH, then shared/reference). */
  schemaPath?: string;
}

/** Route tag of a recorded call; "other" for unknown paths. */
export type JcCallRoute = "bulk" | "results" | "lookup" | "other";

export interface JcCall {
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  /** Parsed JSON body, the raw string when not JSON, undefined when empty. */
  body: unknown;
  headers: IncomingHttpHeaders;
  route: JcCallRoute;
  /** HTTP status answered; 0 while the request is in progress or when the connection was dropped. */
  status: number;
  /** Arrival time, ms since epoch. */
  at: number;
}

export interface JcBulkCall {
  body: Record<string, unknown>[];
  query: Record<string, string | string[]>;
  headers: IncomingHttpHeaders;
  at: number;
  jobId: string;
}

export type JobRecordStatus = "pending" | "finished" | "failed";

/** One record of GET /api/v2/bulk/users/:jobId/results (`job-workresult`). */
export interface JobRecord {
  id: string;
  createdAt: string;
  updatedAt: string;
  status: JobRecordStatus;
  statusMsg: string;
  meta: { systemUserId: string };
  persistedFields: Record<string, unknown>;
}

export interface FakeJob {
  id: string;
  createdAt: number;
  /** Records stay pending until this time (ms since epoch). */
  readyAt: number;
  done: boolean;
  /** When a results read found it ready and applied it (ms since epoch). */
  completedAt?: number;
  elements: Record<string, unknown>[];
  records: JobRecord[];
}

export interface FakeJumpCloud {
  readonly url: string;
  readonly port: number;
  readonly apiKey: string;
  readonly users: Map<string, SeedUser>;
  readonly calls: JcCall[];
  readonly bulkCalls: JcBulkCall[];
  readonly schemaViolations: string[];
  readonly jobs: Map<string, FakeJob>;
  /** user id -> statusMsg for users whose job records must fail. */
  readonly failUserIds: Map<string, string>;
  inject(fault: JcFault): void;
  /** Delay before answering `route` (default: every request; then per-route delays are cleared too). */
  setLatency(ms: number, route?: JcRoute): void;
  failUser(id: string, message?: string): void;
  /** A bulk call carrying this user is refused whole with 400 `{message}` (as for an invalid value). */
  refuseUser(id: string, message?: string): void;
  setJobDelay(ms: number): void;
  setBulkStatus(status: 200 | 201): void;
  setRateLimit(perSecond: number | undefined): void;
  /** Adds or replaces a user (by `_id`). */
  addUser(user: SeedUser): void;
  /** Clears calls, jobs, faults, latency and failing users; restores the seeded users. */
  reset(): void;
  close(): Promise<void>;
  /** Resolves with all calls once `predicate(calls)` holds; rejects after timeoutMs. */
  waitForCalls(predicate: (calls: readonly JcCall[]) => boolean, timeoutMs?: number): Promise<JcCall[]>;
  /** Resolves with the first call (past or future) matching `predicate`. */
  waitForCall(predicate: (call: JcCall) => boolean, timeoutMs?: number): Promise<JcCall>;
}

// ---------------------------------------------------------------------------------------------
// Sample data

/** A stable fake organization id, used when no orgId is configured. */
export const SAMPLE_ORG_ID = "5e0a1b2c3d4e5f6a7b8c9d00";

/**
 * About five realistic users: Ada manages Grace and Alan; Grace has work and mobile phones;
 * Alan has the custom attributes costCode and badgeNumber. `emails` replace the sample emails in
 * order (extra emails get generic users), so an admin can match their Slack workspace.
 */
export function sampleUsers(emails?: string[], organization: string = SAMPLE_ORG_ID): SeedUser[] {
  const base: SeedUser[] = [
    {
      _id: "5f1b0c0e9d3a4b0012a1b001",
      email: "ada.lovelace@example.com",
      username: "ada.lovelace",
      firstname: "Ada",
      middlename: "",
      lastname: "Lovelace",
      displayname: "Ada Lovelace",
      jobTitle: "VP Engineering",
      department: "Engineering",
      location: "London",
      company: "Example Corp",
      costCenter: "ENG-100",
      employeeIdentifier: "E1001",
      employeeType: "Full-time",
      alternateEmail: "",
      manager: "",
      phoneNumbers: [{ id: "5f1b0c0e9d3a4b0012a1c001", type: "work", number: "+44 20 7946 0001" }],
      attributes: [],
    },
    {
      _id: "5f1b0c0e9d3a4b0012a1b002",
      email: "grace.hopper@example.com",
      username: "grace.hopper",
      firstname: "Grace",
      middlename: "Brewster",
      lastname: "Hopper",
      displayname: "Grace Hopper",
      jobTitle: "Senior Software Engineer",
      department: "Engineering",
      location: "New York",
      company: "Example Corp",
      costCenter: "ENG-110",
      employeeIdentifier: "E1002",
      employeeType: "Full-time",
      alternateEmail: "grace@personal.example.net",
      manager: "5f1b0c0e9d3a4b0012a1b001",
      phoneNumbers: [
        { id: "5f1b0c0e9d3a4b0012a1c002", type: "work", number: "+1 212 555 0102" },
        { id: "5f1b0c0e9d3a4b0012a1c003", type: "mobile", number: "+1 917 555 0199" },
      ],
      attributes: [],
    },
    {
      _id: "5f1b0c0e9d3a4b0012a1b003",
      email: "alan.turing@example.com",
      username: "alan.turing",
      firstname: "Alan",
      middlename: "Mathison",
      lastname: "Turing",
      displayname: "Alan Turing",
      jobTitle: "Security Engineer",
      department: "Engineering",
      location: "Manchester",
      company: "Example Corp",
      costCenter: "ENG-120",
      employeeIdentifier: "E1003",
      employeeType: "Contractor",
      alternateEmail: "",
      manager: "5f1b0c0e9d3a4b0012a1b001",
      phoneNumbers: [],
      attributes: [
        { name: "costCode", value: "CC-4471" },
        { name: "badgeNumber", value: "B-00917" },
      ],
    },
    {
      _id: "5f1b0c0e9d3a4b0012a1b004",
      email: "katherine.johnson@example.com",
      username: "katherine.johnson",
      firstname: "Katherine",
      middlename: "",
      lastname: "Johnson",
      displayname: "Katherine Johnson",
      jobTitle: "Financial Analyst",
      department: "Finance",
      location: "Hampton",
      company: "Example Corp",
      costCenter: "FIN-200",
      employeeIdentifier: "E1004",
      employeeType: "Full-time",
      alternateEmail: "",
      manager: "",
      phoneNumbers: [{ id: "5f1b0c0e9d3a4b0012a1c004", type: "mobile", number: "+1 757 555 0144" }],
      attributes: [{ name: "costCode", value: "CC-2001" }],
    },
    {
      _id: "5f1b0c0e9d3a4b0012a1b005",
      email: "linus.support@example.com",
      username: "linus.support",
      firstname: "Linus",
      middlename: "",
      lastname: "Svensson",
      displayname: "Linus Svensson",
      jobTitle: "IT Support Specialist",
      department: "IT",
      location: "Stockholm",
      company: "Example Corp",
      costCenter: "IT-300",
      employeeIdentifier: "E1005",
      employeeType: "Part-time",
      alternateEmail: "",
      manager: "5f1b0c0e9d3a4b0012a1b004",
      phoneNumbers: [],
      attributes: [],
    },
  ];
  const users = base.map((u) => ({ ...u, activated: true, state: "ACTIVATED", organization }));
  if (!emails) return users;
  const cleaned = emails.map((e) => e.trim()).filter((e) => e.length > 0);
  cleaned.forEach((email, i) => {
    const user = users[i];
    if (user) {
      user.email = email;
      return;
    }
    const n = i + 1;
    const local = email.split("@")[0] ?? `user${n}`;
    users.push({
      _id: `5f1b0c0e9d3a4b0012a1${n.toString(16).padStart(4, "0")}`,
      email,
      username: local.replace(/[^A-Za-z0-9._-]/g, "").slice(0, 30) || `user${n}`,
      firstname: "Sample",
      lastname: `User ${n}`,
      displayname: `Sample User ${n}`,
      jobTitle: "Employee",
      department: "Operations",
      location: "Remote",
      company: "Example Corp",
      phoneNumbers: [],
      attributes: [],
      activated: true,
      state: "ACTIVATED",
      organization,
    });
  });
  return users;
}

// ---------------------------------------------------------------------------------------------
// Helpers

const MAX_LIMIT = 100; // v1 and v2 list endpoints: "Limited to 100."
const DEFAULT_LIMIT = 10; // trait:limit default

function hexId(): string {
  return randomBytes(12).toString("hex"); // JumpCloud ids are 24-hex-char ObjectIds
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function queryObject(params: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key of new Set(params.keys())) {
    const all = params.getAll(key);
    out[key] = all.length === 1 ? (all[0] ?? "") : all;
  }
  return out;
}

/** Parses limit/skip like JumpCloud: integers, limit ≤ 100. */
function paging(params: { limit?: unknown; skip?: unknown }): { limit: number; skip: number } {
  const parse = (value: unknown, name: string, fallback: number): number => {
    if (value === undefined || value === null || value === "") return fallback;
    const n = typeof value === "number" ? value : Number(value);
    if (!Number.isInteger(n) || n < 0) throw new HttpError(400, `${name} must be a non-negative integer`);
    return n;
  };
  const limit = parse(params.limit, "limit", DEFAULT_LIMIT);
  const skip = parse(params.skip, "skip", 0);
  if (limit > MAX_LIMIT) throw new HttpError(400, `limit must be less than or equal to ${MAX_LIMIT}`);
  return { limit, skip };
}

/** `fields=email username` (space separated; commas tolerated): `_id` is always returned. */
function project(user: SeedUser, fields: string | undefined): Record<string, unknown> {
  const copy = clone(user);
  if (!fields || fields.trim() === "") return copy;
  const wanted = new Set(fields.split(/[\s,]+/).filter((f) => f.length > 0));
  const out: Record<string, unknown> = { _id: copy._id };
  for (const key of wanted) if (key in copy) out[key] = copy[key];
  return out;
}

function valueMatches(actual: unknown, expected: string): boolean {
  if (actual === undefined || actual === null) return false;
  return typeof actual === "string" ? actual === expected : String(actual) === expected;
}

/** One v1 query-string filter `<field>:<$op>:<value>` (value may contain colons). */
function parseQueryFilter(filter: string): (user: SeedUser) => boolean {
  const first = filter.indexOf(":");
  const second = first < 0 ? -1 : filter.indexOf(":", first + 1);
  if (first <= 0 || second < 0) throw new HttpError(400, `invalid filter: ${filter}`);
  const field = filter.slice(0, first);
  const op = filter.slice(first + 1, second);
  const value = filter.slice(second + 1);
  switch (op) {
    case "$eq":
      return (u) => valueMatches(u[field], value);
    case "$ne":
      return (u) => !valueMatches(u[field], value);
    case "$in": {
      const values = value.split("|");
      return (u) => values.some((v) => valueMatches(u[field], v));
    }
    default:
      throw new HttpError(400, `unsupported filter operator: ${op}`);
  }
}

/** A search body `filter`: {or:[...]}, {and:[...]}, [...] (all), or {field: value, ...} (all). */
function searchPredicate(filter: unknown): (user: SeedUser) => boolean {
  if (filter === undefined || filter === null) return () => true;
  if (Array.isArray(filter)) {
    const parts = filter.map(searchPredicate);
    return (u) => parts.every((p) => p(u));
  }
  if (!isRecord(filter)) throw new HttpError(400, "filter must be an object");
  const keys = Object.keys(filter);
  if (keys.length === 1 && (keys[0] === "or" || keys[0] === "and")) {
    const list = filter[keys[0]];
    if (!Array.isArray(list)) throw new HttpError(400, `filter.${keys[0]} must be an array`);
    const parts = list.map(searchPredicate);
    return keys[0] === "or" ? (u) => parts.some((p) => p(u)) : (u) => parts.every((p) => p(u));
  }
  const parts = keys.map((field): ((u: SeedUser) => boolean) => {
    const expected = filter[field];
    if (field === "or" || field === "and") return searchPredicate({ [field]: expected });
    if (isRecord(expected)) {
      // Mongo-style operators, as accepted by JumpCloud's search endpoints.
      return (u) =>
        Object.entries(expected).every(([op, arg]) => {
          if (op === "$eq") return valueMatches(u[field], String(arg));
          if (op === "$ne") return !valueMatches(u[field], String(arg));
          if (op === "$in" && Array.isArray(arg)) return arg.some((a) => valueMatches(u[field], String(a)));
          throw new HttpError(400, `unsupported operator ${op} on ${field}`);
        });
    }
    return (u) => valueMatches(u[field], String(expected));
  });
  return (u) => parts.every((p) => p(u));
}

/** `searchFilter: {searchTerm: string | string[], fields: string[]}`: partial, case-insensitive. */
function searchFilterPredicate(searchFilter: unknown): (user: SeedUser) => boolean {
  if (searchFilter === undefined || searchFilter === null) return () => true;
  if (!isRecord(searchFilter)) throw new HttpError(400, "searchFilter must be an object");
  const terms = (Array.isArray(searchFilter.searchTerm) ? searchFilter.searchTerm : [searchFilter.searchTerm])
    .filter((t): t is string => typeof t === "string")
    .map((t) => t.toLowerCase());
  const fields = Array.isArray(searchFilter.fields)
    ? searchFilter.fields.filter((f): f is string => typeof f === "string")
    : [];
  return (u) =>
    terms.some((t) => fields.some((f) => typeof u[f] === "string" && (u[f] as string).toLowerCase().includes(t)));
}

/** Where the bulk-user schema is read from (also used by tests that validate bodies). */
export function bulkSchemaPath(): string | URL {
  const fromEnv = process.env.JC_BULK_SCHEMA_PATH;
  if (fromEnv) return fromEnv;
  // The team's shared reference (kept current) when the repo sits beside it, else the copy
  // vendored with the simulator so `npm run jc-sim` works in any clone.
  const shared = new URL("../../../shared/reference/jumpcloud-v2-bulk-users.openapi.json", import.meta.url);
  if (existsSync(shared)) return shared;
  return new URL("./reference/jumpcloud-v2-bulk-users.openapi.json", import.meta.url);
}

interface BulkSchema {
  validate: ValidateFunction;
  /** Property names of bulk-user-update: only these are persisted, others are ignored. */
  knownFields: Set<string>;
}

function loadBulkSchema(path: string | URL): BulkSchema {
  let spec: unknown;
  try {
    spec = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new Error(`fake JumpCloud: cannot read bulk users schema at ${String(path)}: ${(err as Error).message}`);
  }
  if (!isRecord(spec) || !isRecord(spec.definitions) || !isRecord(spec.definitions["bulk-user-update"])) {
    throw new Error(`fake JumpCloud: ${String(path)} has no definitions.bulk-user-update`);
  }
  // Swagger 2.0 definitions are draft-04-like; extension keywords (x-nullable…) need strict: false.
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addFormat("date-time", /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/i);
  ajv.addFormat("int32", true);
  ajv.addSchema({ definitions: spec.definitions }, "jc-v2");
  const validate = ajv.getSchema("jc-v2#/definitions/bulk-user-update");
  if (!validate) throw new Error("fake JumpCloud: cannot compile bulk-user-update");
  const definition = spec.definitions["bulk-user-update"];
  const knownFields = new Set(isRecord(definition.properties) ? Object.keys(definition.properties) : []);
  return { validate, knownFields };
}

function describeAjvErrors(index: number, errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => {
    const at = `[${index}]${e.instancePath.replace(/\//g, ".")}`;
    const extra = e.keyword === "additionalProperties" ? ` (${String(e.params.additionalProperty)})` : "";
    return `${at} ${e.message ?? e.keyword}${extra}`;
  });
}

function routeOf(method: string, path: string): JcCallRoute {
  if (method === "PATCH" && path === "/api/v2/bulk/users") return "bulk";
  if (method === "GET" && /^\/api\/v2\/bulk\/users\/[^/]+\/results$/.test(path)) return "results";
  if (method === "GET" && /^\/api\/systemusers(\/[^/]+)?$/.test(path)) return "lookup";
  if (method === "POST" && path === "/api/search/systemusers") return "lookup";
  return "other";
}

function routeMatches(wanted: JcRoute, actual: JcCallRoute): boolean {
  return wanted === "any" || wanted === actual;
}

function isJcRoute(value: unknown): value is JcRoute {
  return value === "bulk" || value === "results" || value === "lookup" || value === "any";
}

async function readBody(req: IncomingMessage, maxBytes = 20 * 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > maxBytes) throw new HttpError(413, "request entity too large");
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** What an API handler answers. */
interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? "" : JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

// ---------------------------------------------------------------------------------------------
// Server

interface PendingFault extends JcFault {
  remaining: number;
}

export async function startFakeJumpCloud(options: FakeJumpCloudOptions): Promise<FakeJumpCloud> {
  const schema = loadBulkSchema(options.schemaPath ?? bulkSchemaPath());
  const seed = clone(options.users ?? []);
  const host = options.host ?? "127.0.0.1";

  const users = new Map<string, SeedUser>();
  const calls: JcCall[] = [];
  const bulkCalls: JcBulkCall[] = [];
  const schemaViolations: string[] = [];
  const jobs = new Map<string, FakeJob>();
  const failUserIds = new Map<string, string>();
  const refuseUserIds = new Map<string, string>();
  const faults: PendingFault[] = [];
  const latency = new Map<JcRoute, number>();
  const timers = new Set<NodeJS.Timeout>();
  const acceptedAt: number[] = []; // arrival times of requests not refused by the rate limiter
  const watchers = new Set<() => void>();
  let jobDelayMs = options.jobDelayMs ?? 0;
  let bulkStatus: 200 | 201 = options.bulkStatus ?? 201;
  let rateLimit = options.rateLimitPerSecond;

  const restoreUsers = (): void => {
    users.clear();
    for (const u of seed) users.set(u._id, clone(u));
  };
  restoreUsers();
  if (options.latencyMs) latency.set("any", options.latencyMs);

  const notify = (): void => {
    for (const w of [...watchers]) w();
  };

  // --- jobs --------------------------------------------------------------------------------

  const applyElement = (element: Record<string, unknown>, record: JobRecord): void => {
    const userId = record.meta.systemUserId;
    const now = new Date().toISOString();
    record.updatedAt = now;
    const failure = failUserIds.get(userId);
    if (failure !== undefined) {
      record.status = "failed";
      record.statusMsg = failure;
      return;
    }
    const user = users.get(userId);
    if (!user) {
      record.status = "failed";
      record.statusMsg = "user not found";
      return;
    }
    // Uniqueness JumpCloud enforces on update.
    for (const key of ["email", "username"] as const) {
      const wanted = element[key];
      if (typeof wanted !== "string") continue;
      const clash = [...users.values()].find((u) => u._id !== userId && u[key] === wanted);
      if (clash) {
        record.status = "failed";
        record.statusMsg = `${key} already exists`;
        return;
      }
    }
    for (const [key, value] of Object.entries(element)) {
      if (key === "id" || key === "password" || !schema.knownFields.has(key)) continue;
      if (key === "phoneNumbers" && Array.isArray(value)) {
        // The list is REPLACED (JumpCloud semantics): entries not sent are dropped.
        user.phoneNumbers = value.filter(isRecord).map((p) => ({
          id: typeof p.id === "string" ? p.id : hexId(),
          type: String(p.type ?? ""),
          number: String(p.number ?? ""),
        }));
        continue;
      }
      user[key] = clone(value); // attributes too: whole-list replacement
    }
    record.status = "finished";
    record.statusMsg = "success";
  };

  const completeJob = (job: FakeJob): void => {
    if (job.done) return;
    job.done = true;
    job.completedAt = Date.now();
    job.elements.forEach((element, i) => {
      const record = job.records[i];
      if (record) applyElement(element, record);
    });
    notify();
  };

  const createJob = (elements: Record<string, unknown>[]): FakeJob => {
    const createdAt = Date.now();
    const iso = new Date(createdAt).toISOString();
    const job: FakeJob = {
      id: hexId(),
      createdAt,
      readyAt: createdAt + jobDelayMs,
      done: false,
      elements: clone(elements),
      records: elements.map((element) => {
        const userId = String(element.id);
        const persistedFields: Record<string, unknown> = { id: userId };
        for (const [k, v] of Object.entries(element)) {
          if (k !== "id" && k !== "password" && schema.knownFields.has(k)) persistedFields[k] = clone(v);
        }
        return {
          id: hexId(),
          createdAt: iso,
          updatedAt: iso,
          status: "pending",
          statusMsg: "",
          meta: { systemUserId: userId },
          persistedFields,
        };
      }),
    };
    jobs.set(job.id, job);
    if (jobDelayMs <= 0) {
      completeJob(job);
    } else {
      const timer = setTimeout(() => {
        timers.delete(timer);
        completeJob(job);
      }, jobDelayMs);
      timers.add(timer);
    }
    return job;
  };

  // --- API handlers --------------------------------------------------------------------------

  const handleBulk = (call: JcCall): Reply => {
    const violation = (message: string): never => {
      schemaViolations.push(message);
      throw new HttpError(400, message);
    };
    const suppress = call.query.suppressEmail;
    if (suppress !== undefined && suppress !== "true" && suppress !== "false") {
      violation(`suppressEmail must be true or false, got ${JSON.stringify(suppress)}`);
    }
    const body = call.body;
    if (!Array.isArray(body)) violation("body must be a JSON array of bulk-user-update objects");
    const elements = body as unknown[];
    if (elements.length === 0) violation("body must not be an empty array");
    const problems: string[] = [];
    elements.forEach((element, i) => {
      if (!isRecord(element)) {
        problems.push(`[${i}] must be an object`);
        return;
      }
      // The schema declares no required fields, but an update without a string id targets nobody.
      if (element.id === undefined) problems.push(`[${i}] must have required property 'id'`);
      else if (typeof element.id !== "string") problems.push(`[${i}].id must be a string`);
      if (!schema.validate(element)) {
        const errors = (schema.validate.errors ?? []).filter((e) => e.instancePath !== "/id" || e.keyword !== "type");
        problems.push(...describeAjvErrors(i, errors));
      }
    });
    if (problems.length > 0) violation(`bulk-user-update: ${problems.join("; ")}`);
    const valid = elements as Record<string, unknown>[];
    const refused = valid.find((e) => refuseUserIds.has(String(e.id)));
    if (refused) throw new HttpError(400, refuseUserIds.get(String(refused.id)) ?? "invalid user update");
    const job = createJob(valid);
    bulkCalls.push({ body: clone(valid), query: call.query, headers: call.headers, at: call.at, jobId: job.id });
    return { status: bulkStatus, body: { jobId: job.id } };
  };

  const handleResults = (call: JcCall, jobId: string): Reply => {
    const job = jobs.get(jobId);
    if (!job) throw new HttpError(404, "Not Found");
    if (!job.done && Date.now() >= job.readyAt) completeJob(job);
    const { limit, skip } = paging({ limit: call.query.limit, skip: call.query.skip });
    return { status: 200, body: clone(job.records.slice(skip, skip + limit)) };
  };

  const listUsers = (
    predicate: (u: SeedUser) => boolean,
    page: { limit: number; skip: number },
    fields: string | undefined,
  ): { totalCount: number; results: Record<string, unknown>[] } => {
    const matching = [...users.values()].filter(predicate);
    return {
      totalCount: matching.length,
      results: matching.slice(page.skip, page.skip + page.limit).map((u) => project(u, fields)),
    };
  };

  const handleList = (call: JcCall): Reply => {
    const raw = call.query.filter;
    const filters = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    const predicates = filters.map(parseQueryFilter);
    const page = paging({ limit: call.query.limit, skip: call.query.skip });
    const fields = typeof call.query.fields === "string" ? call.query.fields : undefined;
    return { status: 200, body: listUsers((u) => predicates.every((p) => p(u)), page, fields) };
  };

  const handleSearch = (call: JcCall): Reply => {
    const body = call.body ?? {};
    if (!isRecord(body)) throw new HttpError(400, "body must be a JSON object");
    const byFilter = searchPredicate(body.filter);
    const bySearch = searchFilterPredicate(body.searchFilter);
    const page = paging({ limit: body.limit, skip: body.skip });
    const fields = typeof body.fields === "string" ? body.fields : undefined;
    return { status: 200, body: listUsers((u) => byFilter(u) && bySearch(u), page, fields) };
  };

  const handleApi = (call: JcCall): Reply => {
    const { method, path } = call;
    if (call.route === "bulk") return handleBulk(call);
    const results = /^\/api\/v2\/bulk\/users\/([^/]+)\/results$/.exec(path);
    if (method === "GET" && results?.[1]) return handleResults(call, decodeURIComponent(results[1]));
    if (method === "GET" && path === "/api/systemusers") return handleList(call);
    const one = /^\/api\/systemusers\/([^/]+)$/.exec(path);
    if (method === "GET" && one?.[1]) {
      const user = users.get(decodeURIComponent(one[1]));
      if (!user) throw new HttpError(404, "Not Found");
      const fields = typeof call.query.fields === "string" ? call.query.fields : undefined;
      return { status: 200, body: project(user, fields) };
    }
    if (method === "POST" && path === "/api/search/systemusers") return handleSearch(call);
    throw new HttpError(404, "Not Found");
  };

  // --- control endpoints ---------------------------------------------------------------------

  const parseFault = (value: unknown): JcFault => {
    if (!isRecord(value) || !isJcRoute(value.route) || typeof value.status !== "number") {
      throw new HttpError(400, "expected {route: bulk|results|lookup|any, status: number, count?, retryAfter?, body?}");
    }
    return {
      route: value.route,
      status: value.status,
      count: typeof value.count === "number" ? value.count : 1,
      retryAfter: typeof value.retryAfter === "number" ? value.retryAfter : undefined,
      body: value.body,
    };
  };

  const handleControl = (method: string, path: string, body: unknown, res: ServerResponse): void => {
    const route = `${method} ${path}`;
    switch (route) {
      case "GET /__sim/users":
        return sendJson(res, 200, [...users.values()]);
      case "POST /__sim/users": {
        const list = Array.isArray(body) ? body : [body];
        const added: SeedUser[] = [];
        for (const u of list) {
          if (!isRecord(u) || typeof u.email !== "string" || typeof u.username !== "string") {
            throw new HttpError(400, "a user needs at least email and username");
          }
          const user = { ...u, _id: typeof u._id === "string" ? u._id : hexId() } as SeedUser;
          api.addUser(user);
          added.push(user);
        }
        return sendJson(res, 200, added);
      }
      case "POST /__sim/inject":
        api.inject(parseFault(body));
        return sendJson(res, 200, { ok: true });
      case "POST /__sim/latency": {
        if (!isRecord(body) || typeof body.ms !== "number") throw new HttpError(400, "expected {ms, route?}");
        if (body.route !== undefined && !isJcRoute(body.route))
          throw new HttpError(400, "route must be bulk|results|lookup|any");
        api.setLatency(body.ms, body.route);
        return sendJson(res, 200, { ok: true });
      }
      case "POST /__sim/fail-user": {
        if (!isRecord(body) || typeof body.id !== "string") throw new HttpError(400, "expected {id, message?}");
        api.failUser(body.id, typeof body.message === "string" ? body.message : undefined);
        return sendJson(res, 200, { ok: true });
      }
      case "POST /__sim/unfail-user": {
        // Undoes fail-user for one user, keeping everything else (reset would restore all users).
        if (!isRecord(body) || typeof body.id !== "string") throw new HttpError(400, "expected {id}");
        return sendJson(res, 200, { ok: failUserIds.delete(body.id) });
      }
      case "POST /__sim/reset":
        api.reset();
        return sendJson(res, 200, { ok: true });
      case "GET /__sim/calls":
        return sendJson(res, 200, calls);
      case "GET /__sim/jobs":
        return sendJson(res, 200, [...jobs.values()]);
      default:
        throw new HttpError(404, "Not Found");
    }
  };

  // --- request pipeline ----------------------------------------------------------------------

  const takeFault = (route: JcCallRoute): PendingFault | undefined => {
    const fault = faults.find((f) => f.remaining > 0 && routeMatches(f.route, route));
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) faults.splice(faults.indexOf(fault), 1);
    return fault;
  };

  const latencyFor = (route: JcCallRoute): number =>
    (route !== "other" ? latency.get(route) : undefined) ?? latency.get("any") ?? 0;

  /** Sliding one-second window over accepted requests. */
  const rateLimited = (now: number): boolean => {
    if (rateLimit === undefined) return false;
    while (acceptedAt.length > 0 && (acceptedAt[0] ?? 0) <= now - 1000) acceptedAt.shift();
    if (acceptedAt.length >= rateLimit) return true;
    acceptedAt.push(now);
    return false;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const at = Date.now();
    const url = new URL(req.url ?? "/", "http://fake.invalid");
    const method = (req.method ?? "GET").toUpperCase();
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, "") : url.pathname;
    const text = await readBody(req);
    let body: unknown;
    if (text.length > 0) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }

    if (path.startsWith("/__sim/")) {
      try {
        handleControl(method, path, body, res);
      } catch (err) {
        const status = err instanceof HttpError ? err.status : 500;
        sendJson(res, status, { message: (err as Error).message });
      }
      return;
    }

    const route = routeOf(method, path);
    const call: JcCall = {
      method,
      path,
      query: queryObject(url.searchParams),
      body,
      headers: req.headers,
      route,
      status: 0,
      at,
    };
    calls.push(call);
    notify();
    const answer = (status: number, payload: unknown, headers: Record<string, string> = {}): void => {
      call.status = status;
      sendJson(res, status, payload, headers);
      notify();
    };

    try {
      const delay = latencyFor(route);
      if (delay > 0) await sleep(delay);

      const fault = takeFault(route);
      if (fault) {
        if (fault.status === 0) {
          req.socket.destroy(); // a network error: no answer at all
          notify();
          return;
        }
        const headers: Record<string, string> = {};
        if (fault.retryAfter !== undefined) headers["retry-after"] = String(fault.retryAfter);
        const defaultBody = { message: STATUS_CODES[fault.status] ?? "Error" };
        return answer(fault.status, fault.body ?? defaultBody, headers);
      }

      if (rateLimited(at)) return answer(429, { message: "Too Many Requests" }, { "retry-after": "1" });

      if (req.headers["x-api-key"] !== options.apiKey) return answer(401, { message: "Unauthorized" });
      if (options.orgId !== undefined) {
        const org = req.headers["x-org-id"];
        if (org === undefined || org === "") return answer(401, { message: "no organization selected" });
        if (org !== options.orgId) return answer(401, { message: "Unauthorized: invalid organization" });
      }
      if (method === "PATCH" || method === "POST") {
        // JumpCloud's API takes JSON bodies only (Content-Type: application/json).
        const type = req.headers["content-type"] ?? "";
        if (!type.toLowerCase().includes("application/json")) {
          const message = `Content-Type must be application/json, got ${JSON.stringify(type)}`;
          if (route === "bulk") schemaViolations.push(message);
          return answer(400, { message });
        }
        if (typeof body === "string") {
          if (route === "bulk") schemaViolations.push("body is not valid JSON");
          return answer(400, { message: "body is not valid JSON" });
        }
      }

      const reply = handleApi(call);
      return answer(reply.status, reply.body, reply.headers);
    } catch (err) {
      if (err instanceof HttpError) return answer(err.status, { message: err.message });
      return answer(500, { message: `fake JumpCloud error: ${(err as Error).message}` });
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { message: String(err) });
    });
  });
  const sockets = new Set<Socket>();
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;

  const api: FakeJumpCloud = {
    url: `http://${urlHost}:${port}`,
    port,
    apiKey: options.apiKey,
    users,
    calls,
    bulkCalls,
    schemaViolations,
    jobs,
    failUserIds,
    inject(fault) {
      const count = fault.count ?? 1;
      if (count > 0) faults.push({ ...fault, remaining: count });
    },
    setLatency(ms, route) {
      // Without a route this is the latency of every request: per-route settings are dropped,
      // so setLatency(0) switches all latency off.
      if (route === undefined) latency.clear();
      if (ms > 0) latency.set(route ?? "any", ms);
      else latency.delete(route ?? "any");
    },
    failUser(id, message = "failed to update user") {
      failUserIds.set(id, message);
    },
    refuseUser(id, message = "invalid user update") {
      refuseUserIds.set(id, message);
    },
    setJobDelay(ms) {
      jobDelayMs = ms;
    },
    setBulkStatus(status) {
      bulkStatus = status;
    },
    setRateLimit(perSecond) {
      rateLimit = perSecond;
      acceptedAt.length = 0;
    },
    addUser(user) {
      users.set(user._id, clone(user));
    },
    reset() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      calls.length = 0;
      bulkCalls.length = 0;
      schemaViolations.length = 0;
      jobs.clear();
      failUserIds.clear();
      refuseUserIds.clear();
      faults.length = 0;
      latency.clear();
      if (options.latencyMs) latency.set("any", options.latencyMs);
      acceptedAt.length = 0;
      restoreUsers();
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
      });
    },
    waitForCalls(predicate, timeoutMs = 5000) {
      return new Promise<JcCall[]>((resolve, reject) => {
        const check = (): boolean => {
          if (!predicate(calls)) return false;
          cleanup();
          resolve([...calls]);
          return true;
        };
        const timer = setTimeout(() => {
          cleanup();
          const seen = calls.map((c) => `${c.method} ${c.path} -> ${c.status}`).join(", ") || "none";
          reject(new Error(`fake JumpCloud: condition not met within ${timeoutMs} ms; calls seen: ${seen}`));
        }, timeoutMs);
        const watcher = (): void => {
          check();
        };
        const cleanup = (): void => {
          clearTimeout(timer);
          watchers.delete(watcher);
        };
        watchers.add(watcher);
        check();
      });
    },
    async waitForCall(predicate, timeoutMs = 5000) {
      const all = await api.waitForCalls((list) => list.some(predicate), timeoutMs);
      const found = all.find(predicate);
      if (!found) throw new Error("fake JumpCloud: matching call vanished");
      return found;
    },
  };
  return api;
}
