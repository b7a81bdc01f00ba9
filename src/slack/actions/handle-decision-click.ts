import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from "@slack/bolt";
import { buildDenyModal } from "../blocks/index.js";
import { alreadyDecidedMessage, checkDecider } from "../check-decider.js";
import type { ListenerDeps } from "../deps.js";
import { requestIdValue } from "../view-state.js";

type Args = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;

/** Approve and Deny buttons on the approval message. */
export function handleDecisionClick(deps: ListenerDeps, decision: "approve" | "deny") {
  return async ({ ack, body, action, client }: Args): Promise<void> => {
    await ack();
    const userId = body.user.id;
    const channel = body.channel?.id ?? body.container?.channel_id;
    const tell = async (text: string) => {
      if (!channel) return;
      await client.chat.postEphemeral({ channel, user: userId, text }).catch((error) => {
        deps.logger.warn({ err: String(error) }, "could not send ephemeral reply");
      });
    };

    const parsed = requestIdValue.safeParse(action.value);
    const request = parsed.success ? await deps.store.getRequest(parsed.data) : undefined;
    if (!request) {
      await tell("That request does not exist. Nothing was changed.");
      return;
    }
    // The button must be on this request's own approval message, not a copy elsewhere.
    const messageTs = body.message?.ts ?? body.container?.message_ts;
    if (request.approvalTs && (channel !== request.approvalChannel || messageTs !== request.approvalTs)) {
      await tell("That button does not belong to this request's approval message. Nothing was changed.");
      return;
    }
    const allowed = await checkDecider(deps.roles, request, userId);
    if (!allowed.ok) {
      await tell(allowed.message);
      return;
    }
    if (request.state !== "pending") {
      await tell(alreadyDecidedMessage(request));
      return;
    }
    if (decision === "deny") {
      // The deny reason modal decides on submit; the request stays pending until then.
      await client.views.open({ trigger_id: body.trigger_id, view: buildDenyModal(request.id) });
      return;
    }
    const result = await deps.store.decide({
      requestId: request.id,
      decision: "approve",
      actor: userId,
      at: deps.clock.now().toISOString(),
    });
    if (!result.ok) {
      await tell(
        result.reason === "not_found" ? "That request does not exist." : alreadyDecidedMessage(result.request),
      );
      return;
    }
    deps.logger.info({ requestId: request.id, approver: userId }, "request approved");
    deps.notifier.kick();
    deps.dispatcher.wake();
  };
}
