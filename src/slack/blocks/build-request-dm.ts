import type { ItemRecord, RequestRecord } from "../../requests/types.js";
import { ids } from "../ids.js";
import { escapeAndTruncate } from "./escape-and-truncate.js";
import { formatBulkSummary } from "./format-bulk-summary.js";
import { formatChanges } from "./format-changes.js";
import { formatItemOutcomes } from "./format-item-outcomes.js";
import { mentionUser } from "./mention-user.js";
import { contextBlock, sectionBlock } from "./mrkdwn.js";
import { plural } from "./plural.js";
import { quoteText } from "./quote-text.js";
import type { KnownBlock, SlackMessage } from "./slack-types.js";
import { stateInWords } from "./state-words.js";

export type RequestDmKind = "receipt" | "decision" | "outcome";

/**
 * The DM to the requester: `receipt` when stored, `decision` when approved/denied (or withdrawn,
 * expired), `outcome` when JumpCloud finished: exactly what was applied and what failed.
 */
export function buildRequestDm(
  kind: RequestDmKind,
  request: RequestRecord,
  items: readonly ItemRecord[],
): SlackMessage {
  const n = `#${request.id}`;
  const bulk = request.bulk;
  const target = bulk
    ? contextBlock(`Bulk request from ${escapeAndTruncate(bulk.source, 500)}`)
    : contextBlock(`For ${escapeAndTruncate(request.targetLabel, 500)}`);
  const changes = (title: string): KnownBlock =>
    sectionBlock(`*${title}*\n${bulk ? formatBulkSummary(bulk) : formatChanges(request.changes, 2800)}`);

  if (kind === "receipt") {
    const blocks: KnownBlock[] = [
      sectionBlock(`:inbox_tray: Your request *${n}* was sent for approval. You'll get a DM when it's decided.`),
      target,
      changes("Requested changes"),
    ];
    if (request.state === "pending") blocks.push(withdrawButton(request.id));
    else blocks.push(contextBlock(`Now: ${stateInWords(request.state)}.`));
    return { text: `Your JumpCloud update request ${n} was sent for approval`, blocks };
  }

  if (kind === "decision") {
    const by = request.decidedBy ? ` by ${mentionUser(request.decidedBy)}` : "";
    if (request.state === "denied") {
      const blocks: KnownBlock[] = [sectionBlock(`:no_entry: Your request *${n}* was denied${by}.`), target];
      if (request.decisionNote?.trim()) {
        blocks.push(sectionBlock(`*Reason*\n${quoteText(request.decisionNote, 2800)}`));
      }
      blocks.push(changes("Not applied"));
      return { text: `Your JumpCloud update request ${n} was denied`, blocks };
    }
    if (request.state === "cancelled" || request.state === "expired" || request.state === "pending") {
      const words = stateInWords(request.state);
      return {
        text: `Your JumpCloud update request ${n}: ${words}`,
        blocks: [
          sectionBlock(`:information_source: Your request *${n}*: ${words}.`),
          target,
          changes("Requested changes"),
        ],
      };
    }
    return {
      text: `Your JumpCloud update request ${n} was approved`,
      blocks: [
        sectionBlock(
          `:heavy_check_mark: Your request *${n}* was approved${by}. The changes will be applied in JumpCloud shortly; you'll get a DM with the result.`,
        ),
        target,
        changes("Approved changes"),
      ],
    };
  }

  // outcome
  switch (request.state) {
    case "applied":
      return {
        text: `Your JumpCloud update request ${n} was applied`,
        blocks: [
          sectionBlock(`:white_check_mark: Your request *${n}* was applied in JumpCloud.`),
          target,
          changes("Applied"),
        ],
      };
    case "failed":
    case "partially_applied": {
      const failed = request.state === "failed";
      const applied = items.filter((i) => i.state === "applied").length;
      const blocks: KnownBlock[] = [
        sectionBlock(
          failed
            ? `:x: Your request *${n}* could not be applied in JumpCloud.`
            : `:warning: Your request *${n}* was only partly applied in JumpCloud: ${applied} of ${items.length} users updated.`,
        ),
        target,
        changes("Requested changes"),
      ];
      // The reason may be JumpCloud's message or the bot's own (a conflict: never sent).
      const outcomes = formatItemOutcomes(request, items, 2700);
      if (outcomes) blocks.push(sectionBlock(`*Not applied${bulk ? " for" : ""}*\n${outcomes}`));
      if (bulk) {
        const where = request.approvalChannel
          ? `a CSV file in the thread of the approval message in <#${request.approvalChannel}>`
          : "a CSV file in the thread of the approval message";
        const rest =
          applied === 0
            ? "Nothing was changed in JumpCloud."
            : `The other ${plural(applied, "user")} ${applied === 1 ? "was" : "were"} updated.`;
        blocks.push(
          contextBlock(
            `${rest} Every row not applied, with the reason, is ${where}: fix the rows and submit that file again with \`/jc-update bulk\`.`,
          ),
        );
      } else {
        blocks.push(contextBlock("Nothing else was changed. Ask IT if you are unsure what to do next."));
      }
      return { text: `Your JumpCloud update request ${n} ${failed ? "failed" : "was partly applied"}`, blocks };
    }
    default: {
      const words = stateInWords(request.state);
      return {
        text: `Your JumpCloud update request ${n}: ${words}`,
        blocks: [
          sectionBlock(`:information_source: Your request *${n}*: ${words}.`),
          target,
          changes("Requested changes"),
        ],
      };
    }
  }
}

/** Lets the requester take back a request nobody decided yet. */
function withdrawButton(requestId: number): KnownBlock {
  return {
    type: "actions",
    block_id: "withdraw",
    elements: [
      {
        type: "button",
        action_id: ids.actions.cancel,
        text: { type: "plain_text", text: "Withdraw request" },
        value: String(requestId),
        confirm: {
          title: { type: "plain_text", text: "Withdraw this request?" },
          text: { type: "plain_text", text: `Request #${requestId} will not be decided or applied.` },
          confirm: { type: "plain_text", text: "Withdraw" },
          deny: { type: "plain_text", text: "Keep it" },
        },
      },
    ],
  };
}
