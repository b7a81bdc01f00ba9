/**
 * `npm run slack-send -- <what> …`: sends a request to the bot signed the way Slack signs it, for
 * trying the bot with `npm run slack-sim` instead of a workspace.
 *
 *   slack-send command <userId> "<text>"                     /jc-update <text>
 *   slack-send submit <userId> "Job title=Staff Engineer" … [--reason "…"]
 *                                                            fills the user's open request modal by label
 *   slack-send approve <userId> <requestId>                  clicks Approve on the approval message
 *   slack-send deny <userId> <requestId> ["reason"]          clicks Deny, then submits the reason modal
 *   slack-send bulk <userId> <file.csv> [--paste] [--reason "…"]
 *                                                            /jc-update bulk, then uploads the file (or
 *                                                            pastes it) and prints the outcome of the check
 *
 * Env: SLACK_SIGNING_SECRET (as the bot's), BOT_URL (http://127.0.0.1:3000), SLACK_SIM_URL
 * (http://127.0.0.1:8788).
 */
import { readFileSync } from "node:fs";
import { ids } from "../../src/slack/ids.js";
import {
  blockActionsPayload,
  bulkFormValues,
  sendInteraction,
  sendSlashCommand,
  viewSubmissionPayload,
} from "./slack-request.js";

const secret = process.env.SLACK_SIGNING_SECRET ?? "";
const bot = (process.env.BOT_URL ?? "http://127.0.0.1:3000").replace(/\/$/, "");
const sim = (process.env.SLACK_SIM_URL ?? "http://127.0.0.1:8788").replace(/\/$/, "");
const [what, userId = "U0000000001", ...rest] = process.argv.slice(2);

if (!secret) fail("set SLACK_SIGNING_SECRET to the bot's signing secret");

// A server that is not running is a one-line message, not a stack trace.
const realFetch = globalThis.fetch;
globalThis.fetch = (input, init) =>
  realFetch(input, init).catch((error: { cause?: { code?: string } }) => {
    const origin = new URL(String(input instanceof Request ? input.url : input)).origin;
    const what =
      origin === new URL(bot).origin
        ? "the bot (BOT_URL; npm start)"
        : "the fake Slack (SLACK_SIM_URL; npm run slack-sim)";
    fail(`cannot reach ${what} at ${origin} (${error.cause?.code ?? String(error)})`);
  });

/** The bot's answer, with a hint when it refused the signature. */
function status(code: number): string {
  // Refused: the exit code says so too (scripts and the README walkthrough stop there).
  if (code === 401) process.exitCode = 2;
  return code === 401
    ? "401 (signature refused: SLACK_SIGNING_SECRET must be the bot's, and the clock right)"
    : String(code);
}

async function trigger(): Promise<{ trigger_id: string; response_url: string }> {
  const res = await fetch(`${sim}/__sim/trigger?user=${encodeURIComponent(userId)}`, { method: "POST" });
  return (await res.json()) as { trigger_id: string; response_url: string };
}

function fail(message: string): never {
  console.error(`slack-send: ${message}`);
  process.exit(2);
}

interface Block {
  type: string;
  block_id?: string;
  label?: { text: string };
  element?: { type: string; action_id: string; initial_value?: string; initial_user?: string };
}

const started = Date.now() - 50;

