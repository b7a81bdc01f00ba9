import PQueue from "p-queue";
import type { Logger } from "../logger.js";
import type { JcUser } from "../requests/types.js";
import type { BulkUserUpdate } from "../requests/update-body.js";
import { JumpCloudError } from "./jumpcloud-error.js";
import { type RetryPolicy, retryDelayMs } from "./retry-policy.js";

export interface JobResult {
  id?: string;
  status?: string;
  statusMsg?: string;
  meta?: Record<string, unknown>;
  persistedFields?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface JumpCloudClientOptions {
  apiUrl: string;
  apiKey: string;
  orgId?: string | undefined;
  suppressEmail: boolean;
  requestsPerSecond: number;
  concurrency: number;
  retry: RetryPolicy;
  /** Per-attempt timeout. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  logger: Logger;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Interactive lookups (a person waits on a modal) jump ahead of everything; reading results
 * (which tells people the outcome) goes before new batch sends.
 */
const PRIORITY = { interactive: 10, results: 5, batch: 0 } as const;
const PAGE = 100;

/**
 * Typed JumpCloud calls. Every call goes through one p-queue that holds the rate limit and
 * concurrency; retryable failures are retried per policy, and a 429 pauses the whole queue for
 * Retry-After so no other call walks into the same limit.
 */
export class JumpCloudClient {
  private readonly queue: PQueue;
  private readonly fetchImpl: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private pausedUntil = 0;
  private resumeTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: JumpCloudClientOptions) {
    this.queue = new PQueue({
      concurrency: options.concurrency,
      intervalCap: options.requestsPerSecond,
      // 5 % headroom: we count a call when it leaves, JumpCloud when it arrives, and network
      // jitter bunches arrivals; without it a client at exactly the org's limit draws 429s.
      interval: 1050,
      strict: true,
    });
    this.fetchImpl = options.fetch ?? fetch;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** Users with this email, whatever its case (several: ambiguous, or taken). See lookupUsers. */
  async findUsersByEmail(email: string, retry?: RetryPolicy): Promise<JcUser[]> {
    return (await this.lookupUsers("email", [email], retry)).get(email.toLowerCase()) ?? [];
  }

  /** Users with this username, whatever its case. See lookupUsers. */
  async findUsersByUsername(username: string, retry?: RetryPolicy): Promise<JcUser[]> {
    return (await this.lookupUsers("username", [username], retry)).get(username.toLowerCase()) ?? [];
  }

  async getUser(id: string, retry?: RetryPolicy, priority: number = PRIORITY.interactive): Promise<JcUser | undefined> {
    try {
      return (await this.call<JcUser>("GET", `/api/systemusers/${encodeURIComponent(id)}`, {
        priority,
        retry,
      })) as JcUser;
    } catch (error) {
      if (error instanceof JumpCloudError && error.status === 404) return undefined;
      throw error;
    }
  }

  /**
   * Current records of many users in one call (`POST /api/search/systemusers`, an `or` of
   * exact `_id` matches, up to 100 per call). Users it does not return are read one by one, so
   * the answer is complete even if the search ignores the filter. Map value null: no such user.
   */
  async getUsers(ids: readonly string[]): Promise<Map<string, JcUser | null>> {
    const found = new Map<string, JcUser | null>();
    for (let at = 0; at < ids.length; at += PAGE) {
      const chunk = ids.slice(at, at + PAGE);
      const result = await this.call<{ results?: JcUser[] }>("POST", "/api/search/systemusers", {
        body: { filter: { or: chunk.map((id) => ({ _id: id })) }, limit: PAGE },
        priority: PRIORITY.batch,
      });
      const wanted = new Set(chunk);
      for (const user of Array.isArray(result?.results) ? result.results : []) {
        if (user && typeof user._id === "string" && wanted.has(user._id)) found.set(user._id, user);
      }
    }
    for (const id of ids)
      if (!found.has(id)) found.set(id, (await this.getUser(id, undefined, PRIORITY.batch)) ?? null);
    return found;
  }

  /**
   * Users whose `field` equals one of `values`, keyed by the lower-cased value (emails and
   * usernames compared case-insensitively, so a key may hold several users: ambiguous). Uses the
   * fewest calls the API allows, all through the rate-limited queue:
   *
   * - `POST /api/search/systemusers` with an `or` of exact matches per 100 values (documented,
   *   case-sensitive): each value lower-cased and, if written with capitals, as written too;
   * - for emails and usernames, the text search per 100 values too (`searchFilter`: partial
   *   matches, kept only when equal but for case). It finds `Carol.Smith@Example.com` for
   *   `carol.smith@example.com`, and a second user who differs from the first only in case, so
   *   such a value is ambiguous whatever case it is written in and whatever else is looked up;
   * - or, when that costs no more calls, one paged listing of every user (100 per page); also
   *   when the text search would read more pages than the whole directory has.
   */
  async lookupUsers(
    field: "_id" | "email" | "username",
    values: readonly string[],
    retry?: RetryPolicy,
  ): Promise<Map<string, JcUser[]>> {
    const norm = (v: string) => v.toLowerCase();
    const wanted = new Set(values.map(norm));
    const found = new Map<string, JcUser[]>([...wanted].map((v) => [v, []]));
    const keep = (user: JcUser) => {
      const value = user?.[field];
      if (typeof value !== "string") return;
      const list = found.get(norm(value));
      if (list && !list.some((u) => u._id === user._id)) list.push(user);
    };
    if (wanted.size === 0) return found;
    // Ids are hexadecimal: lower case is the only form JumpCloud writes. Other values written
    // with capitals are searched in both forms, in the same call as their lower-case form: a
    // call's cost is its page of results (about one user per value), not the terms it asks.
    const variants = new Map<string, Set<string>>([...wanted].map((v) => [v, new Set([v])]));
    if (field !== "_id") for (const v of values) variants.get(norm(v))?.add(v);
    const chunks = chunked([...wanted], PAGE).map((chunk) => chunk.flatMap((v) => [...(variants.get(v) ?? [v])]));
    // Emails and usernames take a second, case-insensitive pass over every value (see above).
    const searchCalls = field === "_id" ? chunks.length : 2 * chunks.length;
    let directory: number | undefined;
    const directorySize = async () => {
      // One call tells the directory's size (`totalCount`).
      if (directory === undefined) {
        const head = await this.call<{ totalCount?: number }>("GET", `/api/systemusers?limit=1`, {
          priority: PRIORITY.interactive,
          retry,
        });
        directory = typeof head?.totalCount === "number" ? head.totalCount : Number.POSITIVE_INFINITY;
      }
      return directory;
    };
    const listAll = async () => {
      const total = await directorySize();
      for (let skip = 0; skip < total; skip += PAGE) {
        const page = await this.call<{ results?: JcUser[] }>("GET", `/api/systemusers?limit=${PAGE}&skip=${skip}`, {
          priority: PRIORITY.interactive,
          retry,
        });
        const users = Array.isArray(page?.results) ? page.results : [];
        users.forEach(keep);
        if (users.length < PAGE) break;
      }
    };
    // Listing every user may cost fewer calls than searching.
    if (chunks.length > 1 && Math.ceil((await directorySize()) / PAGE) <= searchCalls) {
      await listAll();
      return found;
    }
    await this.searchUsers(chunks, (v) => ({ filter: { or: v.map((t) => ({ [field]: t })) } }), keep, retry);
    if (field !== "_id") {
      let pages = 0;
      const fitted = await this.searchUsers(
        chunked([...wanted], PAGE),
        (v) => ({ searchFilter: { searchTerm: v, fields: [field] } }),
        keep,
        retry,
        // Partial matches of short values can be many: never read more than the directory.
        async () => ++pages < 3 || pages <= Math.ceil((await directorySize()) / PAGE),
      );
      if (!fitted) await listAll();
    }
    return found;
  }

  /**
   * `POST /api/search/systemusers` per chunk of terms (`body` makes the query), all pages. `more`
   * is asked before each page; false stops the search and it answers false.
   */
  private async searchUsers(
    chunks: readonly string[][],
    body: (chunk: string[]) => Record<string, unknown>,
    keep: (user: JcUser) => void,
    retry?: RetryPolicy,
    more: () => Promise<boolean> = async () => true,
  ): Promise<boolean> {
    for (const chunk of chunks) {
      for (let skip = 0; ; skip += PAGE) {
        if (!(await more())) return false;
        const result = await this.call<{ results?: JcUser[]; totalCount?: number }>("POST", "/api/search/systemusers", {
          body: { ...body(chunk), limit: PAGE, skip },
          priority: PRIORITY.interactive,
          retry,
        });
        const users = Array.isArray(result?.results) ? result.results : [];
        users.forEach(keep);
        // More than a page only when values are ambiguous: read on until totalCount is reached.
        const total = typeof result?.totalCount === "number" ? result.totalCount : undefined;
        if (users.length < PAGE || (total !== undefined && skip + users.length >= total)) break;
      }
    }
    return true;
  }

  /** One bulk job for many users. Answers 200 or 201 with `{jobId}`. */
  async updateUsers(body: readonly BulkUserUpdate[]): Promise<string> {
    const query = `?suppressEmail=${this.options.suppressEmail ? "true" : "false"}`;
    const result = await this.call<{ jobId?: unknown }>("PATCH", `/api/v2/bulk/users${query}`, {
      body,
      priority: PRIORITY.batch,
    });
    if (typeof result?.jobId !== "string" || result.jobId === "") {
      throw new JumpCloudError("the bulk update answer had no job id", 200);
    }
    return result.jobId;
  }

  /**
   * All result records of a bulk job, every page. With `expected` (the job's user count) it
   * stops once that many are read, saving the empty page a full job would otherwise cost.
   */
  async getJobResults(jobId: string, expected?: number): Promise<JobResult[]> {
    const all: JobResult[] = [];
    for (let skip = 0; ; skip += PAGE) {
      const page = await this.call<unknown>(
        "GET",
        `/api/v2/bulk/users/${encodeURIComponent(jobId)}/results?limit=${PAGE}&skip=${skip}`,
        { priority: PRIORITY.results },
      );
      if (!Array.isArray(page)) throw new JumpCloudError("job results were not a list", 200);
      all.push(...(page as JobResult[]));
      if (page.length < PAGE || (expected !== undefined && all.length >= expected)) return all;
    }
  }

  private async call<T>(
    method: string,
    path: string,
    opts: { body?: unknown; priority: number; retry?: RetryPolicy | undefined },
  ): Promise<T> {
    const policy = opts.retry ?? this.options.retry;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.queue.add(() => this.once<T>(method, path, opts.body), {
          priority: opts.priority,
        });
      } catch (error) {
        const jcError =
          error instanceof JumpCloudError ? error : new JumpCloudError(String(error), null, null, { cause: error });
        const wait = jcError.retryAfterMs ?? retryDelayMs(policy, attempt);
        // The org's limit is spent for everyone, even when this call gives up now.
        if (jcError.status === 429) this.pauseFor(wait);
        if (!jcError.retryable || attempt >= policy.attempts) throw jcError;
        this.options.logger.warn(
          { method, path: path.split("?")[0], status: jcError.status, attempt, waitMs: wait },
          "JumpCloud call failed; retrying",
        );
        await this.sleep(wait);
      }
    }
  }

