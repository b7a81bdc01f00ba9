import type { RequestRecord } from "../../requests/types.js";
import { formatDate } from "./format-date.js";
import { sectionBlock } from "./mrkdwn.js";
import type { SlackMessage } from "./slack-types.js";

/** The one reminder, posted in the approval message's thread. */
export function buildReminderMessage(request: RequestRecord): SlackMessage {
  return {
    text: `Reminder: request #${request.id} is still waiting for a decision`,
    blocks: [
      sectionBlock(
        `:alarm_clock: Request *#${request.id}* (sent ${formatDate(request.createdAt)}) is still waiting for an approver's decision.`,
      ),
    ],
  };
}
