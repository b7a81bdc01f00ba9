import type { WebClient } from "@slack/web-api";
import { ErrorCode } from "@slack/web-api";
import type { Config } from "../config.js";
import { formatDiffCsv } from "../csv/format-diff-csv.js";
import { formatFailedRowsCsv } from "../csv/format-failed-rows-csv.js";
import { errorMessage } from "../errors.js";
import type { Logger } from "../logger.js";
import type { RequestRecord } from "../requests/types.js";
import type { OutboxRecord, Store } from "../store/store.js";
import {
  allOf,
  buildApprovalMessage,
  buildAuthAlertMessage,
  buildReminderMessage,
  buildRequestDm,
  formatBulkRows,
  formatBulkSummary,
  formatItemOutcomes,
  plural,
} from "./blocks/index.js";

const MAX_DELAY_MS = 10 * 60_000;
/** Rows of a bulk request shown on its approval message; the rest is in the diff file. */
const FIRST_ROWS = 10;
/** A thread reply standing in for a refused file: long, well under Slack's 40,000 characters. */
const TEXT_FALLBACK_MAX = 12_000;

/**
 * Sends what the outbox holds: approval posts and updates, DMs. Each message is rendered from
 * the stored state at send time, so a late or repeated send still tells the current truth.
 * Slack 429 waits Retry-After; 5xx and network errors back off; both keep the row.
 */
export class Notifier {
  private running = false;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private current: Promise<void> = Promise.resolve();
  /** Outbox rows merged into an update already sent (may still be in a fetched page). */
  private readonly merged = new Set<number>();

  constructor(
    private readonly deps: {
      store: Store;
      client: WebClient;
      config: Config;
      logger: Logger;
      clock: { now(): Date };
    },
  ) {}

  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.current = this.drain()
      .catch((error) => this.deps.logger.error({ err: error }, "outbox pass failed"))
      .finally(() => {
        this.running = false;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  async stop(graceMs = 5000): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.race([this.current, new Promise((r) => setTimeout(r, graceMs).unref())]);
  }

  private async drain(): Promise<void> {
    const { store, clock } = this.deps;
    for (;;) {
      const rows = await store.nextOutbox(clock.now().toISOString(), 50);
      if (rows.length === 0) break;
      this.merged.clear(); // rows merged before this page are no longer pending: not fetched
      // A request whose earlier row must wait holds its later rows too: order per request.
      const held = new Set<number>();
      let progressed = false;
      for (const row of rows) {
        if (this.stopped) return;
        if (held.has(row.requestId) || this.merged.has(row.id)) continue;
        const done = await this.deliver(row);
        if (done) progressed = true;
        else held.add(row.requestId);
      }
      if (!progressed) break;
    }
    await this.scheduleNext();
  }

  private async scheduleNext(): Promise<void> {
    // The earliest postponed row decides when to look again.
    const soon = await this.deps.store.nextOutbox(
      new Date(this.deps.clock.now().getTime() + MAX_DELAY_MS).toISOString(),
      1,
    );
    const first = soon[0];
    if (!first || this.stopped) return;
    const delay = Math.max(50, Date.parse(first.readyAt) - this.deps.clock.now().getTime());
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.kick(), delay);
    this.timer.unref();
  }

  /** A bulk request's first rows, for its approval message. */
  private async bulkView(request: RequestRecord) {
    const firstRows = request.bulk ? await this.deps.store.listRequestRows(request.id, FIRST_ROWS) : [];
    return { firstRows, batchMaxSize: this.deps.config.dispatch.batchMaxSize };
  }

  /** The approval message's thread; its post comes first in the outbox, so it is known by now. */
  private thread(request: RequestRecord): { channel: string; thread_ts: string } {
    if (!request.approvalChannel || !request.approvalTs) {
      // Retried like a Slack outage until the approval post exists.
      throw Object.assign(new Error("the approval message is not posted yet"), { code: "slack_webapi_request_error" });
    }
    return { channel: request.approvalChannel, thread_ts: request.approvalTs };
  }