if (what === "command") {
  const viewsBefore = ((await (await fetch(`${sim}/__sim/views`)).json()) as unknown[]).length;
  const t = await trigger();
  const answer = await sendSlashCommand(bot, secret, { user_id: userId, text: rest.join(" "), ...t });
  showAck(answer, "(empty ack)");
  await showEphemerals();
  await showForm(viewsBefore);
} else if (what === "approve" || what === "deny") {
  const requestId = rest[0] ?? fail("give the request id");
  const t = await trigger();
  // Clicked on the request's approval message, as in Slack.
  const calls = (await (await fetch(`${sim}/__sim/calls`)).json()) as {
    method: string;
    args: Record<string, unknown>;
    response: Record<string, unknown>;
  }[];
  // The approval message: the one with the Approve button for this request (the requester's
  // receipt DM carries the id too, on its Withdraw button). The newest one: after the bot's
  // database was reset, an older run's #N is still in the log.
  const hasApprove = (blocks: unknown) =>
    Array.isArray(blocks) &&
    blocks.some(
      (b: { type?: string; elements?: { action_id?: string; value?: string }[] }) =>
        b.type === "actions" &&
        (b.elements ?? []).some((e) => e.action_id === ids.actions.approve && e.value === requestId),
    );
  const posted = calls.findLast((c) => c.method === "chat.postMessage" && c.response.ok && hasApprove(c.args.blocks));
  if (!posted) fail(`no approval message with buttons for request #${requestId} (see ${sim}/__sim/calls)`);
  const payload = blockActionsPayload({
    user: userId,
    action_id: what === "approve" ? ids.actions.approve : ids.actions.deny,
    value: requestId,
    trigger_id: t.trigger_id,
    response_url: t.response_url,
    channel: String(posted.response.channel),
    message_ts: String(posted.response.ts),
  });
  const answer = await sendInteraction(bot, secret, payload);
  console.log(status(answer.status), answer.body || "(empty ack)");
  if (what === "deny" && answer.status === 200) {
    await new Promise((r) => setTimeout(r, 300));
    const views = (await (await fetch(`${sim}/__sim/views`)).json()) as {
      id: string;
      userId?: string;
      view: { callback_id: string; private_metadata: string };
    }[];
    const modal = views
      .filter(
        (v) => v.view.callback_id === ids.denyModal.callbackId && v.view.private_metadata.includes(`${requestId}`),
      )
      .at(-1);
    if (!modal) {
      await showEphemerals();
      fail("the deny modal did not open");
    }
    const submit = await sendInteraction(
      bot,
      secret,
      viewSubmissionPayload({
        user: userId,
        view: {
          id: modal.id,
          callback_id: modal.view.callback_id,
          private_metadata: modal.view.private_metadata,
          state: {
            values: {
              [ids.denyModal.reasonBlock]: {
                [ids.denyModal.reasonAction]: { type: "plain_text_input", value: rest[1] ?? "" },
              },
            },
          },
        },
      }),
    );
    console.log("deny modal:", status(submit.status), submit.body || "(empty ack: denied)");
  }
  await showEphemerals();
} else if (what === "submit") {
  const views = (await (await fetch(`${sim}/__sim/views`)).json()) as {
    id: string;
    userId?: string;
    view: { callback_id: string; blocks: Block[]; private_metadata: string };
  }[];
  const open = views.filter((v) => v.userId === userId && v.view.callback_id === ids.requestModal.callbackId).at(-1);
  if (!open) fail(`no open request modal for ${userId}: run 'slack-send command ${userId} ""' first`);
  const reasonAt = rest.indexOf("--reason");
  const reason = reasonAt >= 0 ? (rest[reasonAt + 1] ?? "") : "Requested with slack-send";
  const labels = new Set(open.view.blocks.map((b) => b.label?.text).filter(Boolean));
  const values = Object.fromEntries(
    rest
      .filter((_, i) => reasonAt < 0 || (i !== reasonAt && i !== reasonAt + 1))
      .map((pair) => {
        const at = pair.indexOf("=");
        return [pair.slice(0, at), pair.slice(at + 1)];
      }),
  );
  const unknown = Object.keys(values).filter((label) => !labels.has(label));
  if (unknown.length > 0)
    fail(`no field labelled ${unknown.join(", ")} in the modal; it has: ${[...labels].join(", ")}`);
  const state: Record<string, Record<string, unknown>> = {};
  for (const block of open.view.blocks) {
    if (block.type !== "input" || !block.block_id || !block.element) continue;
    const label = block.label?.text ?? "";
    const e = block.element;
    state[block.block_id] =
      e.type === "users_select"
        ? { [e.action_id]: { type: e.type, selected_user: values[label] ?? e.initial_user ?? null } }
        : {
            [e.action_id]: {
              type: e.type,
              value:
                block.block_id === ids.requestModal.reasonBlock ? reason : (values[label] ?? e.initial_value ?? null),
            },
          };
  }
  const answer = await sendInteraction(
    bot,
    secret,
    viewSubmissionPayload({
      user: userId,
      view: {
        id: open.id,
        callback_id: open.view.callback_id,
        private_metadata: open.view.private_metadata,
        state: { values: state },
      },
    }),
  );
  showAck(answer, "(empty ack: modal closed)");
} else if (what === "bulk") {
  const path = rest.find((a, i) => !a.startsWith("--") && rest[i - 1] !== "--reason") ?? fail("give a CSV file");
  const content = readFileSync(path);
  const reasonAt = rest.indexOf("--reason");
  const reason = reasonAt >= 0 ? (rest[reasonAt + 1] ?? "") : "Requested with slack-send";
  const viewsBefore = ((await (await fetch(`${sim}/__sim/views`)).json()) as unknown[]).length;
  const t = await trigger();
  const opened = await sendSlashCommand(bot, secret, { user_id: userId, text: "bulk", ...t });
  console.log(status(opened.status), opened.body || "(empty ack)");
  await new Promise((r) => setTimeout(r, 500));
  type SimView = {
    id: string;
    userId?: string;
    view: { callback_id: string; private_metadata: string; blocks: Block[] };
  };
  const views = async () => (await (await fetch(`${sim}/__sim/views`)).json()) as SimView[];
  const modal = (await views())
    .slice(viewsBefore)
    .find((v) => v.userId === userId && v.view.callback_id === ids.bulkModal.callbackId);
  if (!modal) {
    await showEphemerals();
    fail("the bulk modal did not open (only admins may use it: ADMIN_USER_IDS)");
  }
  const paste = rest.includes("--paste");
  // Slack's box takes no more than its max_length: say so rather than send what Slack would not.
  const box = modal.view.blocks.find((b) => b.block_id === ids.bulkModal.csvBlock)?.element as
    | { max_length?: number }
    | undefined;
  if (paste && box?.max_length !== undefined && content.toString("utf8").length > box.max_length) {
    fail(`Slack's CSV box takes at most ${box.max_length} characters; upload the file instead (drop --paste)`);
  }
  const file = paste
    ? undefined
    : await (
        await fetch(`${sim}/__sim/files?name=${encodeURIComponent(path.split("/").at(-1) ?? path)}`, {
          method: "POST",
          body: content,
        })
      ).json();
  const answer = await sendInteraction(
    bot,
    secret,
    viewSubmissionPayload({
      user: userId,
      view: {
        id: modal.id,
        callback_id: modal.view.callback_id,
        private_metadata: modal.view.private_metadata,
        state: {
          values: bulkFormValues({ csv: paste ? content.toString("utf8") : null, files: file ? [file] : [], reason }),
        },
      },
    }),
  );
  const ack = answer.json as { response_action?: string; errors?: Record<string, string> } | undefined;
  if (ack?.response_action === "errors") {
    console.log(`problems shown in the form:\n${Object.values(ack.errors ?? {}).join("\n")}`);
  } else {
    showAck(answer, "(empty ack)");
    // The check runs after the answer: wait for the bot's views.update (receipt or problems).
    const before = JSON.stringify(modal.view);
    for (let waited = 0; waited < 120_000; waited += 500) {
      await new Promise((r) => setTimeout(r, 500));
      const now = (await views()).find((v) => v.id === modal.id);
      if (now && JSON.stringify(now.view) !== before) {
        console.log(`modal: ${textOf(now.view.blocks)}`);
        break;
      }
    }
  }
} else {
  fail("usage: slack-send command|submit|approve|deny|bulk <userId> …");
}

