import { ids } from "../ids.js";
import { LIMITS, plainText } from "./mrkdwn.js";
import type { ModalView } from "./slack-types.js";

const NOTE_MAX = 500;

/** Opened by Deny: an optional reason for the requester. */
export function buildDenyModal(requestId: number): ModalView {
  return {
    type: "modal",
    callback_id: ids.denyModal.callbackId,
    private_metadata: JSON.stringify({ requestId }),
    title: plainText(`Deny request #${requestId}`, LIMITS.viewTitle),
    submit: plainText("Deny", LIMITS.viewButton),
    close: plainText("Cancel", LIMITS.viewButton),
    blocks: [
      {
        type: "input",
        block_id: ids.denyModal.reasonBlock,
        label: plainText("Reason for the requester", LIMITS.inputLabel),
        optional: true,
        element: {
          type: "plain_text_input",
          action_id: ids.denyModal.reasonAction,
          multiline: true,
          max_length: NOTE_MAX,
        },
      },
    ],
  };
}