  /**
   * Uploads a CSV into the approval thread. When Slack refuses the file for good (e.g. the app
   * lacks files:write), the thread gets the same content as text instead, as much as fits, and
   * the log says what to fix: a file that cannot be attached must not leave the thread silent.
   */
  private async attach(
    request: RequestRecord,
    attempts: number,
    file: { filename: string; title: string; content: string; comment: string; instead: (max: number) => string },
  ): Promise<void> {
    const thread = this.thread(request);
    try {
      await this.deps.client.filesUploadV2({
        channel_id: thread.channel,
        thread_ts: thread.thread_ts,
        filename: file.filename,
        title: file.title,
        file: Buffer.from(file.content, "utf8"),
        initial_comment: file.comment,
      });
    } catch (error) {
      // Slack's transient errors are retried; anything else (refused for good, or not even a
      // Slack answer) falls back to text rather than being retried forever.
      const fromSlack = typeof (error as { code?: unknown }).code === "string";
      if (fromSlack && retryDelay(error, attempts) !== undefined) throw error;
      this.deps.logger.error(
        { requestId: request.id, file: file.filename, err: errorMessage(error) },
        "Slack refused the file (does the app have the files:write scope?); posting it as text",
      );
      const note = `\n_(Slack refused the CSV file: ${errorMessage(error).slice(0, 200)}. Shown as text instead.)_`;
      await this.deps.client.chat.postMessage({
        ...thread,
        text: file.instead(TEXT_FALLBACK_MAX - note.length) + note,
      });
    }
  }

