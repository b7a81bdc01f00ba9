import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from "@slack/bolt";
import type { WebClient } from "@slack/web-api";
import type { JumpCloudClient } from "../../jumpcloud/jumpcloud-client.js";
import { mayEditField } from "../../requests/field-policy.js";
import { reasonSchema, validateChanges } from "../../requests/validate-changes.js";
import { buildReceiptModal } from "../blocks/index.js";
import type { ListenerDeps } from "../deps.js";
import { INTERACTIVE_RETRY } from "../find-target.js";
import { ids } from "../ids.js";
import { draftMetadata, fieldErrorsToBlocks, parseMetadata, readRequestForm } from "../view-state.js";

type Args = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;

/** Slack waits 3 s for this answer; remote checks get what is left of that. */
const REMOTE_CHECK_BUDGET_MS = 2000;

export function handleRequestSubmission(deps: ListenerDeps) {
  return async ({ ack, body, view, client }: Args): Promise<void> => {
    const reasonBlock = ids.requestModal.reasonBlock;
    const refuse = (message: string) => ack({ response_action: "errors", errors: { [reasonBlock]: message } });

    const meta = parseMetadata(draftMetadata, view.private_metadata);
    const draft = meta ? await deps.store.getDraft(meta.draftId) : undefined;
    if (!draft) return refuse("This form is no longer valid. Close it and run /jc-update again.");
    // The server decides, not the form: who submits, whom it targets, which fields they may set.
    if (draft.requesterId !== body.user.id) return refuse("This form belongs to someone else.");
    const isAdmin = await deps.roles.isAdmin(body.user.id);
    if (draft.targetSlackId !== body.user.id && !isAdmin) {
      return refuse("You may only change your own JumpCloud record.");
    }
    const allowed = draft.allowed.filter((key) => mayEditField(deps.policy, key, isAdmin));

    const form = readRequestForm(view.state.values);
    const submitted: Record<string, string | null> = { ...form.fields };
    const current = { ...draft.current };
    const remoteErrors: Record<string, string> = {};
    const deadline = AbortSignal.timeout(REMOTE_CHECK_BUDGET_MS);

    if ("manager" in submitted) {
      const picked = submitted.manager;
      if ((picked ?? null) === draft.managerSlackId) {
        submitted.manager = current.manager ?? "";
      } else if (!picked) {
        submitted.manager = "";
      } else {
        const managerId = await within(deadline, managerJcId(picked, client, deps.jumpcloud));
        if (typeof managerId === "string") submitted.manager = managerId;
        else {
          delete submitted.manager;
          remoteErrors.manager = managerId?.error ?? "JumpCloud is slow to answer; try again in a minute.";
        }
      }
    }

    const validated = validateChanges(submitted, current, allowed);
    const errors = validated.errors;
    // A manager is a JumpCloud id; keep who it is in Slack so approvers see a person, not an id.
    const changes = validated.changes.map((c) =>
      c.field === "manager"
        ? { ...c, oldSlackUser: draft.managerSlackId, newSlackUser: form.fields.manager ?? null }
        : c,
    );
    const reason = reasonSchema.safeParse(form.reason ?? "");

    const emailChange = changes.find((c) => c.field === "email");
    if (emailChange && !errors.email) {
      const taken = await within(deadline, deps.jumpcloud.findUsersByEmail(emailChange.newValue, INTERACTIVE_RETRY));
      if (taken === undefined) remoteErrors.email = "Could not check in time that this email is free; try again.";
      else if (taken.some((u) => u._id !== draft.targetUserId))
        remoteErrors.email = "Another JumpCloud user already has this email.";
    }

    const blockErrors: Record<string, string> = fieldErrorsToBlocks({ ...errors, ...remoteErrors });
    if (!reason.success) blockErrors[reasonBlock] = reason.error.issues[0]?.message ?? "Give a reason.";
    if (Object.keys(blockErrors).length === 0 && changes.length === 0) {
      const first = allowed[0];
      blockErrors[first ? ids.requestModal.fieldBlock(first) : reasonBlock] =
        "Nothing changed: edit at least one field before sending.";
    }
    if (Object.keys(blockErrors).length > 0) {
      await ack({ response_action: "errors", errors: blockErrors });
      return;
    }

    const submittedAt = deps.clock.now().toISOString();
    const request = await deps.store.createRequest(
      {
        draftId: draft.id,
        kind: "single",
        requesterId: draft.requesterId,
        targetUserId: draft.targetUserId,
        targetLabel: draft.targetLabel,
        targetSlackId: draft.targetSlackId,
        reason: reason.data ?? "",
        changes,
      },
      submittedAt,
    );
    await ack({ response_action: "update", view: buildReceiptModal(request) });
    // A second submission of the same modal returns the first request: nothing new to log.
    if (request.createdAt !== submittedAt) return;
    deps.logger.info(
      { requestId: request.id, requester: request.requesterId, changes: request.changes.length },
      "request submitted",
    );
    deps.notifier.kick();
  };
}

/** The JumpCloud id of a person picked in the Manager field, found by their Slack email. */
async function managerJcId(
  slackUserId: string,
  client: WebClient,
  jumpcloud: JumpCloudClient,
): Promise<string | { error: string }> {
  const info = await client.users.info({ user: slackUserId });
  const email = info.user?.profile?.email;
  if (!email) return { error: "Slack did not share this person's email, so their JumpCloud account can't be found." };
  const users = await jumpcloud.findUsersByEmail(email, { attempts: 1, baseDelayMs: 0, jitter: 0 });
  if (users.length !== 1) return { error: `No single JumpCloud user has the email ${email}.` };
  return (users[0] as { _id: string })._id;
}

/** The promise's value, or undefined when the signal fires first or the promise fails. */
async function within<T>(signal: AbortSignal, promise: Promise<T>): Promise<T | undefined> {
  if (signal.aborted) return undefined;
  return Promise.race([
    promise.catch(() => undefined),
    new Promise<undefined>((resolve) => signal.addEventListener("abort", () => resolve(undefined), { once: true })),
  ]);
}
