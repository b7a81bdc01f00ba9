import { BULK_MAX_ROWS } from "../../requests/parse-bulk-csv.js";
import { ids } from "../ids.js";
import { escapeAndTruncate } from "./escape-and-truncate.js";
import { problemSections } from "./format-problems.js";
import { contextBlock, LIMITS, plainText, sectionBlock } from "./mrkdwn.js";
import type { KnownBlock, ModalView } from "./slack-types.js";

/** Slack's cap on a plain_text_input; bigger CSVs go through the file upload. */
export const CSV_INPUT_MAX = 3000;
const REASON_MAX = 500;

export interface BulkModalInput {
  draftId: string;
  /** Field columns the requester may use, as written in a header. */
  columns: readonly string[];
  /** Shown again after a failed check, so the CSV can be fixed in place. */
  csv?: string;
  reason?: string;
  /** Problems found, listed under the input they came from. */
  problems?: { input: "csv" | "file"; lines: readonly string[] };
}

/**
 * The bulk form (SPEC §5): a CSV box (label "CSV"), a file upload (label "CSV file"), and Reason.
 * After a check that found problems it is shown again with them listed under the input used.
 */
export function buildBulkModal(input: BulkModalInput): ModalView {
  const m = ids.bulkModal;
  const problems = input.problems;
  const problemBlock = (where: "csv" | "file"): KnownBlock[] =>
    problems && problems.input === where ? problemSections(problems.lines).map(sectionBlock) : [];
  const csv = input.csv && input.csv.length <= CSV_INPUT_MAX ? input.csv : undefined;
  const blocks: KnownBlock[] = [
    sectionBlock("*Change many JumpCloud users at once.* Paste a CSV or upload a CSV file (one of the two)."),
    contextBlock(
      escapeAndTruncate(
        `The first column names the user: id, email or username. Each other column is a field to set: ${input.columns.join(", ")}. ` +
          `Manager is given by email. An empty cell leaves that value unchanged. Up to ${BULK_MAX_ROWS.toLocaleString("en-US")} rows; paste up to ${CSV_INPUT_MAX.toLocaleString("en-US")} characters, upload anything bigger.`,
        LIMITS.contextText,
      ),
    ),
    {
      type: "input",
      block_id: m.csvBlock,
      label: plainText("CSV", LIMITS.inputLabel),
      optional: true,
      hint: plainText("e.g. email,department,jobTitle — an empty cell means: leave unchanged.", LIMITS.inputLabel),
      element: {
        type: "plain_text_input",
        action_id: m.csvAction,
        multiline: true,
        max_length: CSV_INPUT_MAX,
        ...(csv ? { initial_value: csv } : {}),
      },
    },
    ...problemBlock("csv"),
    {
      type: "input",
      block_id: m.fileBlock,
      label: plainText("CSV file", LIMITS.inputLabel),
      optional: true,
      hint: plainText("A .csv file, e.g. exported from a spreadsheet (UTF-8).", LIMITS.inputLabel),
      element: { type: "file_input", action_id: m.fileAction, filetypes: ["csv", "txt"], max_files: 1 },
    },
    ...problemBlock("file"),
    {
      type: "input",
      block_id: m.reasonBlock,
      label: plainText("Reason", LIMITS.inputLabel),
      optional: false,
      element: {
        type: "plain_text_input",
        action_id: m.reasonAction,
        multiline: true,
        min_length: 1,
        max_length: REASON_MAX,
        ...(input.reason ? { initial_value: input.reason.slice(0, REASON_MAX) } : {}),
      },
    },
  ];
  return {
    type: "modal",
    callback_id: m.callbackId,
    private_metadata: JSON.stringify({ draftId: input.draftId }),
    title: plainText("JumpCloud bulk update", LIMITS.viewTitle),
    submit: plainText("Check and send", LIMITS.viewButton),
    close: plainText("Cancel", LIMITS.viewButton),
    blocks,
  };
}
