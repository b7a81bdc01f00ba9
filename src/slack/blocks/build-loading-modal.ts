import { ids } from "../ids.js";
import { plainText, sectionBlock } from "./mrkdwn.js";
import type { ModalView } from "./slack-types.js";

const DEFAULT_TEXT = ":hourglass_flowing_sand: Loading the current JumpCloud record…";

/** Opened at once (within the 3 s trigger window) and replaced by the form when JumpCloud answers. */
export function buildLoadingModal(text: string = DEFAULT_TEXT): ModalView {
  return {
    type: "modal",
    callback_id: ids.loadingModal.callbackId,
    title: plainText("JumpCloud update", 24),
    close: plainText("Cancel", 24),
    blocks: [sectionBlock(text)],
  };
}
