import type { Config } from "../config.js";
import { errorMessage } from "../errors.js";
import type { Logger } from "../logger.js";
import { isAttributeField, isPhoneField } from "../requests/fields.js";
import { describeConflicts, findConflicts } from "../requests/find-conflicts.js";
import type { Change, JcUser, RequestRecord } from "../requests/types.js";
import { type BulkUserUpdate, buildUserUpdate } from "../requests/update-body.js";
import type { ClaimedBatch, ItemOutcome, Store, SubmittedBatch } from "../store/store.js";
import type { JumpCloudClient } from "./jumpcloud-client.js";
import { JumpCloudError } from "./jumpcloud-error.js";
import { isPending, matchResults } from "./match-results.js";

export interface Clock {
  now(): Date;
}

export interface DispatcherDeps {
  store: Store;
  jumpcloud: JumpCloudClient;
  config: Config["dispatch"];
  logger: Logger;
  clock: Clock;
  /** Called after any change that leaves Slack notifications to send. */
  onNotify: () => void;
}

/**
 * After the attempts of a call run out, its items wait 30 s, 1 min, 2 min … up to 15 min with
 * the default RETRY_BASE_DELAY_MS of 5 s (6× and 180× the base: short bases give short waits).
 */
const requeueDelayMs = (baseDelayMs: number, attempts: number) =>
  Math.min(Math.max(baseDelayMs, 1) * 180, Math.max(baseDelayMs, 1) * 6 * 2 ** (attempts - 1));
const SETTLED_POLLS_BEFORE_UNKNOWN = 5;
/** Enough to keep every concurrent call busy while the next bodies are built. */
const MAX_UNSENT_BATCHES = 4;
/** A job JumpCloud keeps refusing to show (404…) will not appear by waiting longer. */
const REFUSED_POLLS_BEFORE_UNKNOWN = 5;

/**
 * Groups approved items into bulk calls (SPEC §4.5–4.7): flushes at batchMaxSize items or
 * batchWindowMs after the oldest waiting one, sends through the client's queue, then polls the
 * job's results until nothing is pending. All progress is stored before the next side effect.
 */
export class Dispatcher {
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private running = false;
  private again = false;
  private stopped = false;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly polling = new Set<number>();
  /** JumpCloud refused the key: no batch goes out before this time (one probe batch then). */
  private pausedUntil = 0;
  private authAlerted = false;
  /** Batches claimed whose PATCH has not been answered yet. */
  private unsent = 0;

  constructor(private readonly deps: DispatcherDeps) {}

  async start(): Promise<void> {
    const now = this.deps.clock.now().toISOString();
    const recovered = await this.deps.store.recoverSending(now);
    if (recovered > 0) this.deps.logger.warn({ items: recovered }, "re-queued items whose job id was never stored");
    const submitted = await this.deps.store.listSubmittedBatches();
    if (submitted.length > 0) {
      this.deps.logger.info(
        { jobs: submitted.map((b) => b.jobId) },
        "reading the results of jobs sent before these workers started",
      );
    }
    for (const batch of submitted) this.track(this.poll(batch));
    this.wake();
  }

