import { AppError } from "../errors.js";

/** A failed JumpCloud call. `retryable` follows SPEC §4.6: 502/503/504/429 and network errors. */
export class JumpCloudError extends AppError {
  constructor(
    message: string,
    readonly status: number | null, // null: no HTTP answer (network error, timeout)
    readonly retryAfterMs: number | null = null,
    options: { cause?: unknown } = {},
  ) {
    super(
      status === 401 || status === 403
        ? "jumpcloud_auth"
        : status === null
          ? "jumpcloud_unreachable"
          : "jumpcloud_http",
      message,
      { userMessage: `JumpCloud: ${message}`, cause: options.cause },
    );
  }

  get retryable(): boolean {
    return (
      this.status === null || this.status === 429 || this.status === 502 || this.status === 503 || this.status === 504
    );
  }
}
