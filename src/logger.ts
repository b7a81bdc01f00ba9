import { pino } from "pino";

export type Logger = pino.Logger;

/**
 * Structured JSON logs. Known secret fields are redacted by path, and any configured secret
 * value is scrubbed from every line, wherever it appears.
 */
export function createLogger(options: {
  level: string;
  secrets?: readonly string[];
  destination?: pino.DestinationStream;
}): Logger {
  const secrets = (options.secrets ?? []).filter((s) => s.length >= 4);
  const scrub = (line: string) => secrets.reduce((out, s) => out.split(s).join("[REDACTED]"), line);
  const destination = options.destination ?? pino.destination(1);
  const stream: pino.DestinationStream = {
    write: (line: string) => destination.write(secrets.length > 0 ? scrub(line) : line),
  };
  return pino(
    {
      level: options.level,
      base: undefined,
      redact: {
        paths: [
          "token",
          "*.token",
          "headers.authorization",
          "*.headers.authorization",
          "headers['x-api-key']",
          "*.headers['x-api-key']",
        ],
        censor: "[REDACTED]",
      },
    },
    stream,
  );
}
