/**
 * Sends requests to the app under test the way Slack does (shared/reference/
 * slack-payload-examples.json `_about.wire_rules`):
 * - POST to `${baseUrl}/slack/events`, Content-Type exactly `application/x-www-form-urlencoded`
 *   (Bolt compares it with ===; fetch() with a URLSearchParams body would add `;charset=UTF-8`,
 *   so the body is sent as a string);
 * - slash commands: the form fields are the body; interactions: one field `payload=<JSON>`;
 * - x-slack-signature = 'v0=' + hex(HMAC-SHA256(secret, `v0:${timestamp}:${rawBody}`)) over the
 *   exact bytes sent; x-slack-request-timestamp in seconds (Bolt refuses older than 5 minutes).
 */
import { createHmac } from "node:crypto";
import { ids } from "../../src/slack/ids.js";

export interface SlashCommandFields {
  token: string;
  team_id: string;
  team_domain: string;
  channel_id: string;
  channel_name: string;
  user_id: string;
  user_name: string;
  command: string;
  text: string;
  api_app_id: string;
  /** A string in slash commands ("true"/"false"), unlike interaction payloads. */
  is_enterprise_install: string;
  response_url: string;
  trigger_id: string;
}

export interface SendOptions {
  /** Seconds since epoch for x-slack-request-timestamp (default: now). */
  timestamp?: number;
  /** Overrides the computed x-slack-signature (to test rejection). */
  signature?: string;
  /** Sends neither x-slack-signature nor x-slack-request-timestamp. */
  omitHeaders?: boolean;
  /** Extra or overriding headers. */
  headers?: Record<string, string>;
  /** Path of the request URL (default /slack/events). */
  path?: string;
}

export interface SlackHttpResponse {
  status: number;
  body: string;
  /** The body parsed as JSON, when it is JSON. */
  json?: unknown;
  headers: Headers;
}

export const FORM_CONTENT_TYPE = "application/x-www-form-urlencoded";

/** `v0=` + hex HMAC-SHA256 of `v0:${timestamp}:${rawBody}` with the signing secret. */
export function signBody(secret: string, timestamp: number | string, rawBody: string): string {
  return `v0=${createHmac("sha256", secret).update(`v0:${timestamp}:${rawBody}`).digest("hex")}`;
}

/**
 * Percent-encodes like Python's urllib (what generated the reference bodies): only
 * A-Z a-z 0-9 - _ . ~ stay as they are; space is `+` (urlencode) or `%20` (quote).
 */
export function formEncodeValue(value: string, space: "+" | "%20" = "+"): string {
  return encodeURIComponent(value)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, space);
}

/** Encodes fields in insertion order as an application/x-www-form-urlencoded body. */
export function formEncode(fields: Record<string, string>, space: "+" | "%20" = "+"): string {
  return Object.entries(fields)
    .map(([k, v]) => `${formEncodeValue(k, space)}=${formEncodeValue(v, space)}`)
    .join("&");
}

/** The raw body of an interaction: `payload=<urlencoded JSON>` (Slack encodes spaces as %20). */
export function interactionBody(payload: object): string {
  return `payload=${formEncodeValue(JSON.stringify(payload), "%20")}`;
}

