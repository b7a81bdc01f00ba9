import { escapeAndTruncate } from "./escape-and-truncate.js";

/**
 * `<@U123>` for a Slack user id we trust (requester, decider). Anything that does not look like
 * a Slack id is shown escaped instead, so a bad id can never turn into a ping or a link.
 */
export function mentionUser(slackId: string): string {
  return /^[A-Z0-9]{2,40}$/i.test(slackId) ? `<@${slackId}>` : escapeAndTruncate(slackId, 50);
}