  /** A 429 means the org's limit is spent: hold every queued call, not just this one. */
  private pauseFor(ms: number): void {
    const until = Date.now() + ms;
    if (until <= this.pausedUntil) return;
    this.pausedUntil = until;
    this.queue.pause();
    // One timer, re-armed for the latest pause: it always resumes the queue. (Comparing clocks
    // in the callback can miss: timers run on a monotonic clock and may fire a ms "early".)
    if (this.resumeTimer) clearTimeout(this.resumeTimer);
    this.resumeTimer = setTimeout(() => {
      this.resumeTimer = undefined;
      this.pausedUntil = 0;
      this.queue.start();
    }, ms);
    this.resumeTimer.unref();
  }

  private async once<T>(method: string, path: string, body: unknown): Promise<T> {
    const headers: Record<string, string> = {
      "x-api-key": this.options.apiKey,
      accept: "application/json",
      "content-type": "application/json",
    };
    if (this.options.orgId) headers["x-org-id"] = this.options.orgId;
    // Searches may be served from an index that lags behind writes; JumpCloud's own samples ask
    // for a consistent read this way. Lists (phones, attributes) are merged from what is read.
    if (path.startsWith("/api/search/")) headers["x-eventually-consistent"] = "false";
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.options.apiUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
    } catch (error) {
      throw new JumpCloudError(`could not reach JumpCloud (${networkReason(error)})`, null, null, { cause: error });
    }
    const text = await response.text().catch(() => "");
    if (!response.ok) {
      const retryAfter = Number(response.headers.get("retry-after"));
      throw new JumpCloudError(
        `${method} ${path.split("?")[0]} answered ${response.status}${describeBody(text)}`,
        response.status,
        Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : null,
      );
    }
    if (text === "") return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw new JumpCloudError(`${method} ${path.split("?")[0]} answered with invalid JSON`, response.status, null, {
        cause: error,
      });
    }
  }
}

function networkReason(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    if (error.name === "TimeoutError") return "timed out";
    return cause?.code ?? error.message;
  }
  return String(error);
}

/** JumpCloud's own message, short; never echoes request headers. */
function describeBody(text: string): string {
  if (!text) return "";
  try {
    const parsed = JSON.parse(text) as { message?: unknown; error?: unknown };
    const message = parsed.message ?? parsed.error;
    if (typeof message === "string" && message) return `: ${message.slice(0, 300)}`;
  } catch {
    // not JSON
  }
  return `: ${text.slice(0, 200)}`;
}

function chunked<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let at = 0; at < list.length; at += size) out.push(list.slice(at, at + size));
  return out;
}
