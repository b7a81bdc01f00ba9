import type { Config } from "./config.js";
import { errorMessage } from "./errors.js";
import type { Logger } from "./logger.js";
import type { Store } from "./store/store.js";

/**
 * Expires pending requests after REQUEST_TTL_HOURS and posts one reminder after
 * REMINDER_AFTER_MINUTES. Both are compare-and-set in the store, so a decision that lands at the
 * same moment wins or loses cleanly, and several replicas can sweep at once.
 */
export class ExpirySweeper {
  private timer: NodeJS.Timeout | undefined;
  private readonly ttlMs: number;
  private readonly reminderMs: number;
  readonly intervalMs: number;

  constructor(
    private readonly deps: {
      store: Store;
      config: Config["requests"];
      clock: { now(): Date };
      logger: Logger;
      onNotify: () => void;
    },
  ) {
    this.ttlMs = deps.config.ttlHours * 3_600_000;
    this.reminderMs = deps.config.reminderAfterMinutes * 60_000;
    // Late by at most a quarter of the shorter delay, and never busier than 10 times a second.
    this.intervalMs = Math.min(60_000, Math.max(100, Math.min(this.ttlMs, this.reminderMs) / 4));
  }

  start(): void {
    void this.sweep();
    this.timer = setInterval(() => void this.sweep(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async sweep(): Promise<void> {
    const now = this.deps.clock.now();
    const at = now.toISOString();
    try {
      const reminded =
        this.reminderMs < this.ttlMs
          ? await this.deps.store.remindPending(new Date(now.getTime() - this.reminderMs).toISOString(), at)
          : [];
      const expired = await this.deps.store.expirePending(new Date(now.getTime() - this.ttlMs).toISOString(), at);
      if (reminded.length > 0) this.deps.logger.info({ requests: reminded }, "reminders queued");
      if (expired.length > 0) this.deps.logger.info({ requests: expired }, "pending requests expired");
      if (reminded.length > 0 || expired.length > 0) this.deps.onNotify();
    } catch (error) {
      this.deps.logger.error({ err: errorMessage(error) }, "expiry sweep failed");
    }
  }
}
