import type { ItemRecord, RequestRecord } from "../../requests/types.js";
import { escapeAndTruncate } from "./escape-and-truncate.js";
import { formatBulkSummary } from "./format-bulk-summary.js";
import { formatChanges, pluralChanges } from "./format-changes.js";
import { formatDate } from "./format-date.js";
import { formatItemOutcomes } from "./format-item-outcomes.js";
import { formatNote } from "./format-note.js";
import { contextBlock, sectionBlock } from "./mrkdwn.js";
import { plural } from "./plural.js";
import type { KnownBlock, SlackMessage } from "./slack-types.js";
import { stateInWords } from "./state-words.js";

/** Request lines shown; the rest is counted. Leaves room for the title and footer blocks. */
const MAX_SHOWN = 45;

/**
 * The requester's recent requests (ephemeral answer to `/jc-update status [id]`): number, target,
 * state, date and number of changes; a single request is shown with its changes.
 */
export function buildStatusMessage(
  requests: readonly RequestRecord[],
  items: readonly ItemRecord[] = [],
): SlackMessage {
  if (requests.length === 0) {
    return { text: "You have no requests yet.", blocks: [sectionBlock("You have no requests yet.")] };
  }
  const shown = requests.slice(0, MAX_SHOWN);
  const blocks: KnownBlock[] = [
    sectionBlock(requests.length === 1 ? "*Your request*" : "*Your recent JumpCloud update requests*"),
    ...shown.map((r) => sectionBlock(requestLine(r))),
  ];
  const only = requests.length === 1 ? requests[0] : undefined;
  if (only) {
    blocks.push(sectionBlock(only.bulk ? formatBulkSummary(only.bulk) : formatChanges(only.changes, 2900)));
    if (only.decisionNote?.trim()) blocks.push(contextBlock(`Note: ${escapeAndTruncate(only.decisionNote, 1500)}`));
    if (only.statusNote?.trim()) blocks.push(contextBlock(formatNote(only.statusNote, 1500)));
    const outcomes = formatItemOutcomes(only, items, 2500);
    if (outcomes) {
      const where = only.bulk
        ? "\nAll of them, as a CSV to fix and send again, are in the approval message's thread."
        : "";
      blocks.push(sectionBlock(`*Not applied*\n${outcomes}${where}`));
    }
  }
  if (requests.length > shown.length) {
    blocks.push(contextBlock(`…and ${requests.length - shown.length} older requests not shown.`));
  }
  blocks.push(
    contextBlock(
      only ? "All your requests: `/jc-update status`" : "Details of one request: `/jc-update status <number>`",
    ),
  );
  return {
    text: `Your JumpCloud update requests (${requests.length})`,
    blocks,
  };
}

function requestLine(r: RequestRecord): string {
  return [
    `*#${r.id}*`,
    r.bulk ? `bulk (${escapeAndTruncate(r.bulk.source, 200)})` : escapeAndTruncate(r.targetLabel, 300),
    stateInWords(r.state),
    formatDate(r.createdAt),
    r.bulk ? plural(r.bulk.users, "user") : pluralChanges(r.changes.length),
  ].join(" · ");
}
