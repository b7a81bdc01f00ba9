import type { WebClient } from "@slack/web-api";
import { ErrorCode } from "@slack/web-api";
import type { Config } from "../config.js";
import { errorMessage } from "../errors.js";
import type { Logger } from "../logger.js";
import type { OutboxRecord, Store } from "../store/store.js";
import { buildApprovalMessage, buildAuthAlertMessage, buildReminderMessage, buildRequestDm } from "./blocks/index.js";

const MAX_DELAY_MS = 10 * 60_000;

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
      // A request whose earlier row must wait holds its later rows too: order per request.
      const held = new Set<number>();
      let progressed = false;
      for (const row of rows) {
        if (this.stopped) return;
        if (held.has(row.requestId)) continue;
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

  /** True when the row is finished (sent, or given up); false when it waits for a retry. */
  private async deliver(row: OutboxRecord): Promise<boolean> {
    const { store, client, config, logger, clock } = this.deps;
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
          const message = buildApprovalMessage(request, items);
          const result = await client.chat.postMessage({ channel: config.slack.approvalChannelId, ...message });
          if (result.channel && result.ts) await store.setApprovalMessage(request.id, result.channel, result.ts);
          break;
        }
        case "update_approval": {
          // Not posted yet: the pending post renders the current state anyway.
          if (!request.approvalChannel || !request.approvalTs) break;
          const message = buildApprovalMessage(request, items);
          await client.chat.update({ channel: request.approvalChannel, ts: request.approvalTs, ...message });
          break;
        }
        case "reminder": {
          if (!request.approvalChannel || !request.approvalTs || request.state !== "pending") break;
          await client.chat.postMessage({
            channel: request.approvalChannel,
            thread_ts: request.approvalTs,
            ...buildReminderMessage(request),
          });
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