  /** Something may be ready: look now (cheap; coalesces concurrent wakes). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.track(
      this.tick()
        .catch((error) => this.deps.logger.error({ err: error }, "dispatch tick failed"))
        .finally(() => {
          this.running = false;
          if (this.again) {
            this.again = false;
            this.wake();
          }
        }),
    );
  }

  /** Stops taking new batches and waits (bounded) for calls on the wire to settle. */
  async stop(graceMs = 8000): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((r) => setTimeout(r, graceMs).unref())]);
  }

  private track<T>(promise: Promise<T>): void {
    this.inFlight.add(promise);
    void promise.finally(() => this.inFlight.delete(promise)).catch(() => undefined);
  }

  private async tick(): Promise<void> {
    const { store, config, clock } = this.deps;
    for (;;) {
      if (this.stopped) return;
      const now = clock.now();
      if (now.getTime() < this.pausedUntil) {
        this.schedule(this.pausedUntil);
        return;
      }
      const oldest = await store.oldestReadyAt();
      if (oldest === undefined) return;
      const flushAt = Date.parse(oldest) + config.batchWindowMs;
      const ready = await store.countReady(now.toISOString());
      if (ready === 0 || (ready < config.batchMaxSize && now.getTime() < flushAt)) {
        this.schedule(Math.max(flushAt, Date.parse(oldest)));
        return;
      }
      // Claim only what the client can send soon: a deep backlog stays queued in the store
      // (where it survives a crash) instead of piling up in memory, and the event loop breathes.
      if (this.unsent >= MAX_UNSENT_BATCHES) return;
      const batch = await store.claimBatch(config.batchMaxSize, now.toISOString());
      if (!batch) {
        // Everything ready waits behind a call in flight (its completion wakes us) or behind an
        // earlier change of the same user that is not ready yet: look again when that one is.
        const next = await store.nextReadyAfter(now.toISOString());
        if (next) this.schedule(Date.parse(next));
        return;
      }
      this.unsent++;
      this.track(
        this.send(batch, () => {
          this.unsent--;
          this.wake();
        }),
      );
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private schedule(at: number): void {
    if (this.stopped) return;
    if (this.timer && at >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    const delay = Math.max(0, at - this.deps.clock.now().getTime());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      this.wake();
    }, delay);
  }

  private async send(batch: ClaimedBatch, onSent: () => void): Promise<void> {
    let sent = false;
    const done = () => {
      if (!sent) {
        sent = true;
        onSent();
      }
    };
    try {
      await this.sendBatch(batch, done);
    } finally {
      done();
    }
  }

  private async sendBatch(batch: ClaimedBatch, sent: () => void): Promise<void> {
    const { store, jumpcloud, logger, clock } = this.deps;
    let built: Awaited<ReturnType<Dispatcher["buildBodies"]>>;
    try {
      built = await this.buildBodies(batch);
    } catch (error) {
      await this.onSendError(batch, error);
      return;
    }
    if (built.dropped.length > 0) {
      // Users gone from JumpCloud fail alone; everyone else in the batch goes ahead.
      const closeBatch = built.items.length === 0;
      await store.completeBatch(batch.batchId, built.dropped, clock.now().toISOString(), { closeBatch });
      this.deps.onNotify();
      if (closeBatch) return;
    }
    const sending: ClaimedBatch = { ...batch, items: built.items };
    let jobId: string;
    try {
      jobId = await jumpcloud.updateUsers(built.bodies);
    } catch (error) {
      await this.onSendError(sending, error);
      return;
    }
    const submittedAt = clock.now().toISOString();
    this.authAlerted = false;
    await store.markBatchSubmitted(batch.batchId, jobId, submittedAt);
    logger.info({ batchId: batch.batchId, jobId, users: built.bodies.length }, "bulk update submitted");
    this.deps.onNotify();
    sent();
    await this.poll({
      batchId: batch.batchId,
      jobId,
      submittedAt,
      items: built.items.map((i) => ({ ...i, state: "submitted", jobId })),
    });
  }

  /**
   * Reads the batch's users in one search (when a conflict check or a whole-list merge needs
   * them), leaves out users that are gone or whose fields changed since the request, and builds
   * the body of everyone else. Phone numbers and attributes are merged into the current lists.
   */
  private async buildBodies(
    batch: ClaimedBatch,
  ): Promise<{ bodies: BulkUserUpdate[]; items: ClaimedBatch["items"]; dropped: ItemOutcome[] }> {
    const requests = new Map<number, RequestRecord>(batch.requests.map((r) => [r.id, r]));
    const changesOf = (item: ClaimedBatch["items"][number]): Change[] => item.changes;
    const needsCurrent = (changes: Change[]) =>
      this.deps.config.conflictCheck || changes.some((c) => isPhoneField(c.field) || isAttributeField(c.field));
    const lookup = batch.items.filter((i) => needsCurrent(changesOf(i))).map((i) => i.userId);
    const current = lookup.length > 0 ? await this.deps.jumpcloud.getUsers(lookup) : new Map<string, JcUser | null>();

    const bodies: BulkUserUpdate[] = [];
    const items: ClaimedBatch["items"] = [];
    const dropped: ItemOutcome[] = [];
    for (const item of batch.items) {
      const changes = changesOf(item);
      const user = current.get(item.userId);
      if (user === null) {
        dropped.push({ itemId: item.id, state: "failed", message: "This user no longer exists in JumpCloud." });
        continue;
      }
      if (user && this.deps.config.conflictCheck) {
        let conflicts = findConflicts(changes, user);
        if (conflicts.length > 0) {
          // A value this bot wrote itself for an earlier approved request is not someone
          // else's change: later requests build on it (approval order).
          const request = requests.get(item.requestId);
          const ours = request ? await this.deps.store.listAppliedChanges(item.userId, request.createdAt) : [];
          conflicts = conflicts.filter(
            (c) => !ours.some((o) => o.field === c.change.field && o.newValue === c.current),
          );
        }
        if (conflicts.length > 0) {
          dropped.push({ itemId: item.id, state: "failed", message: describeConflicts(conflicts) });
          continue;
        }
      }
      bodies.push(buildUserUpdate(item.userId, changes, user ?? undefined));
      items.push(item);
    }
    return { bodies, items, dropped };
  }

  private async onSendError(batch: ClaimedBatch, error: unknown): Promise<void> {
    const { store, logger, clock } = this.deps;
    const now = clock.now();
    const jcError = error instanceof JumpCloudError ? error : undefined;
    // 401/403 (key refused) and 5xx (JumpCloud may or may not have applied it) keep the items;
    // other 4xx are final: JumpCloud said what is wrong with the change.
    const status = jcError?.status ?? null;
    const permanent =
      jcError !== undefined &&
      !jcError.retryable &&
      status !== null &&
      status !== 401 &&
      status !== 403 &&
      status < 500;
    if (status !== null && status >= 200 && status < 300) {
      // Accepted, but without a job id we cannot read what happened: say so, do not resend.
      await store.completeBatch(
        batch.batchId,
        batch.items.map((i) => ({
          itemId: i.id,
          state: "unknown",
          message: `JumpCloud accepted the update but ${jcError?.message ?? "gave no job id"}; check the user in the JumpCloud console.`,
        })),
        now.toISOString(),
      );
    } else if (permanent && batch.items.length > 1) {
      // JumpCloud refuses a bulk call whole for one bad value: send each user alone to find it,
      // so only that user's change fails (with JumpCloud's message) and the others apply.
      logger.warn(
        { batchId: batch.batchId, status, users: batch.items.length, err: jcError.message },
        "bulk update refused; sending its users one at a time",
      );
      await store.releaseBatch(batch.batchId, {
        readyAt: now.toISOString(),
        message: `JumpCloud refused a batch of ${batch.items.length} users (${shortReason(jcError)})`,
        at: now.toISOString(),
        solo: true,
      });
    } else if (permanent) {
      logger.warn({ batchId: batch.batchId, status, err: jcError.message }, "bulk update refused");
      await store.completeBatch(
        batch.batchId,
        batch.items.map((i) => ({ itemId: i.id, state: "failed", message: jcError.message })),
        now.toISOString(),
      );
    } else {
      // Attempts ran out, or the key was refused: keep the items and try again later.
      const attempts = Math.max(1, ...batch.items.map((i) => i.attempts));
      const delay = requeueDelayMs(this.deps.config.retryBaseDelayMs, attempts);
      const readyAt = new Date(now.getTime() + delay).toISOString();
      const reason = jcError ? shortReason(jcError) : errorMessage(error);
      const authRefused = status === 401 || status === 403;
      // A key problem waits for a person; anything else has its DISPATCH_GIVE_UP_HOURS, counted
      // per item: a change approved a minute ago is not given up with an old one in its batch.
      const limit = this.deps.config.giveUpHours * 3_600_000;
      const expired = authRefused ? [] : batch.items.filter((i) => now.getTime() - Date.parse(i.queuedAt) > limit);
      if (expired.length > 0) {
        const message = `Not applied: JumpCloud could not take the change for ${this.deps.config.giveUpHours} h (${reason}). Nothing was changed; make a new request.`;
        logger.error({ batchId: batch.batchId, items: expired.length, err: reason }, "bulk update given up");
        await store.completeBatch(
          batch.batchId,
          expired.map((i) => ({ itemId: i.id, state: "failed", message })),
          now.toISOString(),
          { closeBatch: expired.length === batch.items.length },
        );
      }
      if (expired.length < batch.items.length) {
        logger.warn({ batchId: batch.batchId, err: reason, readyAt }, "bulk update postponed");
        await store.releaseBatch(batch.batchId, { readyAt, message: reason, at: now.toISOString() });
      }
      if (authRefused) {
        // Every other batch would be refused too: hold dispatch until the retry probes the key.
        this.pausedUntil = Date.parse(readyAt);
        if (!this.authAlerted && batch.items[0]) {
          this.authAlerted = true;
          logger.error({ err: reason }, "JumpCloud refuses the API key; dispatch paused, approval channel alerted");
          await store.raiseAlert(batch.items[0].requestId, jcError?.message ?? reason, now.toISOString());
        }
      }
    }
    this.deps.onNotify();
    this.wake();
  }

  private async poll(batch: SubmittedBatch): Promise<void> {
    if (this.polling.has(batch.batchId)) return;
    this.polling.add(batch.batchId);
    const { store, jumpcloud, config, logger, clock } = this.deps;
    // JumpCloud may list fewer records than users (shape undocumented): after a few settled
    // polls with nothing pending, report the missing ones as unknown rather than wait forever.
    let settledPolls = 0;
    let refusals = 0;
    const giveUpAt = Date.parse(batch.submittedAt) + config.giveUpHours * 3_600_000;
    const settle = async (message: string) => {
      logger.error({ jobId: batch.jobId, err: message }, "job results could not be read");
      await store.completeBatch(
        batch.batchId,
        batch.items.map((i) => ({ itemId: i.id, state: "unknown", message })),
        clock.now().toISOString(),
      );
      this.deps.onNotify();
      this.wake();
    };
    try {
      while (!this.stopped) {
        await sleep(config.resultsPollIntervalMs);
        if (this.stopped) return;
        const overdue = clock.now().getTime() > giveUpAt;
        let results: Awaited<ReturnType<JumpCloudClient["getJobResults"]>>;
        try {
          results = await jumpcloud.getJobResults(batch.jobId, batch.items.length);
          refusals = 0;
        } catch (error) {
          const refused =
            error instanceof JumpCloudError && !error.retryable && error.status !== 401 && error.status !== 403;
          refusals = refused ? refusals + 1 : 0;
          logger.warn({ jobId: batch.jobId, err: errorMessage(error) }, "could not read job results; will retry");
          if (refusals >= REFUSED_POLLS_BEFORE_UNKNOWN || overdue) {
            await settle(
              `JumpCloud accepted job ${batch.jobId} but its results could not be read (${errorMessage(error)}); check the user in the JumpCloud console.`,
            );
            return;
          }
          continue;
        }
        if ((results.some(isPending) || results.length === 0) && overdue) {
          await settle(
            `JumpCloud job ${batch.jobId} was still pending after ${config.giveUpHours} h; check the user in the JumpCloud console.`,
          );
          return;
        }
        if (results.some(isPending) || results.length === 0) continue;
        if (results.length < batch.items.length && ++settledPolls < SETTLED_POLLS_BEFORE_UNKNOWN) continue;
        const outcomes = matchResults(batch.items, results);
        await store.completeBatch(batch.batchId, outcomes, clock.now().toISOString());
        logger.info(
          {
            jobId: batch.jobId,
            applied: outcomes.filter((o) => o.state === "applied").length,
            failed: outcomes.filter((o) => o.state !== "applied").length,
          },
          "bulk job finished",
        );
        this.deps.onNotify();
        this.wake();
        return;
      }
    } finally {
      this.polling.delete(batch.batchId);
    }
  }
}

function shortReason(error: JumpCloudError): string {
  if (error.status === null) return "JumpCloud unreachable";
  if (error.status === 401 || error.status === 403) {
    const said = error.message.split(`${error.status}: `)[1];
    return `JumpCloud refused the API key (${error.status}${said ? `: ${said}` : ""})`;
  }
  return `JumpCloud answered ${error.status}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