  /** True when the row is finished (sent, or given up); false when it waits for a retry. */
  private async deliver(row: OutboxRecord): Promise<boolean> {
    const { store, client, config, logger, clock } = this.deps;
    if (row.kind === "update_approval") {
      // Rendered from the state read below: updates already waiting add nothing (a bulk
      // request's progress would otherwise cost one chat.update per call). Marked before the
      // read, so an update stored after it is still sent.
      for (const id of await store.skipOutbox(row.requestId, "update_approval", row.id)) this.merged.add(id);
    }
    const request = await store.getRequest(row.requestId);
    if (!request) {
      await store.failOutbox(row.id, "request not found");
      return true;
    }
    try {
      const items = await store.listItems(request.id);
      switch (row.kind) {
        case "post_approval": {
          if (request.approvalTs) break;
          const message = buildApprovalMessage(request, items, await this.bulkView(request));
          const result = await client.chat.postMessage({ channel: config.slack.approvalChannelId, ...message });
          if (result.channel && result.ts) await store.setApprovalMessage(request.id, result.channel, result.ts);
          break;
        }
        case "update_approval": {
          // Not posted yet: the pending post renders the current state anyway.
          if (!request.approvalChannel || !request.approvalTs) break;
          const message = buildApprovalMessage(request, items, await this.bulkView(request));
          await client.chat.update({ channel: request.approvalChannel, ts: request.approvalTs, ...message });
          break;
        }
        case "reminder": {
          if (request.state !== "pending") break;
          // Waits (retried) until the approval message exists: it goes in its thread.
          await client.chat.postMessage({ ...this.thread(request), ...buildReminderMessage(request) });
          break;
        }
        case "alert_auth": {
          const audit = (await store.listAudit(request.id)).filter((a) => a.event === "dispatch_alert").at(-1);
          await client.chat.postMessage({
            channel: config.slack.approvalChannelId,
            ...buildAuthAlertMessage(audit?.detail ?? ""),
          });
          break;
        }
        case "post_diff": {
          if (!request.bulk) break;
          const rows = await store.listRequestRows(request.id);
          await this.attach(request, row.attempts, {
            filename: `jc-update-${request.id}-diff.csv`,
            title: `Request #${request.id}: before → after (${plural(rows.length, "user")})`,
            content: formatDiffCsv(request.bulk.identity, rows),
            comment: `Full diff of request #${request.id}: ${formatBulkSummary(request.bulk)}`,
            instead: (max) => `Full diff of request #${request.id}:\n${formatBulkRows(rows, max)}`,
          });
          break;
        }
        case "bulk_outcome": {
          if (!request.bulk) break;
          const failed = items.filter((i) => i.state === "failed" || i.state === "unknown").length;
          const applied = items.filter((i) => i.state === "applied").length;
          const counts =
            failed === 0
              ? `Request #${request.id} finished: ${allOf(applied, "user")} applied.`
              : `Request #${request.id} finished: ${plural(applied, "user")} applied, ${plural(failed, "user")} not applied.`;
          // The same sign as the approval message: :x: when nothing applied.
          const icon = applied === 0 ? ":x:" : ":warning:";
          if (failed === 0) {
            await client.chat.postMessage({ ...this.thread(request), text: `:white_check_mark: ${counts}` });
          } else {
            await this.attach(request, row.attempts, {
              filename: `jc-update-${request.id}-failed.csv`,
              title: `Request #${request.id}: rows not applied (${failed})`,
              content: formatFailedRowsCsv(request.bulk, items),
              comment: `${icon} ${counts} The rows not applied, with the reason, are attached: fix them and submit this file again with \`/jc-update bulk\`.`,
              instead: (max) => `${icon} ${counts} Not applied:\n${formatItemOutcomes(request, items, max)}`,
            });
          }
          break;
        }
        case "dm_receipt":
        case "dm_decision":
        case "dm_outcome": {
          const kind = row.kind === "dm_receipt" ? "receipt" : row.kind === "dm_decision" ? "decision" : "outcome";
          // Posting to a user id delivers to the app's DM with that user.
          await client.chat.postMessage({ channel: request.requesterId, ...buildRequestDm(kind, request, items) });
          break;
        }
      }
      await store.completeOutbox(row.id);
      return true;
    } catch (error) {
      // Transient errors (429, 5xx, network) wait and retry for as long as it takes: an outage
      // loses nothing. Permanent ones fail the row, except the approval post: without it
      // nobody can decide, and its usual cause (bot not in the channel) is fixed by an admin.
      let retry = retryDelay(error, row.attempts);
      if (retry === undefined && row.kind === "post_approval") {
        logger.error(
          {
            outboxId: row.id,
            requestId: row.requestId,
            err: errorMessage(error),
            channel: config.slack.approvalChannelId,
          },
          "cannot post the approval message; invite the bot to APPROVAL_CHANNEL_ID (/invite) — retrying",
        );
        retry = Math.min(MAX_DELAY_MS, 1000 * 2 ** row.attempts);
      }
      if (retry === undefined) {
        logger.error(
          { outboxId: row.id, kind: row.kind, requestId: row.requestId, err: errorMessage(error) },
          "Slack notification failed",
        );
        await store.failOutbox(row.id, errorMessage(error));
        return true;
      }
      const readyAt = new Date(clock.now().getTime() + retry).toISOString();
      logger.warn(
        { outboxId: row.id, kind: row.kind, err: errorMessage(error), readyAt },
        "Slack notification postponed",
      );
      await store.retryOutbox(row.id, readyAt, errorMessage(error));
      return false;
    }
  }
}

/** Milliseconds to wait before retrying, or undefined when the error will not go away by waiting. */
function retryDelay(error: unknown, attempts: number): number | undefined {
  const e = error as { code?: string; retryAfter?: number; statusCode?: number; data?: { error?: string } };
  if (e.code === ErrorCode.RateLimitedError) return Math.max(1, e.retryAfter ?? 1) * 1000;
  const backoff = Math.min(MAX_DELAY_MS, 1000 * 2 ** attempts);
  if (e.code === ErrorCode.RequestError) return backoff; // network
  if (e.code === ErrorCode.HTTPError) return (e.statusCode ?? 500) >= 500 ? backoff : undefined;
  if (e.code === ErrorCode.PlatformError) {
    const transient = ["internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"];
    return transient.includes(e.data?.error ?? "") ? backoff : undefined;
  }
  return backoff;
}
