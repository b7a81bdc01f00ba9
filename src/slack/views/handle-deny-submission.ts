import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from "@slack/bolt";
import { z } from "zod";
import { alreadyDecidedMessage, checkDecider } from "../check-decider.js";
import type { ListenerDeps } from "../deps.js";
import { ids } from "../ids.js";
import { parseMetadata, requestIdMetadata } from "../view-state.js";

type Args = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;

const denyNote = z.string().trim().max(500, "At most 500 characters.");

export function handleDenySubmission(deps: ListenerDeps) {
  return async ({ ack, body, view }: Args): Promise<void> => {
    const block = ids.denyModal.reasonBlock;
    const refuse = (message: string) => ack({ response_action: "errors", errors: { [block]: message } });
    const meta = parseMetadata(requestIdMetadata, view.private_metadata);
    const request = meta ? await deps.store.getRequest(meta.requestId) : undefined;
    if (!request) return refuse("That request does not exist. Nothing was changed.");
    const allowed = await checkDecider(deps.roles, request, body.user.id);
    if (!allowed.ok) return refuse(allowed.message);
    const note = denyNote.safeParse(view.state.values[block]?.[ids.denyModal.reasonAction]?.value ?? "");
    if (!note.success) return refuse(note.error.issues[0]?.message ?? "Invalid reason.");
    const result = await deps.store.decide({
      requestId: request.id,
      decision: "deny",
      actor: body.user.id,
      at: deps.clock.now().toISOString(),
      note: note.data || null,
    });
    if (!result.ok) {
      return refuse(
        result.reason === "not_found" ? "That request does not exist." : alreadyDecidedMessage(result.request),
      );
    }
    await ack();
    deps.logger.info({ requestId: request.id, approver: body.user.id }, "request denied");
    deps.notifier.kick();
  };
}
