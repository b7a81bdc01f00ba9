/**
 * Which process runs the background workers (dispatcher, notifier, expiry sweeper). Every
 * replica answers Slack; only the lease holder sends to JumpCloud and Slack from the store, so
 * no batch is claimed, resent or recovered by two processes, and no message is posted twice.
 */
export interface WorkerLease {
  /** This process runs the workers. */
  readonly held: boolean;
  /**
   * Calls `onAcquired` once this process holds the lease (at once when it is the only one), and
   * `onLost` if it is lost afterwards (the process must stop: another may take over).
   */
  start(onAcquired: () => Promise<void>, onLost: (error: unknown) => void): Promise<void>;
  /** A follower stored new work: tell the holder (no-op when this process holds the lease). */
  signal(): void;
  /** The holder is told of work stored by other processes. */
  onSignal(listener: () => void): void;
  close(): Promise<void>;
}

/** SQLite: one process, always the holder. */
export function soleWorkerLease(): WorkerLease {
  return {
    held: true,
    async start(onAcquired) {
      await onAcquired();
    },
    signal() {},
    onSignal() {},
    async close() {},
  };
}
