/**
 * Slack Block Kit limits, checked the way the fake Slack server enforces them. Each check returns
 * a list of problems ("blocks[3].text: 3012 > 3000") so a failing test says what broke.
 */

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function textOf(v: unknown): string | undefined {
  return isObject(v) && typeof v.text === "string" ? v.text : undefined;
}

function checkLength(problems: string[], path: string, value: string | undefined, max: number): void {
  if (value !== undefined && value.length > max) problems.push(`${path}: ${value.length} > ${max}`);
}

function checkPlainText(problems: string[], path: string, v: unknown, max: number, required = true): void {
  if (v === undefined) {
    if (required) problems.push(`${path}: missing`);
    return;
  }
  if (!isObject(v) || v.type !== "plain_text") problems.push(`${path}: must be plain_text`);
  const text = textOf(v);
  if (text === undefined || text.length === 0) problems.push(`${path}: empty text`);
  checkLength(problems, path, text, max);
}

function checkTextObject(problems: string[], path: string, v: unknown, max: number): void {
  if (!isObject(v) || (v.type !== "plain_text" && v.type !== "mrkdwn")) {
    problems.push(`${path}: not a text object`);
    return;
  }
  const text = textOf(v);
  if (text === undefined || text.length === 0) problems.push(`${path}: empty text`);
  checkLength(problems, path, text, max);
}

function checkElement(problems: string[], path: string, el: unknown): void {
  if (!isObject(el)) {
    problems.push(`${path}: not an object`);
    return;
  }
  if (typeof el.action_id === "string") checkLength(problems, `${path}.action_id`, el.action_id, 255);
  switch (el.type) {
    case "button":
      checkPlainText(problems, `${path}.text`, el.text, 75);
      if (typeof el.value === "string") checkLength(problems, `${path}.value`, el.value, 2000);
      if (el.style !== undefined && el.style !== "primary" && el.style !== "danger") {
        problems.push(`${path}.style: ${String(el.style)}`);
      }
      break;
    case "plain_text_input": {
      const max = typeof el.max_length === "number" ? el.max_length : 3000;
      if (max > 3000 || max < 1) problems.push(`${path}.max_length: ${max}`);
      const min = typeof el.min_length === "number" ? el.min_length : 0;
      if (min > max || min > 3000) problems.push(`${path}.min_length: ${min} > ${max}`);
      if (typeof el.initial_value === "string") checkLength(problems, `${path}.initial_value`, el.initial_value, max);
      break;
    }
    case "file_input":
      if (typeof el.max_files === "number" && (el.max_files < 1 || el.max_files > 10)) {
        problems.push(`${path}.max_files: ${el.max_files}`);
      }
      break;
    case "users_select":
      if (el.initial_user !== undefined && typeof el.initial_user !== "string") {
        problems.push(`${path}.initial_user: not a string`);
      }
      break;
    default:
      problems.push(`${path}: unexpected element type ${String(el.type)}`);
  }
}

function checkBlock(problems: string[], path: string, block: unknown): void {
  if (!isObject(block)) {
    problems.push(`${path}: not an object`);
    return;
  }
  if (typeof block.block_id === "string") checkLength(problems, `${path}.block_id`, block.block_id, 255);
  switch (block.type) {
    case "section": {
      if (block.text === undefined && block.fields === undefined) problems.push(`${path}: needs text or fields`);
      if (block.text !== undefined) checkTextObject(problems, `${path}.text`, block.text, 3000);
      const fields = asArray(block.fields);
      if (fields.length > 10) problems.push(`${path}.fields: ${fields.length} > 10`);
      fields.forEach((f, i) => checkTextObject(problems, `${path}.fields[${i}]`, f, 2000));
      break;
    }
    case "header":
      checkPlainText(problems, `${path}.text`, block.text, 150);
      break;
    case "context": {
      const elements = asArray(block.elements);
      if (elements.length === 0 || elements.length > 10) problems.push(`${path}.elements: ${elements.length}`);
      elements.forEach((e, i) => checkTextObject(problems, `${path}.elements[${i}]`, e, 2000));
      break;
    }
    case "actions": {
      const elements = asArray(block.elements);
      if (elements.length === 0 || elements.length > 25) problems.push(`${path}.elements: ${elements.length}`);
      elements.forEach((e, i) => checkElement(problems, `${path}.elements[${i}]`, e));
      const actionIds = elements.map((e) => (isObject(e) ? e.action_id : undefined)).filter((a) => a !== undefined);
      if (new Set(actionIds).size !== actionIds.length) problems.push(`${path}: duplicate action_id`);
      break;
    }
    case "input":
      checkPlainText(problems, `${path}.label`, block.label, 2000);
      checkPlainText(problems, `${path}.hint`, block.hint, 2000, false);
      checkElement(problems, `${path}.element`, block.element);
      break;
    case "divider":
      break;
    default:
      problems.push(`${path}: unexpected block type ${String(block.type)}`);
  }
}

function checkBlocks(problems: string[], blocks: unknown, maxBlocks: number): void {
  const list = asArray(blocks);
  if (!Array.isArray(blocks)) problems.push("blocks: not an array");
  if (list.length === 0) problems.push("blocks: empty");
  if (list.length > maxBlocks) problems.push(`blocks: ${list.length} > ${maxBlocks}`);
  const blockIds = list.map((b) => (isObject(b) ? b.block_id : undefined)).filter((id) => id !== undefined);
  const duplicates = blockIds.filter((id, i) => blockIds.indexOf(id) !== i);
  if (duplicates.length > 0) problems.push(`block_id not unique: ${duplicates.join(", ")}`);
  list.forEach((b, i) => checkBlock(problems, `blocks[${i}]`, b));
}

/** A chat.postMessage / chat.update / chat.postEphemeral payload. `maxText` defaults to a short notification. */
export function messageProblems(message: { text: string; blocks: readonly unknown[] }, maxText = 3000): string[] {
  const problems: string[] = [];
  if (message.text.length === 0) problems.push("text: empty");
  checkLength(problems, "text", message.text, Math.min(maxText, 40000));
  checkBlocks(problems, message.blocks, 50);
  return problems;
}

/** A views.open / views.update / response_action payload. */
export function modalProblems(view: unknown): string[] {
  const problems: string[] = [];
  if (!isObject(view) || view.type !== "modal") return ["view: not a modal"];
  checkPlainText(problems, "title", view.title, 24);
  checkPlainText(problems, "submit", view.submit, 24, false);
  checkPlainText(problems, "close", view.close, 24, false);
  if (typeof view.private_metadata === "string") checkLength(problems, "private_metadata", view.private_metadata, 3000);
  if (typeof view.callback_id === "string") checkLength(problems, "callback_id", view.callback_id, 255);
  const hasInput = asArray(view.blocks).some((b) => isObject(b) && b.type === "input");
  if (hasInput && view.submit === undefined) problems.push("submit: required when the view has inputs");
  checkBlocks(problems, view.blocks, 100);
  return problems;
}

/** Every mrkdwn string of a payload (where Slack would parse `<!channel>` and links). */
export function mrkdwnStrings(payload: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const x of v) walk(x);
    } else if (isObject(v)) {
      if (v.type === "mrkdwn" && typeof v.text === "string") out.push(v.text);
      for (const x of Object.values(v)) walk(x);
    }
  };
  walk(payload);
  return out;
}
