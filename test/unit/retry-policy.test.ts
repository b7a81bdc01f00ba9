import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type RetryPolicy, retryDelayMs } from "../../src/jumpcloud/retry-policy.js";

const DEFAULT: RetryPolicy = { attempts: 4, baseDelayMs: 5000, jitter: 0 };

describe("retryDelayMs", () => {
  it("without jitter waits base × attempt: 5000, 10000, 15000", () => {
    assert.deepEqual(
      [1, 2, 3].map((attempt) => retryDelayMs(DEFAULT, attempt)),
      [5000, 10000, 15000],
    );
  });

  it("without jitter the random source does not matter", () => {
    assert.equal(
      retryDelayMs(DEFAULT, 2, () => 0),
      10000,
    );
    assert.equal(
      retryDelayMs(DEFAULT, 2, () => 0.999),
      10000,
    );
  });

  it("follows RETRY_BASE_DELAY_MS", () => {
    assert.equal(retryDelayMs({ ...DEFAULT, baseDelayMs: 250 }, 3), 750);
    assert.equal(retryDelayMs({ ...DEFAULT, baseDelayMs: 0 }, 3), 0);
  });

  it("jitter 0.1 spans exactly -10 % to +10 % of the delay", () => {
    const policy = { ...DEFAULT, jitter: 0.1 };
    assert.equal(
      retryDelayMs(policy, 1, () => 0),
      4500,
    );
    assert.equal(
      retryDelayMs(policy, 1, () => 0.5),
      5000,
    );
    assert.equal(
      retryDelayMs(policy, 1, () => 1),
      5500,
    );
    assert.equal(
      retryDelayMs(policy, 3, () => 0),
      13500,
    );
    assert.equal(
      retryDelayMs(policy, 3, () => 0.75),
      15750,
    );
  });

  it("jitter 0.1 with Math.random stays within ±10 % and varies", () => {
    const policy = { ...DEFAULT, jitter: 0.1 };
    for (const attempt of [1, 2, 3]) {
      const base = 5000 * attempt;
      const seen = new Set<number>();
      for (let i = 0; i < 500; i++) {
        const delay = retryDelayMs(policy, attempt);
        assert.ok(delay >= base * 0.9 && delay <= base * 1.1, `attempt ${attempt}: ${delay} outside ±10 % of ${base}`);
        assert.equal(Number.isInteger(delay), true);
        seen.add(delay);
      }
      assert.ok(seen.size > 10, `attempt ${attempt}: jitter did not vary the delay (${seen.size} values)`);
    }
  });

  it("never negative, even with jitter above 1", () => {
    assert.equal(
      retryDelayMs({ ...DEFAULT, jitter: 2 }, 1, () => 0),
      0,
    );
  });
});
