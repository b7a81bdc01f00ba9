/** Errors that carry a stable code and, when a person will see it, a message fit for them. */
export class AppError extends Error {
  readonly code: string;
  readonly userMessage: string;
  constructor(code: string, message: string, options: { userMessage?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.userMessage = options.userMessage ?? message;
  }
}

export class ConfigError extends AppError {
  constructor(readonly variables: readonly { name: string; problem: string }[]) {
    super(
      "invalid_config",
      `Invalid configuration:\n${variables.map((v) => `  - ${v.name}: ${v.problem}`).join("\n")}`,
    );
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
