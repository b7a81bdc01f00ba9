/** How a call is retried: `attempts` in all, waiting `baseDelayMs × attempt` (± jitter) between them. */
export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  /** Share of the delay added or removed at random (0.1 = ±10 %). */
  jitter: number;
}

export function retryDelayMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const base = policy.baseDelayMs * attempt;
  return Math.max(0, Math.round(base * (1 + policy.jitter * (2 * random() - 1))));
}
