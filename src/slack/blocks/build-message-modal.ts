import { LIMITS, plainText, sectionBlock } from "./mrkdwn.js";
import type { ModalView } from "./slack-types.js";

/**
 * A notice or error shown in the modal. `text` is mrkdwn written by us; any user text in it must
 * already be escaped by the caller.
 */
export function buildMessageModal(title: string, text: string): ModalView {
  return {
    type: "modal",
    title: plainText(title, LIMITS.viewTitle),
    close: plainText("Close", LIMITS.viewButton),
    blocks: [sectionBlock(text)],
  };
}
