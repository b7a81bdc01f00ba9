import type { ItemRecord, RequestRecord, RequestRow } from "../../requests/types.js";
import { ids } from "../ids.js";
import { allOf } from "./all-of.js";
import { escapeAndTruncate } from "./escape-and-truncate.js";
import { bulkProgress, formatBulkProgress } from "./format-bulk-progress.js";
import { formatBulkRows } from "./format-bulk-rows.js";
import { formatBulkSummary } from "./format-bulk-summary.js";
import { formatChanges } from "./format-changes.js";
import { formatDate } from "./format-date.js";
import { formatItemOutcomes } from "./format-item-outcomes.js";
import { formatJobIds } from "./format-job-ids.js";
import { formatNote } from "./format-note.js";
import { mentionUser } from "./mention-user.js";
import { contextBlock, headerBlock, mrkdwnText, plainText, sectionBlock } from "./mrkdwn.js";
import { plural } from "./plural.js";
import { quoteText } from "./quote-text.js";
import type { KnownBlock, SlackMessage } from "./slack-types.js";
import { stateInWords } from "./state-words.js";

/**
 * The approval-channel message of a request, rendered from its stored state alone: the same call
 * renders the first post (buttons) and every later update (who decided, what JumpCloud did).
 */
export function buildApprovalMessage(
  request: RequestRecord,
  items: readonly ItemRecord[],
  bulkView: BulkView = { firstRows: [], batchMaxSize: 100 },
): SlackMessage {
  const changesTitle = `*Changes* (${request.changes.length})\n`;
  const bulk = request.bulk;
  const blocks: KnownBlock[] = bulk
    ? [
        headerBlock(`JumpCloud bulk request #${request.id}`),
        {
          type: "section",
          fields: [
            mrkdwnText(`*Requested by*\n${mentionUser(request.requesterId)}`, 2000),
            mrkdwnText(`*From*\n${escapeAndTruncate(bulk.source, 500)}`, 2000),
          ],
        },
        sectionBlock(`*Changes*: ${formatBulkSummary(bulk)}`),
        sectionBlock(
          `*${firstRowsTitle(bulkView.firstRows.length, bulk.users)}*\n${formatBulkRows(bulkView.firstRows, 2800, bulk.users)}`,
        ),
        contextBlock("The full before → after diff (a CSV file) is in this message's thread."),
      ]
    : [
        headerBlock(`JumpCloud update request #${request.id}`),
        {
          type: "section",
          fields: [
            mrkdwnText(`*Requested by*\n${mentionUser(request.requesterId)}`, 2000),
            mrkdwnText(`*For*\n${formatTarget(request)}`, 2000),
          ],
        },
        sectionBlock(changesTitle + formatChanges(request.changes, 2900 - changesTitle.length)),
      ];
  if (request.reason.trim() !== "") {
    blocks.push(sectionBlock(`*Reason*\n${quoteText(request.reason, 2800)}`));
  }

  if (request.state === "pending") {
    const value = String(request.id);
    blocks.push({
      type: "actions",
      block_id: ids.approvalMessage.decisionBlock,
      elements: [
        { type: "button", action_id: ids.actions.approve, text: plainText("Approve", 75), style: "primary", value },
        { type: "button", action_id: ids.actions.deny, text: plainText("Deny", 75), style: "danger", value },
      ],
    });
  } else {
    const decision = decisionText(request);
    if (decision) blocks.push(sectionBlock(decision));
    const status = bulk ? bulkStatusText(request, items, bulkView.batchMaxSize) : statusText(request, items);
    if (status) blocks.push(sectionBlock(status));
  }
  if (request.statusNote) {
    blocks.push(contextBlock(formatNote(request.statusNote, 1000)));
  }

  return {
    text: `JumpCloud ${bulk ? "bulk " : ""}update request #${request.id} from ${mentionUser(request.requesterId)} — ${stateInWords(request.state)}`,
    blocks,
  };
}

/** What a bulk request's message needs besides the request: its first rows, the batch size. */
export interface BulkView {
  firstRows: readonly RequestRow[];
  batchMaxSize: number;
}

/** Progress while the rows are applied (SPEC §5, issue 5), then the counts. */
function bulkStatusText(request: RequestRecord, items: readonly ItemRecord[], batchMaxSize: number): string {
  const progress = bulkProgress(items, batchMaxSize);
  switch (request.state) {
    case "approved":
    case "queued":
    case "submitted":
      return `:arrows_counterclockwise: Applying in JumpCloud. ${formatBulkProgress(progress)}`;
    case "applied":
      return `:white_check_mark: Applied in JumpCloud: ${allOf(progress.applied, "user")} (${plural(progress.callsSent, "call")}).`;
    case "partially_applied":
    case "failed": {
      const title =
        request.state === "failed"
          ? `:x: Not applied in JumpCloud: ${plural(progress.failed, "user")} failed.`
          : `:warning: Partially applied in JumpCloud: ${plural(progress.applied, "user")} applied, ${plural(progress.failed, "user")} failed.`;
      const outcomes = formatItemOutcomes(request, items, 1800);
      return `${title}\nThe rows not applied, with the reason, are a CSV file in the thread.${outcomes ? `\n${outcomes}` : ""}`;
    }
    default:
      return statusText(request, items);
  }
}

/** "First 10 of 5,000 users", or "Both users" when every row is shown. */
function firstRowsTitle(shown: number, users: number): string {
  if (shown < users) return `First ${shown.toLocaleString("en-US")} of ${plural(users, "user")}`;
  const all = allOf(users, "user");
  return all.charAt(0).toUpperCase() + all.slice(1);
}

function formatTarget(request: RequestRecord): string {
  const label = escapeAndTruncate(request.targetLabel, 500);
  const slackId = request.targetSlackId;
  return slackId && slackId !== request.requesterId ? `${label} (${mentionUser(slackId)})` : label;
}

/** "Approved by @x at <date>" (with the deny note); '' when nobody decided (withdrawn, expired). */
function decisionText(request: RequestRecord): string {
  if (!request.decidedBy) return "";
  const at = request.decidedAt ? ` at ${formatDate(request.decidedAt)}` : "";
  const who = mentionUser(request.decidedBy);
  if (request.state === "denied") {
    const note = request.decisionNote?.trim() ? `\n${quoteText(request.decisionNote, 2000)}` : "";
    return `:no_entry: Denied by ${who}${at}${note}`;
  }
  if (request.state === "cancelled" || request.state === "expired") return "";
  return `:heavy_check_mark: Approved by ${who}${at}`;
}

function statusText(request: RequestRecord, items: readonly ItemRecord[]): string {
  switch (request.state) {
    case "pending":
    case "denied":
      return "";
    case "approved":
    case "queued":
      return ":arrows_counterclockwise: Queued for JumpCloud";
    case "submitted": {
      const jobs = formatJobIds(items);
      return `:outbox_tray: Sent to JumpCloud${jobs ? ` (${jobs})` : ""}, waiting for results`;
    }
    case "applied":
      return ":white_check_mark: Applied in JumpCloud";
    case "partially_applied":
    case "failed": {
      const title =
        request.state === "failed" ? ":x: Not applied in JumpCloud" : ":warning: Partially applied in JumpCloud";
      const outcomes = formatItemOutcomes(request, items, 2500);
      return outcomes ? `${title}\n${outcomes}` : title;
    }
    case "cancelled":
      return ":leftwards_arrow_with_hook: Withdrawn by the requester";
    case "expired":
      return ":hourglass: Expired without a decision";
  }
}
