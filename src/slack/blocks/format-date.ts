import { escapeAndTruncate } from "./escape-and-truncate.js";

/**
 * An ISO 8601 timestamp as Slack date formatting (shown in each reader's time zone), with the
 * ISO text as fallback: `<!date^1700000000^{date_short_pretty} {time}|2023-11-14T22:13:20.000Z>`.
 * A string that is not a date is shown escaped, as is.
 */
export function formatDate(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return escapeAndTruncate(iso, 100);
  const unix = Math.floor(ms / 1000);
  return `<!date^${unix}^{date_short_pretty} {time}|${new Date(ms).toISOString()}>`;
}
