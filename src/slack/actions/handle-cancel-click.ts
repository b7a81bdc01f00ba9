import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from "@slack/bolt";
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
      return tell(
        result.reason === "not_found" ? "That request does not exist." : alreadyDecidedMessage(result.request),
      );
    }
    deps.logger.info({ requestId: request.id }, "request withdrawn by the requester");
    deps.notifier.kick();
    if (channel && messageTs) {
      // The receipt re-rendered from the new state: the button goes, "withdrawn" shows.
      await client.chat
        .update({ channel, ts: messageTs, ...buildRequestDm("receipt", result.request, []) })
        .catch((error) => deps.logger.warn({ err: String(error) }, "could not update the receipt DM"));
    }
  };
}
