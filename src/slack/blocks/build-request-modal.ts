import type { FieldDef } from "../../requests/fields.js";
import { ids } from "../ids.js";
import { escapeAndTruncate } from "./escape-and-truncate.js";
import { contextBlock, LIMITS, plainText, sectionBlock } from "./mrkdwn.js";
import type { InputBlock, KnownBlock, ModalView } from "./slack-types.js";

export interface RequestModalInput {
  draftId: string;
  /** Email or username of the target, as people recognise it. */
  targetLabel: string;
  isSelf: boolean;
  /** The fields the requester may edit for this target, in modal order. */
  fields: readonly FieldDef[];
  /** Current JumpCloud values by field key ('' or absent when unset). */
  current: Readonly<Record<string, string>>;
  /** Slack id of the target's current manager, preselected in the Manager picker. */
  managerSlackId?: string | null;
}

const INPUT_MAX = 3000;
const REASON_MAX = 500;
const PHONE_HINT = "Digits, spaces and + - ( ) .";
/** Intro section + intro context + Reason input. */
const FIXED_BLOCKS = 3;

/**
 * The request form: one optional input per editable field (labels exactly as the field's label,
 * prefilled with the current value) and a required Reason. Stays within Slack's 100 blocks:
 * fields beyond that are left out and a context line says how many.
 */
export function buildRequestModal(input: RequestModalInput): ModalView {
  const privateMetadata = JSON.stringify({ draftId: input.draftId });
  if (privateMetadata.length > LIMITS.privateMetadata) {
    throw new RangeError("draftId too long for private_metadata");
  }

  // One input per key (block ids must be unique); a key too long for a block id cannot be shown.
  const unique = input.fields.filter((f, i) => input.fields.findIndex((g) => g.key === f.key) === i);
  const usable = unique.filter((f) => ids.requestModal.fieldBlock(f.key).length <= LIMITS.blockId);
  const room = LIMITS.modalBlocks - FIXED_BLOCKS;
  const shown = usable.length <= room ? usable : usable.slice(0, room - 1);
  const leftOut = unique.length - shown.length;

  const blocks: KnownBlock[] = [
    sectionBlock(
      input.isSelf ? "*Your JumpCloud record*" : `JumpCloud record of *${escapeAndTruncate(input.targetLabel, 500)}*`,
    ),
    contextBlock("Change what you need; only changed fields are sent. Empty a field to clear it."),
    ...shown.map((field) => fieldInput(field, input.current[field.key] ?? "", input.managerSlackId ?? null)),
  ];
  if (leftOut > 0) {
    blocks.push(
      contextBlock(
        `:warning: ${leftOut} more ${leftOut === 1 ? "field does" : "fields do"} not fit in this form; ask an admin to change ${leftOut === 1 ? "it" : "them"}.`,
      ),
    );
  }
  blocks.push({
    type: "input",
    block_id: ids.requestModal.reasonBlock,
    label: plainText("Reason", LIMITS.inputLabel),
    optional: false,
    element: {
      type: "plain_text_input",
      action_id: ids.requestModal.reasonAction,
      multiline: true,
      min_length: 1,
      max_length: REASON_MAX,
    },
  });

  return {
    type: "modal",
    callback_id: ids.requestModal.callbackId,
    private_metadata: privateMetadata,
    title: plainText("JumpCloud update", LIMITS.viewTitle),
    submit: plainText("Send for approval", LIMITS.viewButton),
    close: plainText("Cancel", LIMITS.viewButton),
    blocks,
  };
}

function fieldInput(field: FieldDef, current: string, managerSlackId: string | null): InputBlock {
  const base = {
    type: "input" as const,
    block_id: ids.requestModal.fieldBlock(field.key),
    label: plainText(field.label, LIMITS.inputLabel),
    optional: true,
  };
  if (field.kind === "manager") {
    return {
      ...base,
      element: {
        type: "users_select",
        action_id: ids.requestModal.fieldAction,
        ...(managerSlackId ? { initial_user: managerSlackId } : {}),
      },
    };
  }
  // A current value longer than the field allows (set outside this bot) must still show unchanged,
  // or submitting the form untouched would look like a change; so the box widens to hold it.
  const maxLength = Math.min(Math.max(field.maxLength, current.length), INPUT_MAX);
  return {
    ...base,
    ...(field.kind === "phone" ? { hint: plainText(PHONE_HINT, LIMITS.inputLabel) } : {}),
    element: {
      type: "plain_text_input",
      action_id: ids.requestModal.fieldAction,
      max_length: maxLength,
      ...(current !== "" ? { initial_value: current.slice(0, maxLength) } : {}),
    },
  };
}
