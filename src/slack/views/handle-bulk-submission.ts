import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from "@slack/bolt";
import type { WebClient } from "@slack/web-api";
import { AppError, errorMessage } from "../../errors.js";
import { JumpCloudError } from "../../jumpcloud/jumpcloud-error.js";
import { resolveBulkCsv } from "../../jumpcloud/resolve-bulk-csv.js";
import { bulkColumns } from "../../requests/field-policy.js";
import { type BulkCsv, describeBulkError, parseBulkCsv } from "../../requests/parse-bulk-csv.js";
import { reasonSchema } from "../../requests/validate-changes.js";
import {
  buildBulkModal,
  buildCheckingModal,
  buildReceiptModal,
  escapeAndTruncate,
  formatProblems,
  type ModalView,
  plural,
  truncate,
} from "../blocks/index.js";
import { BULK_CHECK_HEARTBEAT_MS } from "../bulk-check-heartbeat.js";
import type { ListenerDeps } from "../deps.js";
import { downloadSlackFile, MAX_CSV_BYTES, type SlackFileRef } from "../download-slack-file.js";
import { ids } from "../ids.js";
import { draftMetadata, parseMetadata } from "../view-state.js";

type Args = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;

/** Problems listed in the `errors` answer; the modal shows them under the input. */
const ERRORS_SHOWN = 10;
/** Kept short: Slack shows the `errors` text in a small space under the input. */
const ERRORS_TEXT_MAX = 2000;

interface Submission {
  draftId: string;
  requesterId: string;
  viewId: string;
  reason: string;
  /** Pasted text, or the uploaded file. */
  csv: { kind: "csv"; text: string; parsed: BulkCsv } | { kind: "file"; file: SlackFileRef };
}

/**
 * `/jc-update bulk` submitted (SPEC §5). What needs no lookup is checked inside Slack's 3 s
 * (errors go under the CSV box); then the modal switches to "Checking N rows…", the users are
 * resolved in JumpCloud, and the modal is updated with the problems (CSV still editable) or
 * the receipt of the stored request.
 */
export function handleBulkSubmission(deps: ListenerDeps) {
  return async ({ ack, body, view, client }: Args): Promise<void> => {
    const m = ids.bulkModal;
    const values = view.state.values;
    const meta = parseMetadata(draftMetadata, view.private_metadata);
    if (!meta) {
      await ack({
        response_action: "errors",
        errors: { [m.csvBlock]: "This form is no longer valid; run /jc-update bulk again." },
      });
      return;
    }
    if (!(await deps.roles.isAdmin(body.user.id))) {
      await ack({ response_action: "errors", errors: { [m.csvBlock]: "Only admins can make bulk requests." } });
      return;
    }
    const text = values[m.csvBlock]?.[m.csvAction]?.value ?? "";
    const files = (values[m.fileBlock]?.[m.fileAction]?.files ?? []) as SlackFileRef[];
    const reason = reasonSchema.safeParse(values[m.reasonBlock]?.[m.reasonAction]?.value ?? "");

    const errors: Record<string, string> = {};
    if (!reason.success) errors[m.reasonBlock] = reason.error.issues[0]?.message ?? "Give a reason.";
    const pasted = text.trim() !== "";
    if (!pasted && files.length === 0) errors[m.csvBlock] = "Paste a CSV here, or upload a CSV file below.";
    if (pasted && files.length > 0) errors[m.fileBlock] = "Use the box or a file, not both: remove one of them.";
    if (files.length > 1) errors[m.fileBlock] = "Upload one file.";
    const file = files[0];
    if (file && (file.size ?? 0) > MAX_CSV_BYTES) {
      errors[m.fileBlock] = `The file is larger than ${MAX_CSV_BYTES / 1024 / 1024} MB; split it.`;
    }
    let parsed: BulkCsv | undefined;
    if (pasted && !errors[m.fileBlock]) {
      parsed = parseBulkCsv(text, deps.policy);
      if (parsed.errors.length > 0) errors[m.csvBlock] = errorSummary(parsed.errors.map(describeBulkError));
    }
    if (Object.keys(errors).length > 0) {
      await ack({ response_action: "errors", errors });
      return;
    }

    const submission: Submission = {
      draftId: meta.draftId,
      requesterId: body.user.id,
      viewId: view.id,
      reason: reason.data ?? "",
      csv: parsed ? { kind: "csv", text, parsed } : { kind: "file", file: file as SlackFileRef },
    };
    // Resolving users cannot fit in Slack's 3 s: answer now, update the modal when done.
    await ack({
      response_action: "update",
      view: buildCheckingModal(
        parsed
          ? `Checking ${plural(parsed.rows.length, "row")} against JumpCloud…`
          : `Reading ${file?.name ? escapeAndTruncate(file.name, 200) : "the file"} and checking it against JumpCloud…`,
      ),
    });
    // Recorded so that a restart in the middle tells the admin rather than leaving them waiting.
    await deps.store
      .startBulkCheck({
        draftId: submission.draftId,
        requesterId: submission.requesterId,
        viewId: submission.viewId,
        startedAt: deps.clock.now().toISOString(),
      })
      .catch((error) => deps.logger.warn({ err: errorMessage(error) }, "could not record a bulk check"));
    // Renewed while it runs: with several replicas, the one running the workers tells the admin
    // only about checks whose process stopped renewing them.
    const heartbeat = setInterval(() => {
      void deps.store
        .touchBulkChecks([submission.draftId], deps.clock.now().toISOString())
        .catch((error) => deps.logger.warn({ err: errorMessage(error) }, "could not renew a bulk check"));
    }, BULK_CHECK_HEARTBEAT_MS);
    heartbeat.unref();
    try {
      await checkAndStore(submission, client, deps);
    } finally {
      clearInterval(heartbeat);
      await deps.store
        .endBulkCheck(submission.draftId)
        .catch((error) => deps.logger.warn({ err: errorMessage(error) }, "could not close a bulk check"));
    }
  };
}

