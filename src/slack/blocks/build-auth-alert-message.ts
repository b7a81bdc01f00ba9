import { escapeAndTruncate } from "./escape-and-truncate.js";
import { sectionBlock } from "./mrkdwn.js";
import type { SlackMessage } from "./slack-types.js";

/** Posted once per outage when JumpCloud refuses the bot's API key. */
export function buildAuthAlertMessage(detail: string): SlackMessage {
  return {
    text: "JumpCloud refuses the bot's API key: approved changes are waiting",
    blocks: [
      sectionBlock(
        [
          ":rotating_light: *JumpCloud refuses the bot's API key*",
          detail ? `JumpCloud said: ${escapeAndTruncate(detail, 500)}` : "",
          "Approved changes are kept and will be sent as soon as the key works again.",
          "Fix `JUMPCLOUD_API_KEY` (or `JUMPCLOUD_ORG_ID` for multi-tenant keys) and restart the bot.",
        ]
          .filter(Boolean)
          .join("\n"),
      ),
    ],
  };
}
