import { randomUUID } from "node:crypto";
import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from "@slack/bolt";
import type { WebClient } from "@slack/web-api";
import { errorMessage } from "../../errors.js";
import { bulkColumns, editableFields } from "../../requests/field-policy.js";
import { readField } from "../../requests/fields.js";
import type { JcUser } from "../../requests/types.js";
import {
  buildBulkModal,
  buildHelpMessage,
  buildLoadingModal,
  buildMessageModal,
  buildRequestModal,
  buildStatusMessage,
} from "../blocks/index.js";
import type { ListenerDeps } from "../deps.js";
import { findTarget, INTERACTIVE_RETRY } from "../find-target.js";
import { parseCommandText } from "../parse-command-text.js";

type Args = SlackCommandMiddlewareArgs & AllMiddlewareArgs;

export function handleJcUpdate(deps: ListenerDeps) {
  return async ({ command, ack, respond, client }: Args): Promise<void> => {
    const intent = parseCommandText(command.text ?? "");
    const userId = command.user_id;

    // Help is tailored to admins, and the admin check may ask Slack (user group): ack first.
    if (intent.kind === "help" || intent.kind === "invalid") {
      await ack();
      const error = intent.kind === "invalid" ? "I did not understand that." : undefined;
      await respond({ response_type: "ephemeral", ...buildHelpMessage(await deps.roles.isAdmin(userId), error) });
      return;
    }
    // Status needs only the local store: it goes back in the ack itself.
    if (intent.kind === "status") {
      if (intent.requestId !== undefined) {
        const one = await deps.store.getRequest(intent.requestId);
        // Someone else's request reads like a missing one: ids reveal nothing.
        if (!one || one.requesterId !== userId) {
          await ack({
            response_type: "ephemeral",
            text: `You have no request #${intent.requestId}. \`/jc-update status\` lists yours.`,
          });
          return;
        }
        await ack({ response_type: "ephemeral", ...buildStatusMessage([one], await deps.store.listItems(one.id)) });
        return;
      }
      await ack({
        response_type: "ephemeral",
        ...buildStatusMessage(await deps.store.listRequestsByRequester(userId, 10)),
      });
      return;
    }
    await ack();

    if (intent.kind === "bulk") {
      if (!(await deps.roles.isAdmin(userId))) {
        await respond({
          response_type: "ephemeral",
          text: "Only admins can make bulk (CSV) requests. Run `/jc-update` to change your own record.",
        });
        return;
      }
      try {
        await client.views.open({
          trigger_id: command.trigger_id,
          view: buildBulkModal({ draftId: randomUUID(), columns: bulkColumns(deps.policy) }),
        });
      } catch (error) {
        deps.logger.warn({ err: errorMessage(error) }, "could not open the bulk modal");
        await respond({
          response_type: "ephemeral",
          text: "Slack did not let me open the form in time. Please run `/jc-update bulk` again.",
        }).catch(() => undefined);
      }
      return;
    }
    // Someone else's record: refuse before any modal opens (the role check is cached).
    if (intent.kind === "target" && !(await deps.roles.isAdmin(userId))) {
      await respond({
        response_type: "ephemeral",
        text: "You may only change your own JumpCloud record. Run `/jc-update` without arguments.",
      });
      return;
    }

    // Open at once: the trigger id dies after 3 s, JumpCloud may take longer.
    let viewId: string | undefined;
    try {
      viewId = (await client.views.open({ trigger_id: command.trigger_id, view: buildLoadingModal() })).view?.id;
    } catch (error) {
      deps.logger.warn({ err: errorMessage(error) }, "could not open the request modal");
    }
    if (!viewId) {
      await respond({
        response_type: "ephemeral",
        text: "Slack did not let me open the form in time. Please run `/jc-update` again.",
      }).catch(() => undefined);
      return;
    }
    // Only now, with the modal open, the remaining lookups (the role check may ask Slack).
    const isAdmin = await deps.roles.isAdmin(userId);
    const update = (view: ReturnType<typeof buildMessageModal>) => client.views.update({ view_id: viewId, view });

    try {
      const found = await findTarget(intent.kind === "self" ? { kind: "slack", userId } : intent.ref, {
        client,
        jumpcloud: deps.jumpcloud,
      });
      if (!found.ok) {
        const target = intent.kind === "self" ? "self" : intent.ref;
        deps.logger.warn({ requester: userId, target, reason: found.message }, "could not open the form");
        await update(buildMessageModal("JumpCloud update", found.message));
        return;
      }
      const target = found.user;
      const isSelf = intent.kind === "self" || found.slackId === userId;
      const fields = editableFields(deps.policy, target, isAdmin);
      const current = Object.fromEntries(fields.map((f) => [f.key, readField(target, f.key)]));
      const managerSlackId = fields.some((f) => f.key === "manager")
        ? await managerSlackIdOf(target, client, deps)
        : null;
      const draftId = randomUUID();
      await deps.store.saveDraft({
        id: draftId,
        requesterId: userId,
        targetUserId: target._id,
        targetLabel: found.label,
        targetSlackId: found.slackId,
        isAdmin,
        current,
        allowed: fields.map((f) => f.key),
        managerSlackId,
        createdAt: deps.clock.now().toISOString(),
      });
      await update(buildRequestModal({ draftId, targetLabel: found.label, isSelf, fields, current, managerSlackId }));
    } catch (error) {
      deps.logger.error({ err: errorMessage(error) }, "could not prepare the request form");
      await update(
        buildMessageModal("JumpCloud update", "Something went wrong while loading the form. Please try again."),
      ).catch(() => undefined);
    }
  };
}

/** The Slack user behind the target's JumpCloud manager, for the user picker; best effort. */
async function managerSlackIdOf(target: JcUser, client: WebClient, deps: ListenerDeps): Promise<string | null> {
  if (!target.manager) return null;
  try {
    const manager = await deps.jumpcloud.getUser(target.manager, INTERACTIVE_RETRY);
    if (!manager?.email) return null;
    const found = await client.users.lookupByEmail({ email: manager.email });
    return found.user?.id ?? null;
  } catch {
    return null;
  }
}