async function checkAndStore(s: Submission, client: WebClient, deps: ListenerDeps): Promise<void> {
  const where = s.csv.kind;
  const retry = (problems: string[]) =>
    show(
      s,
      client,
      deps,
      buildBulkModal({
        draftId: s.draftId,
        columns: bulkColumns(deps.policy),
        ...(s.csv.kind === "csv" ? { csv: s.csv.text } : {}),
        reason: s.reason,
        problems: { input: where, lines: problems },
      }),
      problems,
    );
  try {
    let csv: BulkCsv;
    let source: string;
    if (s.csv.kind === "csv") {
      csv = s.csv.parsed;
      source = "pasted CSV";
    } else {
      source = s.csv.file.name?.trim() || "uploaded file";
      const text = await downloadSlackFile(s.csv.file, {
        token: deps.config.slack.botToken,
        apiUrl: deps.config.slack.apiUrl,
      });
      csv = parseBulkCsv(text, deps.policy);
      if (csv.errors.length > 0) return await retry(csv.errors.map(describeBulkError));
      // Now the size is known: say it, as for a pasted CSV (best effort; closed is fine).
      await client.views
        .update({
          view_id: s.viewId,
          view: buildCheckingModal(
            `Checking ${plural(csv.rows.length, "row")} of ${escapeAndTruncate(source, 200)} against JumpCloud…`,
          ),
        })
        .catch(() => undefined);
    }
    const diff = await resolveBulkCsv(csv, deps.jumpcloud);
    if (diff.errors.length > 0) return await retry(diff.errors.map(describeBulkError));
    if (diff.rows.length === 0) return await retry([nothingToChange(diff.skipped.length, diff.empty.length)]);
    const fields = csv.fields.filter((f) => diff.rows.some((r) => r.changes.some((c) => c.field === f)));
    const submittedAt = deps.clock.now().toISOString();
    const request = await deps.store.createRequest(
      {
        draftId: s.draftId,
        kind: "bulk",
        requesterId: s.requesterId,
        targetUserId: "",
        targetLabel: `${plural(diff.rows.length, "user")} (${source})`,
        targetSlackId: null,
        reason: s.reason,
        changes: [],
        bulk: {
          users: diff.rows.length,
          fields,
          skippedRows: diff.skipped.length + diff.empty.length,
          identity: csv.identity,
          source,
        },
        rows: diff.rows,
      },
      submittedAt,
    );
    if (request.createdAt === submittedAt) {
      deps.logger.info(
        {
          requestId: request.id,
          requester: request.requesterId,
          users: diff.rows.length,
          skipped: diff.skipped.length,
        },
        "bulk request submitted",
      );
      deps.notifier.kick();
    }
    await show(s, client, deps, buildReceiptModal(request));
  } catch (error) {
    const message =
      error instanceof AppError
        ? error.userMessage
        : error instanceof JumpCloudError
          ? `Could not check the users in JumpCloud (${error.message}). Nothing was stored; send again in a few minutes.`
          : "Something went wrong while checking the CSV. Nothing was stored; send again.";
    deps.logger.warn({ requester: s.requesterId, err: errorMessage(error) }, "bulk CSV check failed");
    await retry([message]);
  }
}

/**
 * Replaces the "Checking…" modal. When it is gone (closed meanwhile) the problems go to the
 * requester by DM instead, so nobody is left guessing (a stored request is DMed anyway).
 */
async function show(
  s: Submission,
  client: WebClient,
  deps: ListenerDeps,
  view: ModalView,
  problems?: readonly string[],
): Promise<void> {
  try {
    await client.views.update({ view_id: s.viewId, view });
  } catch (error) {
    deps.logger.info({ err: errorMessage(error) }, "bulk modal gone");
    if (!problems) return;
    await client.chat
      .postMessage({ channel: s.requesterId, text: `Your bulk CSV was not sent.\n${formatProblems(problems)}` })
      .catch((e) => deps.logger.warn({ err: errorMessage(e) }, "could not DM the bulk CSV problems"));
  }
}

function nothingToChange(matching: number, empty: number): string {
  const parts = [
    matching > 0 ? `${plural(matching, "row")} already ${matching === 1 ? "matches" : "match"} JumpCloud` : "",
    empty > 0
      ? `${plural(empty, "row")} ${empty === 1 ? "gives" : "give"} no value (an empty cell leaves a field unchanged)`
      : "",
  ].filter(Boolean);
  return `Nothing to change: ${parts.join(", ")}.`;
}

function errorSummary(lines: readonly string[]): string {
  const shown = lines.slice(0, ERRORS_SHOWN).join("\n");
  const more = lines.length - ERRORS_SHOWN;
  const text =
    more > 0 ? `${plural(lines.length, "problem")}:\n${shown}\n…and ${more.toLocaleString("en-US")} more.` : shown;
  return truncate(text, ERRORS_TEXT_MAX);
}
