import type { WebClient } from "@slack/web-api";
import { errorMessage } from "../errors.js";
import type { Logger } from "../logger.js";
import type { Store } from "../store/store.js";
import { buildMessageModal, formatDate } from "./blocks/index.js";

/**
 * Bulk CSV checks that a stopped or crashed process left running stored nothing. Tell each
 * admin (DM, and the modal if it is still open) instead of leaving them on "Checking…". A single
 * process reports every recorded check when it starts; with several replicas, only checks not
 * renewed since `renewedBefore` (their process stopped). A check whose DM cannot be sent now is
 * kept and reported at the next pass.
 */
export async function reportInterruptedChecks(
  deps: { store: Store; client: WebClient; logger: Logger },
  renewedBefore?: string,
) {
  for (const check of await deps.store.listBulkChecks(renewedBefore)) {
    const text = `:warning: The check of the bulk CSV you sent at ${formatDate(check.startedAt)} was interrupted: the bot restarted. Nothing was stored. Run \`/jc-update bulk\` and send it again.`;
    // Claimed first: a pass running beside this one (a slow Slack, another replica) skips it.
    if (!(await deps.store.endBulkCheck(check.draftId))) continue;
    try {
      await deps.client.views
        .update({ view_id: check.viewId, view: buildMessageModal("JumpCloud bulk update", text) })
        .catch(() => undefined); // closed long ago, most likely
      await deps.client.chat.postMessage({ channel: check.requesterId, text });
      deps.logger.warn({ requester: check.requesterId }, "told an admin their bulk CSV check was interrupted");
    } catch (error) {
      // Not told: recorded again (as it was, so still stale) for the next pass.
      await deps.store.startBulkCheck(check).catch(() => undefined);
      deps.logger.warn({ err: errorMessage(error) }, "could not report an interrupted bulk check; will try again");
    }
  }
}