/** Signs and POSTs a raw form body to the app. */
export async function sendSignedForm(
  baseUrl: string,
  secret: string,
  rawBody: string,
  opts: SendOptions = {},
): Promise<SlackHttpResponse> {
  const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = { "content-type": FORM_CONTENT_TYPE };
  if (!opts.omitHeaders) {
    headers["x-slack-request-timestamp"] = String(timestamp);
    headers["x-slack-signature"] = opts.signature ?? signBody(secret, timestamp, rawBody);
  }
  Object.assign(headers, opts.headers);
  const url = `${baseUrl.replace(/\/+$/, "")}${opts.path ?? "/slack/events"}`;
  const res = await fetch(url, { method: "POST", headers, body: rawBody });
  const body = await res.text();
  const out: SlackHttpResponse = { status: res.status, body, headers: res.headers };
  if (body.length > 0) {
    try {
      out.json = JSON.parse(body);
    } catch {
      // not JSON (Bolt answers an empty body or plain text for some acks)
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Builders (defaults from the reference payloads)

const TEAM = { id: "T0000000001", domain: "example-workspace" };
const APP_ID = "A0000000001";
const VERIFICATION_TOKEN = "PLACEHOLDER_VERIFICATION_TOKEN";

/** Slash command fields for `/jc-update` by U0000000001 in C0000000001; override any field. */
export function slashCommandFields(overrides: Partial<SlashCommandFields> = {}): SlashCommandFields {
  return {
    token: VERIFICATION_TOKEN,
    team_id: TEAM.id,
    team_domain: TEAM.domain,
    channel_id: "C0000000001",
    channel_name: "jc-updates",
    user_id: "U0000000001",
    user_name: "requester.name",
    command: "/jc-update",
    text: "",
    api_app_id: APP_ID,
    is_enterprise_install: "false",
    response_url: "https://hooks.slack.com/commands/T0000000001/1111111111111/PLACEHOLDERresponseUrlSecret",
    trigger_id: "1111111111111.2222222222.0123456789abcdef0123456789abcdef",
    ...overrides,
  };
}

/** Sends a signed slash command (fields merged over slashCommandFields() defaults). */
export function sendSlashCommand(
  baseUrl: string,
  secret: string,
  fields: Partial<SlashCommandFields> = {},
  opts: SendOptions = {},
): Promise<SlackHttpResponse> {
  const full = slashCommandFields(fields);
  return sendSignedForm(baseUrl, secret, formEncode({ ...full }), opts);
}

/** Sends a signed interaction (block_actions, view_submission, view_closed…). */
export function sendInteraction(
  baseUrl: string,
  secret: string,
  payload: object,
  opts: SendOptions = {},
): Promise<SlackHttpResponse> {
  return sendSignedForm(baseUrl, secret, interactionBody(payload), opts);
}

export interface SlackUserRef {
  id: string;
  username: string;
  name: string;
  team_id: string;
}

function userRef(user: string | Partial<SlackUserRef> | undefined, fallbackId: string): SlackUserRef {
  const u = typeof user === "string" ? { id: user } : (user ?? {});
  const id = u.id ?? fallbackId;
  const name = u.name ?? u.username ?? id.toLowerCase();
  return { id, username: u.username ?? name, name, team_id: u.team_id ?? TEAM.id };
}

export interface ViewSubmissionInput {
  /** A user id or a user object (default U0000000001). */
  user?: string | Partial<SlackUserRef>;
  view: {
    id?: string;
    callback_id: string;
    private_metadata?: string;
    hash?: string;
    /** `{ [block_id]: { [action_id]: { type, value | selected_option | selected_user … } } }` */
    state: { values: Record<string, Record<string, unknown>> };
    blocks?: unknown[];
    title?: unknown;
    external_id?: string;
    root_view_id?: string;
    previous_view_id?: string | null;
  };
  trigger_id?: string;
  /** response_urls when the modal has response_url_enabled inputs. */
  response_urls?: unknown[];
}

/** A view_submission payload shaped like the reference (view fields merged over defaults). */
export function viewSubmissionPayload(input: ViewSubmissionInput): Record<string, unknown> {
  const user = userRef(input.user, "U0000000001");
  const viewId = input.view.id ?? "V0000000001";
  return {
    type: "view_submission",
    team: { ...TEAM },
    user,
    api_app_id: APP_ID,
    token: VERIFICATION_TOKEN,
    trigger_id: input.trigger_id ?? "1111111111111.2222222222.fedcba9876543210fedcba9876543210",
    view: {
      id: viewId,
      team_id: TEAM.id,
      type: "modal",
      blocks: input.view.blocks ?? [],
      private_metadata: input.view.private_metadata ?? "",
      callback_id: input.view.callback_id,
      state: input.view.state,
      hash: input.view.hash ?? "1700000000.AbCdEf12",
      title: input.view.title ?? { type: "plain_text", text: "JumpCloud update", emoji: true },
      clear_on_close: false,
      notify_on_close: false,
      close: { type: "plain_text", text: "Cancel", emoji: true },
      submit: { type: "plain_text", text: "Submit", emoji: true },
      previous_view_id: input.view.previous_view_id ?? null,
      root_view_id: input.view.root_view_id ?? viewId,
      app_id: APP_ID,
      external_id: input.view.external_id ?? "",
      app_installed_team_id: TEAM.id,
      bot_id: "B0000000001",
    },
    response_urls: input.response_urls ?? [],
    is_enterprise_install: false,
    enterprise: null,
  };
}

export interface BlockActionsInput {
  user?: string | Partial<SlackUserRef>;
  action_id: string;
  value?: string;
  block_id?: string;
  /** Channel of the message holding the button (default C0000000002). */
  channel?: string;
  message_ts?: string;
  trigger_id?: string;
  /** The message as Slack would send it back (default: a minimal bot message). */
  message?: Record<string, unknown>;
  response_url?: string;
  action_ts?: string;
}

/** A block_actions payload for a button click on a channel message (shape of the reference). */
export function blockActionsPayload(input: BlockActionsInput): Record<string, unknown> {
  const user = userRef(input.user, "U0000000002");
  const channel = input.channel ?? "C0000000002";
  const messageTs = input.message_ts ?? "1700000100.000200";
  const action: Record<string, unknown> = {
    action_id: input.action_id,
    block_id: input.block_id ?? "jc_decision",
    text: { type: "plain_text", text: input.action_id, emoji: true },
    type: "button",
    action_ts: input.action_ts ?? `${Math.floor(Date.now() / 1000)}.000001`,
  };
  if (input.value !== undefined) action.value = input.value;
  return {
    type: "block_actions",
    user,
    api_app_id: APP_ID,
    token: VERIFICATION_TOKEN,
    container: { type: "message", message_ts: messageTs, channel_id: channel, is_ephemeral: false },
    trigger_id: input.trigger_id ?? "1111111111111.2222222222.00112233445566778899aabbccddeeff",
    team: { ...TEAM },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: channel, name: "jc-approvals" },
    message: input.message ?? {
      user: "U0000000BOT",
      type: "message",
      ts: messageTs,
      bot_id: "B0000000001",
      app_id: APP_ID,
      text: "",
      team: TEAM.id,
      blocks: [],
    },
    state: { values: {} },
    response_url:
      input.response_url ?? "https://hooks.slack.com/actions/T0000000001/3333333333333/PLACEHOLDERresponseUrlSecret",
    actions: [action],
  };
}

/** A view_closed payload (modal closed with notify_on_close). */
export function viewClosedPayload(input: {
  user?: string | Partial<SlackUserRef>;
  view: { id?: string; callback_id: string; private_metadata?: string };
}): Record<string, unknown> {
  const user = userRef(input.user, "U0000000001");
  return {
    type: "view_closed",
    team: { ...TEAM },
    user,
    api_app_id: APP_ID,
    token: VERIFICATION_TOKEN,
    view: {
      id: input.view.id ?? "V0000000001",
      team_id: TEAM.id,
      type: "modal",
      callback_id: input.view.callback_id,
      private_metadata: input.view.private_metadata ?? "",
      state: { values: {} },
    },
    is_cleared: false,
    is_enterprise_install: false,
    enterprise: null,
  };
}

/** view.state.values of a submitted `/jc-update bulk` form: pasted text and/or uploaded files. */
export function bulkFormValues(input: { csv?: string | null; files?: unknown[]; reason: string }) {
  const m = ids.bulkModal;
  return {
    [m.csvBlock]: { [m.csvAction]: { type: "plain_text_input", value: input.csv ?? null } },
    [m.fileBlock]: { [m.fileAction]: { type: "file_input", files: input.files ?? [] } },
    [m.reasonBlock]: { [m.reasonAction]: { type: "plain_text_input", value: input.reason } },
  };
}
