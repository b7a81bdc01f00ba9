import { ids } from "../ids.js";
import { contextBlock, LIMITS, plainText, sectionBlock } from "./mrkdwn.js";
import type { ModalView } from "./slack-types.js";

/** While a CSV is checked: no submit button; replaced by the form (problems) or the receipt. */
export function buildCheckingModal(text: string): ModalView {
  return {
    type: "modal",
    callback_id: ids.checkingModal.callbackId,
    title: plainText("JumpCloud bulk update", LIMITS.viewTitle),
    close: plainText("Close", LIMITS.viewButton),
    blocks: [
      sectionBlock(`:hourglass_flowing_sand: ${text}`),
      contextBlock(
        "You can close this window: the result is shown here, or sent to you by DM if the window is closed by then.",
      ),
    ],
  };
}
