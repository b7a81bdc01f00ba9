import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from "@slack/bolt";
import type { RequestRecord } from "../../requests/types.js";
import { buildRequestDm } from "../blocks/index.js";
import { alreadyDecidedMessage } from "../check-decider.js";
import type { ListenerDeps } from "../deps.js";
import { requestIdValue } from "../view-state.js";

type Args = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;

/** "Withdraw request" in the requester's receipt DM. */
export function handleCancelClick(deps: ListenerDeps) {
  return async ({ ack, body, action, client }: Args): Promise<void> => {
    await ack();
    const userId = body.user.id;
    const channel = body.channel?.id ?? body.container?.channel_id;
    const messageTs = body.message?.ts ?? body.container?.message_ts;
    const tell = async (text: string) => {
      if (!channel) return;
      await client.chat.postEphemeral({ channel, user: userId, text }).catch(() => undefined);
    };
    /** The receipt re-rendered from the request's state: the button goes, the state shows. */
    const updateReceipt = async (request: RequestRecord) => {
      if (!channel || !messageTs) return;
      await client.chat
        .update({ channel, ts: messageTs, ...buildRequestDm("receipt", request, []) })
        .catch((error) => deps.logger.warn({ err: String(error) }, "could not update the receipt DM"));
    };
    const parsed = requestIdValue.safeParse(action.value);
    const request = parsed.success ? await deps.store.getRequest(parsed.data) : undefined;
    if (!request) return tell("That request does not exist. Nothing was changed.");
    if (request.requesterId !== userId) return tell("Only the person who made a request can withdraw it.");
    const result = await deps.store.cancel({
      requestId: request.id,
      actor: userId,
      at: deps.clock.now().toISOString(),
    });
    if (!result.ok) {
      if (result.reason === "not_found") return tell("That request does not exist.");
      // Decided meanwhile: the receipt loses its stale button and says what the request is now.
      await updateReceipt(result.request);
      return tell(alreadyDecidedMessage(result.request));
    }
    deps.logger.info({ requestId: request.id }, "request withdrawn by the requester");
    deps.notifier.kick();
    await updateReceipt(result.request);
  };
}