/** The bot's answer to a request, as a person would read it (not raw JSON). */
function showAck(answer: { status: number; body: string; json?: unknown }, empty: string): void {
  const json = answer.json as { text?: string; blocks?: unknown; view?: { blocks?: unknown } } | undefined;
  const code = status(answer.status);
  const errors = (json as { errors?: Record<string, string> } | undefined)?.errors;
  if (!answer.body) console.log(code, empty);
  else if (json?.view) console.log(code, `modal: ${textOf(json.view.blocks)}`);
  else if (errors) console.log(code, `problems under the fields:\n${Object.values(errors).join("\n")}`);
  else if (json?.blocks) console.log(code, textOf(json.blocks));
  else if (json?.text) console.log(code, json.text);
  else console.log(code, answer.body);
}

/** Replies only the clicker sees would otherwise be invisible here: print them. */
async function showEphemerals(): Promise<void> {
  await new Promise((r) => setTimeout(r, 300));
  const calls = (await (await fetch(`${sim}/__sim/calls`)).json()) as {
    method: string;
    args: Record<string, unknown>;
    at: number;
  }[];
  const recent = calls.filter(
    (c) => (c.method === "chat.postEphemeral" || c.method === "response_url") && c.at > started,
  );
  for (const c of recent) {
    const body = c.args.blocks ? textOf(c.args.blocks) : String(c.args.text ?? "");
    console.log(`(only ${userId} sees)\n${body}`);
  }
}

/** The text people would read in a list of blocks. */
function textOf(node: unknown): string {
  if (Array.isArray(node)) return node.map(textOf).filter(Boolean).join("\n");
  if (!node || typeof node !== "object") return "";
  const n = node as Record<string, unknown>;
  if (typeof n.text === "string") return n.text;
  return Object.values(n).map(textOf).filter(Boolean).join("\n");
}

/** After /jc-update: which labels the modal offers, for `slack-send submit`. */
async function showForm(viewsBefore: number): Promise<void> {
  await new Promise((r) => setTimeout(r, 1000));
  const views = (await (await fetch(`${sim}/__sim/views`)).json()) as {
    userId?: string;
    view: { callback_id: string; blocks: Block[] };
  }[];
  const open = views
    .slice(viewsBefore)
    .filter((v) => v.userId === userId)
    .at(-1);
  if (!open) return;
  if (open.view.callback_id !== ids.requestModal.callbackId) {
    console.log(`modal: ${textOf(open.view.blocks)}`);
    return;
  }
  const fields = open.view.blocks
    .filter((b) => b.type === "input" && b.label)
    .map((b) => `  ${b.label?.text}${b.element?.initial_value ? ` = ${b.element.initial_value}` : ""}`);
  console.log(`modal open; fields for 'slack-send submit ${userId} "Label=value" …':\n${fields.join("\n")}`);
}
