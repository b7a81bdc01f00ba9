import type { RequestRecord } from "../../requests/types.js";
import { formatBulkSummary } from "./format-bulk-summary.js";
import { formatChanges, SECTION_TEXT_MAX } from "./format-changes.js";
import { contextBlock, LIMITS, plainText, sectionBlock } from "./mrkdwn.js";
import type { ModalView } from "./slack-types.js";

/** What the form turns into once the request is stored. */
export function buildReceiptModal(request: RequestRecord): ModalView {
  return {
    type: "modal",
    title: plainText("JumpCloud update", LIMITS.viewTitle),
    close: plainText("Done", LIMITS.viewButton),
    blocks: [
      sectionBlock(`:white_check_mark: *Request #${request.id} sent for approval*`),
      sectionBlock(request.bulk ? formatBulkSummary(request.bulk) : formatChanges(request.changes, SECTION_TEXT_MAX)),
      contextBlock("You'll get a DM when it's decided."),
    ],
  };
}
