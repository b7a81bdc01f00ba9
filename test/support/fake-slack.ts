/**
 * A fake Slack Web API on a real HTTP server, for @slack/web-api's WebClient (Bolt 5) pointed at
 * it with `slackApiUrl: fake.url` (SLACK_API_URL). WebClient POSTs
 * application/x-www-form-urlencoded to `<slackApiUrl><method>` with the token in
 * `Authorization: Bearer xoxb-…`; object arguments (view, blocks, attachments) arrive as JSON
 * strings and are decoded here. Answers are HTTP 200 JSON with ok true/false, or HTTP 429 with
 * Retry-After for rate limits (shapes from shared/reference/slack-payload-examples.json).
 *
 * It enforces the Block Kit limits apps trip over in production (sizes, counts, unique ids, input
 * blocks only in views, trigger_id single use within 3 s) so tests fail where Slack would.
 * It also serves response_url endpoints (`responseUrl()`) and files.uploadV2's upload URLs.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";

// ---------------------------------------------------------------------------------------------
// Types

export type SlackArgs = Record<string, unknown>;

export interface SlackCall {
  /** Web API method (e.g. "chat.postMessage"), or "response_url" for posts to a responseUrl(). */
  method: string;
  /** Decoded arguments: form fields, with view/blocks/attachments/files/metadata JSON-parsed. */
  args: SlackArgs;
  at: number;
  /** The JSON answered (ok, error…). */
  response: Record<string, unknown>;
  /** HTTP status answered (200, or 429/5xx from failNext). */
  status: number;
}

export interface FakeSlackUser {
  id: string;
  email?: string;
  name?: string;
  realName?: string;
  displayName?: string;
  isBot?: boolean;
  deleted?: boolean;
}

export interface StoredMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: unknown[] | undefined;
  thread_ts?: string;
  /** How many chat.update calls changed it. */
  updates: number;
}

export interface StoredView {
  /** The view as Slack would return it (id, hash, state, root_view_id… plus what the app sent). */
  view: Record<string, unknown>;
  hash: string;
  /** The user the trigger was issued for (issueTrigger(userId)). */
  userId?: string;
}

export interface EphemeralMessage {
  channel: string;
  user: string;
  text: string;
  blocks: unknown[] | undefined;
  thread_ts?: string;
  message_ts: string;
}

export interface DirectMessage {
  /** The DM channel id ("D" + user id). */
  channel: string;
  userId: string;
  ts: string;
  text: string;
  blocks: unknown[] | undefined;
  thread_ts?: string;
}

export interface FileUpload {
  id: string;
  filename: string;
  title: string;
  /** Uploaded bytes as UTF-8 text. */
  content: string;
  channel?: string;
  thread_ts?: string;
  initial_comment?: string;
}

/** A file a user picked in a modal's file_input, as the view_submission state lists it. */
export interface HostedFile {
  id: string;
  name: string;
  title: string;
  filetype: string;
  mimetype: string;
  size: number;
  url_private: string;
  url_private_download: string;
}

export interface FileDownload {
  id: string;
  /** Whether the request carried a valid bot token (the token itself is never kept). */
  authorized: boolean;
}

export interface ResponseUrlPost {
  path: string;
  body: unknown;
  at: number;
}

export interface FailNextOptions {
  /** Slack error code for an HTTP 200 `{ok:false, error}` answer (default "fatal_error"). */
  error?: string;
  /** HTTP status: 429 answers `{ok:false,error:"ratelimited"}` with Retry-After. */
  status?: number;
  /** Seconds for Retry-After (429 only, default 1). */
  retryAfter?: number;
  /** How many calls fail (default 1). */
  count?: number;
}

export interface FakeSlackOptions {
  port?: number;
  host?: string;
  /** When set, calls with another token get invalid_auth. Any non-empty token is accepted otherwise. */
  token?: string;
  /** Lifetime of trigger_ids (Slack: 3 s). */
  triggerTtlMs?: number;
  /** Clock used for trigger expiry and message ts (tests can inject a manual clock). */
  now?: () => number;
}

export interface FakeSlack {
  /** Base URL of the fake Web API, ending in /api/ (use as slackApiUrl / SLACK_API_URL). */
  readonly url: string;
  /** http://host:port without a trailing slash. */
  readonly baseUrl: string;
  readonly port: number;
  readonly teamId: string;
  readonly botUserId: string;
  readonly calls: SlackCall[];
  readonly messages: Map<string, StoredMessage>;
  readonly views: Map<string, StoredView>;
  readonly ephemerals: EphemeralMessage[];
  readonly dms: DirectMessage[];
  readonly uploads: FileUpload[];
  readonly downloads: FileDownload[];
  readonly responses: ResponseUrlPost[];
  readonly users: Map<string, FakeSlackUser>;
  /** false: users.info omits profile.email (app installed without users:read.email). */
  emailScope: boolean;
  /** false: file downloads answer Slack's HTML login page (app installed without files:read). */
  filesScope: boolean;
  /** A file as if a user uploaded it in a file_input; downloadable with the bot token. */
  hostFile(name: string, content: string | Buffer): HostedFile;
  callsTo(method: string): SlackCall[];
  /** Resolves with the first call (past or future) to `method` matching `predicate`. */
  waitFor(method: string, predicate?: (call: SlackCall) => boolean, timeoutMs?: number): Promise<SlackCall>;
  addUser(user: FakeSlackUser): void;
  setUsergroup(id: string, userIds: string[]): void;
  /** A new trigger_id, usable once within triggerTtlMs. */
  issueTrigger(userId?: string): string;
  failNext(method: string, options?: FailNextOptions): void;
  setChannelMembers(channelId: string, isBotMember: boolean): void;
  /** A URL on this server to use as a slash command's / interaction's response_url. */
  responseUrl(): string;
  /** Messages of a channel (DMs: "D" + user id), oldest first. */
  messagesIn(channel: string): StoredMessage[];
  /** Clears traffic and conversation state; keeps users, usergroups, channel membership, emailScope. */
  reset(): void;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Block Kit validation (limits from api.slack.com/reference/block-kit)

const MESSAGE_MAX_BLOCKS = 50;
const MODAL_MAX_BLOCKS = 100;
const MESSAGE_TEXT_MAX = 40000;
const KNOWN_BLOCK_TYPES = new Set([
  "section",
  "header",
  "divider",
  "context",
  "actions",
  "input",
  "rich_text",
  "image",
]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Collects Slack-style messages: `[ERROR] <what> [json-pointer:/blocks/0/text/text]`. */
class Problems {
  readonly list: string[] = [];
  add(pointer: string, message: string): void {
    this.list.push(`[ERROR] ${message} [json-pointer:${pointer}]`);
  }
  /** Slack phrases a maximum of N as "must be less than N+1 characters". */
  maxLength(pointer: string, value: unknown, max: number): void {
    if (typeof value === "string" && value.length > max) this.add(pointer, `must be less than ${max + 1} characters`);
  }
}

interface TextRule {
  max: number;
  plainOnly?: boolean;
  required?: boolean;
}

function checkText(p: Problems, obj: unknown, pointer: string, rule: TextRule): void {
  if (obj === undefined) {
    if (rule.required) p.add(pointer, "missing required field");
    return;
  }
  if (!isRecord(obj)) return p.add(pointer, "must be a text object");
  if (rule.plainOnly && obj.type !== "plain_text") return p.add(`${pointer}/type`, "must be plain_text");
  if (obj.type !== "plain_text" && obj.type !== "mrkdwn")
    return p.add(`${pointer}/type`, "must be plain_text or mrkdwn");
  if (typeof obj.text !== "string") return p.add(`${pointer}/text`, "missing required field: text");
  if (obj.text.length === 0) p.add(`${pointer}/text`, "must be more than 0 characters");
  p.maxLength(`${pointer}/text`, obj.text, rule.max);
}

function checkOptions(p: Problems, options: unknown, pointer: string, max: number): void {
  if (options === undefined) return;
  if (!Array.isArray(options)) return p.add(pointer, "must be an array");
  if (options.length > max) p.add(pointer, `must provide at most ${max} items`);
  options.forEach((opt, i) => {
    if (!isRecord(opt)) return p.add(`${pointer}/${i}`, "must be an option object");
    checkText(p, opt.text, `${pointer}/${i}/text`, { max: 75, required: true });
    p.maxLength(`${pointer}/${i}/value`, opt.value, 150);
  });
}

function optionKey(option: unknown): string {
  if (!isRecord(option)) return "";
  const text = isRecord(option.text) ? option.text.text : undefined;
  return JSON.stringify([option.value, text]);
}

function checkElement(p: Problems, el: unknown, pointer: string): void {
  if (!isRecord(el) || typeof el.type !== "string") return p.add(`${pointer}/type`, "missing required field: type");
  p.maxLength(`${pointer}/action_id`, el.action_id, 255);
  checkText(p, el.placeholder, `${pointer}/placeholder`, { max: 150, plainOnly: true });
  switch (el.type) {
    case "button":
      checkText(p, el.text, `${pointer}/text`, { max: 75, plainOnly: true, required: true });
      p.maxLength(`${pointer}/value`, el.value, 2000);
      p.maxLength(`${pointer}/url`, el.url, 3000);
      if (el.style !== undefined && el.style !== "primary" && el.style !== "danger") {
        p.add(`${pointer}/style`, "must be primary or danger");
      }
      break;
    case "plain_text_input": {
      const max = el.max_length;
      if (max !== undefined && (typeof max !== "number" || max < 1 || max > 3000)) {
        p.add(`${pointer}/max_length`, "must be between 1 and 3000");
      }
      if (el.min_length !== undefined && (typeof el.min_length !== "number" || el.min_length > 3000)) {
        p.add(`${pointer}/min_length`, "must be at most 3000");
      }
      if (el.initial_value !== undefined) {
        if (typeof el.initial_value !== "string") p.add(`${pointer}/initial_value`, "must be a string");
        else {
          p.maxLength(`${pointer}/initial_value`, el.initial_value, 3000);
          if (typeof max === "number" && el.initial_value.length > max) {
            p.add(`${pointer}/initial_value`, `must be less than ${max + 1} characters (max_length)`);
          }
        }
      }
      break;
    }
    case "static_select":
    case "multi_static_select": {
      checkOptions(p, el.options, `${pointer}/options`, 100);
      // Slack requires initial options to be among the options.
      const known = new Set(Array.isArray(el.options) ? el.options.map(optionKey) : []);
      const initial =
        el.type === "static_select" ? (el.initial_option === undefined ? [] : [el.initial_option]) : el.initial_options;
      if (Array.isArray(el.options) && Array.isArray(initial)) {
        for (const opt of initial) {
          if (!known.has(optionKey(opt))) p.add(`${pointer}/initial_option`, "must match one of the provided options");
        }
      }
      break;
    }
    case "file_input":
      if (el.max_files !== undefined && (typeof el.max_files !== "number" || el.max_files < 1 || el.max_files > 10)) {
        p.add(`${pointer}/max_files`, "must be between 1 and 10");
      }
      if (el.filetypes !== undefined && !Array.isArray(el.filetypes)) p.add(`${pointer}/filetypes`, "must be an array");
      break;
    case "checkboxes":
    case "radio_buttons":
      checkOptions(p, el.options, `${pointer}/options`, 10);
      break;
    case "overflow":
      checkOptions(p, el.options, `${pointer}/options`, 5);
      break;
    default:
      break;
  }
}

function checkBlocks(p: Problems, blocks: unknown, pointer: string, surface: "message" | "modal"): void {
  if (!Array.isArray(blocks)) return p.add(pointer, "must be an array");
  const max = surface === "message" ? MESSAGE_MAX_BLOCKS : MODAL_MAX_BLOCKS;
  if (blocks.length > max) p.add(pointer, `no more than ${max} items allowed`);
  const blockIds = new Set<string>();
  blocks.forEach((block, i) => {
    const at = `${pointer}/${i}`;
    if (!isRecord(block)) return p.add(at, "must be an object");
    if (typeof block.type !== "string" || !KNOWN_BLOCK_TYPES.has(block.type)) {
      return p.add(`${at}/type`, `unknown or missing block type ${JSON.stringify(block.type)}`);
    }
    if (block.block_id !== undefined) {
      if (typeof block.block_id !== "string") p.add(`${at}/block_id`, "must be a string");
      else {
        p.maxLength(`${at}/block_id`, block.block_id, 255);
        if (blockIds.has(block.block_id)) p.add(`${at}/block_id`, `duplicate block_id ${block.block_id}`);
        blockIds.add(block.block_id);
      }
    }
    switch (block.type) {
      case "section":
        if (block.text === undefined && block.fields === undefined) {
          p.add(at, "must provide either text or fields");
        }
        checkText(p, block.text, `${at}/text`, { max: 3000 });
        if (block.fields !== undefined) {
          if (!Array.isArray(block.fields)) p.add(`${at}/fields`, "must be an array");
          else {
            if (block.fields.length > 10) p.add(`${at}/fields`, "no more than 10 items allowed");
            block.fields.forEach((f, j) => checkText(p, f, `${at}/fields/${j}`, { max: 2000, required: true }));
          }
        }
        if (block.accessory !== undefined) checkElement(p, block.accessory, `${at}/accessory`);
        break;
      case "header":
        checkText(p, block.text, `${at}/text`, { max: 150, plainOnly: true, required: true });
        break;
      case "context":
        if (!Array.isArray(block.elements) || block.elements.length === 0) {
          p.add(`${at}/elements`, "must provide at least 1 item");
        } else {
          if (block.elements.length > 10) p.add(`${at}/elements`, "no more than 10 items allowed");
          block.elements.forEach((el, j) => {
            if (isRecord(el) && el.type === "image") return;
            checkText(p, el, `${at}/elements/${j}`, { max: 3000, required: true });
          });
        }
        break;
      case "actions":
        if (!Array.isArray(block.elements) || block.elements.length === 0) {
          p.add(`${at}/elements`, "must provide at least 1 item");
        } else {
          if (block.elements.length > 25) p.add(`${at}/elements`, "no more than 25 items allowed");
          const actionIds = new Set<string>();
          block.elements.forEach((el, j) => {
            checkElement(p, el, `${at}/elements/${j}`);
            // action_id must be unique among the elements of its block.
            if (isRecord(el) && typeof el.action_id === "string") {
              if (actionIds.has(el.action_id))
                p.add(`${at}/elements/${j}/action_id`, `duplicate action_id ${el.action_id}`);
              actionIds.add(el.action_id);
            }
          });
        }
        break;
      case "input":
        if (surface === "message") {
          p.add(at, "input blocks are only allowed in modals and Home tabs, not in messages");
          break;
        }
        checkText(p, block.label, `${at}/label`, { max: 2000, plainOnly: true, required: true });
        checkText(p, block.hint, `${at}/hint`, { max: 2000, plainOnly: true });
        if (block.element === undefined) p.add(`${at}/element`, "missing required field: element");
        else checkElement(p, block.element, `${at}/element`);
        break;
      case "image":
        if (block.image_url === undefined && block.slack_file === undefined) {
          p.add(`${at}/image_url`, "missing required field: image_url");
        }
        p.maxLength(`${at}/image_url`, block.image_url, 3000);
        if (typeof block.alt_text !== "string") p.add(`${at}/alt_text`, "missing required field: alt_text");
        p.maxLength(`${at}/alt_text`, block.alt_text, 2000);
        checkText(p, block.title, `${at}/title`, { max: 2000, plainOnly: true });
        break;
      case "rich_text":
        if (!Array.isArray(block.elements)) p.add(`${at}/elements`, "missing required field: elements");
        break;
      default:
        break;
    }
  });
}

/** Validates a view for views.open/push/update; pointers start at /view. */
function checkView(view: unknown): string[] {
  const p = new Problems();
  if (!isRecord(view)) {
    p.add("/view", "must be an object");
    return p.list;
  }
  if (view.type !== "modal" && view.type !== "home") p.add("/view/type", "must be modal or home");
  const modal = view.type === "modal";
  checkText(p, view.title, "/view/title", { max: 24, plainOnly: true, required: modal });
  checkText(p, view.submit, "/view/submit", { max: 24, plainOnly: true });
  checkText(p, view.close, "/view/close", { max: 24, plainOnly: true });
  p.maxLength("/view/callback_id", view.callback_id, 255);
  p.maxLength("/view/private_metadata", view.private_metadata, 3000);
  p.maxLength("/view/external_id", view.external_id, 255);
  if (view.blocks === undefined) p.add("/view/blocks", "missing required field: blocks");
  else checkBlocks(p, view.blocks, "/view/blocks", "modal");
  // A modal with input blocks needs a submit button.
  if (modal && view.submit === undefined && Array.isArray(view.blocks)) {
    if (view.blocks.some((b) => isRecord(b) && b.type === "input")) {
      p.add("/view/submit", "submit is required when blocks contain an input block");
    }
  }
  return p.list;
}

// ---------------------------------------------------------------------------------------------
// HTTP helpers

const JSON_ARGS = new Set(["view", "blocks", "attachments", "files", "metadata"]);

function decodeArgs(raw: Record<string, unknown>): SlackArgs {
  const args: SlackArgs = {};
  for (const [key, value] of Object.entries(raw)) {
    if (JSON_ARGS.has(key) && typeof value === "string") {
      try {
        args[key] = JSON.parse(value);
      } catch {
        args[key] = value; // left as a string: validation reports it
      }
    } else {
      args[key] = value;
    }
  }
  return args;
}

async function readRaw(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The file part of a multipart/form-data body (WebClient uploads a Blob in field "body"). */
function multipartFile(body: Buffer, contentType: string): Buffer | undefined {
  const match = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const boundary = match?.[1] ?? match?.[2];
  if (!boundary) return undefined;
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Buffer[] = [];
  let start = body.indexOf(delimiter);
  while (start >= 0) {
    const next = body.indexOf(delimiter, start + delimiter.length);
    if (next < 0) break;
    parts.push(body.subarray(start + delimiter.length, next));
    start = next;
  }
  let fallback: Buffer | undefined;
  for (const part of parts) {
    const headerEnd = part.indexOf("\r\n\r\n");
    if (headerEnd < 0) continue;
    const headers = part.subarray(0, headerEnd).toString("utf8");
    let content = part.subarray(headerEnd + 4);
    if (content.subarray(-2).toString() === "\r\n") content = content.subarray(0, -2);
    if (/filename=/i.test(headers)) return content;
    fallback ??= content;
  }
  return fallback;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : typeof value === "number" ? String(value) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Server

type MethodResult = Record<string, unknown>;

interface PendingFailure extends FailNextOptions {
  remaining: number;
}

const TEAM_ID = "T0000000001";
const BOT_USER_ID = "U0000000BOT";
const BOT_ID = "B0000000001";
const APP_ID = "A0000000001";

export async function startFakeSlack(options: FakeSlackOptions = {}): Promise<FakeSlack> {
  const now = options.now ?? Date.now;
  const triggerTtlMs = options.triggerTtlMs ?? 3000; // Slack: a trigger_id expires after 3 seconds
  const host = options.host ?? "127.0.0.1";

  const calls: SlackCall[] = [];
  const messages = new Map<string, StoredMessage>();
  const views = new Map<string, StoredView>();
  const ephemerals: EphemeralMessage[] = [];
  const dms: DirectMessage[] = [];
  const uploads: FileUpload[] = [];
  const responses: ResponseUrlPost[] = [];
  const users = new Map<string, FakeSlackUser>();
  const usergroups = new Map<string, string[]>();
  const channelMembership = new Map<string, boolean>();
  const triggers = new Map<string, { issuedAt: number; used: boolean; userId?: string }>();
  const failures = new Map<string, PendingFailure[]>();
  const pendingFiles = new Map<string, { filename: string; length: number; content?: string }>();
  const hostedFiles = new Map<string, Buffer>();
  const downloads: FileDownload[] = [];
  const openedDms = new Set<string>();
  const watchers = new Set<() => void>();
  let lastTsMicros = 0;
  let counter = 0;
  let baseUrl = "";

  users.set(BOT_USER_ID, { id: BOT_USER_ID, name: "jc-bot", realName: "JC Update Bot", isBot: true });

  const seq = (): number => {
    counter += 1;
    return counter;
  };

  /** Strictly increasing message ts like "1700000100.000200". */
  const nextTs = (): string => {
    lastTsMicros = Math.max(lastTsMicros + 100, now() * 1000);
    const seconds = Math.floor(lastTsMicros / 1_000_000);
    const micros = lastTsMicros % 1_000_000;
    return `${seconds}.${String(micros).padStart(6, "0")}`;
  };
  const newHash = (): string => `${Math.floor(now() / 1000)}.${randomBytes(4).toString("hex")}`;
  const msgKey = (channel: string, ts: string): string => `${channel}:${ts}`;

  /** U… channels are DMs addressed by user id (Slack answers with the D… channel). */
  const resolveChannel = (channel: string): string =>
    channel.startsWith("U") || channel.startsWith("W") ? `D${channel}` : channel;

  const userPayload = (u: FakeSlackUser): MethodResult => {
    const name = u.name ?? u.id.toLowerCase();
    const realName = u.realName ?? name;
    const profile: Record<string, unknown> = {
      real_name: realName,
      real_name_normalized: realName,
      display_name: u.displayName ?? name,
      display_name_normalized: u.displayName ?? name,
    };
    if (service.emailScope && u.email !== undefined) profile.email = u.email;
    return {
      id: u.id,
      team_id: TEAM_ID,
      name,
      deleted: u.deleted ?? false,
      real_name: realName,
      is_bot: u.isBot ?? false,
      is_app_user: false,
      profile,
    };
  };

  const invalidBlocks = (problems: string[]): MethodResult => ({
    ok: false,
    error: "invalid_blocks",
    errors: problems,
    response_metadata: { messages: problems },
  });

  /** Validates text/blocks of chat.* calls; undefined when fine. */
  const checkMessage = (args: SlackArgs, requireContent: boolean): MethodResult | undefined => {
    const text = args.text;
    const blocks = args.blocks;
    if (
      requireContent &&
      (text === undefined || text === "") &&
      blocks === undefined &&
      args.attachments === undefined
    ) {
      return { ok: false, error: "no_text" };
    }
    if (typeof text === "string" && text.length > MESSAGE_TEXT_MAX) return { ok: false, error: "msg_too_long" };
    if (blocks !== undefined) {
      if (typeof blocks === "string") return { ok: false, error: "invalid_blocks_format" };
      const p = new Problems();
      checkBlocks(p, blocks, "/blocks", "message");
      if (p.list.length > 0) return invalidBlocks(p.list);
    }
    return undefined;
  };

  /** Channel checks for posting: DMs need a known user; channels need the bot as a member. */
  const checkPostChannel = (channel: string): MethodResult | undefined => {
    if (channel === "") return { ok: false, error: "channel_not_found" };
    if (channel.startsWith("D")) {
      const userId = channel.slice(1);
      if (!openedDms.has(channel) && !users.has(userId)) return { ok: false, error: "channel_not_found" };
      return undefined;
    }
    if (channelMembership.get(channel) === false) return { ok: false, error: "not_in_channel" };
    return undefined;
  };

  const checkTrigger = (args: SlackArgs): { error: MethodResult } | { userId?: string; consume: () => void } => {
    const id = str(args.trigger_id) ?? str(args.interactivity_pointer);
    const trigger = id === undefined ? undefined : triggers.get(id);
    if (!id || !trigger) return { error: { ok: false, error: "invalid_trigger_id" } };
    if (trigger.used || now() - trigger.issuedAt > triggerTtlMs)
      return { error: { ok: false, error: "expired_trigger_id" } };
    return {
      userId: trigger.userId,
      consume: () => {
        trigger.used = true;
      },
    };
  };

  const storeView = (view: Record<string, unknown>, userId: string | undefined, previous?: StoredView): StoredView => {
    const id = previous ? String(previous.view.id) : `V${String(seq()).padStart(10, "0")}`;
    const hash = newHash();
    const full: Record<string, unknown> = {
      id,
      team_id: TEAM_ID,
      type: view.type ?? "modal",
      callback_id: "",
      private_metadata: "",
      external_id: "",
      clear_on_close: false,
      notify_on_close: false,
      previous_view_id: null,
      root_view_id: previous?.view.root_view_id ?? id,
      app_id: APP_ID,
      app_installed_team_id: TEAM_ID,
      bot_id: BOT_ID,
      ...view,
      hash,
      state: { values: {} },
    };
    full.id = id;
    // An update that omits external_id keeps the one the view had.
    if (previous && view.external_id === undefined) full.external_id = previous.view.external_id ?? "";
    const stored: StoredView = { view: full, hash, userId: userId ?? previous?.userId };
    views.set(id, stored);
    return stored;
  };

  const findView = (args: SlackArgs): StoredView | undefined => {
    const viewId = str(args.view_id);
    if (viewId) return views.get(viewId);
    const externalId = str(args.external_id);
    if (externalId) return [...views.values()].find((v) => v.view.external_id === externalId);
    return undefined;
  };

  const duplicateExternalId = (view: Record<string, unknown>, except?: string): boolean => {
    const ext = view.external_id;
    if (typeof ext !== "string" || ext === "") return false;
    return [...views.values()].some((v) => v.view.id !== except && v.view.external_id === ext);
  };

  const viewError = (problems: string[]): MethodResult => ({
    ok: false,
    error: "invalid_arguments",
    response_metadata: { messages: problems },
  });

  const methods: Record<string, (args: SlackArgs) => MethodResult> = {
    "auth.test": () => ({
      ok: true,
      url: "https://example-workspace.slack.com/",
      team: "Example Workspace",
      user: "jc-bot",
      team_id: TEAM_ID,
      user_id: BOT_USER_ID,
      bot_id: BOT_ID,
      is_enterprise_install: false,
    }),

    "views.open": (args) => openOrPush(args),
    "views.push": (args) => openOrPush(args),

    "views.update": (args) => {
      const stored = findView(args);
      if (!stored) return { ok: false, error: "not_found" };
      const hash = str(args.hash);
      if (hash !== undefined && hash !== "" && hash !== stored.hash) return { ok: false, error: "hash_conflict" };
      const problems = checkView(args.view);
      if (problems.length > 0) return viewError(problems);
      const view = args.view as Record<string, unknown>;
      if (duplicateExternalId(view, String(stored.view.id))) return { ok: false, error: "duplicate_external_id" };
      return { ok: true, view: storeView(view, undefined, stored).view };
    },

    "chat.postMessage": (args) => {
      const requested = str(args.channel) ?? "";
      const channel = resolveChannel(requested);
      const channelError = checkPostChannel(channel);
      if (channelError) return channelError;
      const contentError = checkMessage(args, true);
      if (contentError) return contentError;
      const ts = nextTs();
      const text = str(args.text) ?? "";
      const blocks = Array.isArray(args.blocks) ? args.blocks : undefined;
      const threadTs = str(args.thread_ts);
      const message: StoredMessage = { channel, ts, text, blocks, updates: 0 };
      if (threadTs) message.thread_ts = threadTs;
      messages.set(msgKey(channel, ts), message);
      if (channel.startsWith("D")) {
        const dm: DirectMessage = { channel, userId: channel.slice(1), ts, text, blocks };
        if (threadTs) dm.thread_ts = threadTs;
        dms.push(dm);
      }
      return {
        ok: true,
        channel,
        ts,
        message: {
          type: "message",
          subtype: "bot_message",
          text,
          ts,
          user: BOT_USER_ID,
          bot_id: BOT_ID,
          app_id: APP_ID,
          ...(blocks ? { blocks } : {}),
          ...(threadTs ? { thread_ts: threadTs } : {}),
        },
      };
    },

    "chat.update": (args) => {
      const channel = resolveChannel(str(args.channel) ?? "");
      const ts = str(args.ts) ?? "";
      const message = messages.get(msgKey(channel, ts));
      if (!message) return { ok: false, error: "message_not_found" };
      const contentError = checkMessage(args, true);
      if (contentError) return contentError;
      if (args.text !== undefined) message.text = str(args.text) ?? "";
      // Slack keeps the previous blocks when `blocks` is omitted; [] removes them.
      if (Array.isArray(args.blocks)) message.blocks = args.blocks;
      message.updates += 1;
      return {
        ok: true,
        channel,
        ts,
        text: message.text,
        message: {
          text: message.text,
          user: BOT_USER_ID,
          bot_id: BOT_ID,
          ...(message.blocks ? { blocks: message.blocks } : {}),
        },
      };
    },

    "chat.postEphemeral": (args) => {
      const channel = resolveChannel(str(args.channel) ?? "");
      const user = str(args.user) ?? "";
      if (!users.has(user)) return { ok: false, error: "user_not_found" };
      const channelError = checkPostChannel(channel);
      if (channelError) return channelError;
      const contentError = checkMessage(args, true);
      if (contentError) return contentError;
      const messageTs = nextTs();
      const eph: EphemeralMessage = {
        channel,
        user,
        text: str(args.text) ?? "",
        blocks: Array.isArray(args.blocks) ? args.blocks : undefined,
        message_ts: messageTs,
      };
      const threadTs = str(args.thread_ts);
      if (threadTs) eph.thread_ts = threadTs;
      ephemerals.push(eph);
      return { ok: true, message_ts: messageTs };
    },

    "chat.delete": (args) => {
      const channel = resolveChannel(str(args.channel) ?? "");
      const ts = str(args.ts) ?? "";
      if (!messages.delete(msgKey(channel, ts))) return { ok: false, error: "message_not_found" };
      return { ok: true, channel, ts };
    },

    "chat.getPermalink": (args) => {
      const channel = resolveChannel(str(args.channel) ?? "");
      const ts = str(args.message_ts) ?? "";
      if (!messages.has(msgKey(channel, ts))) return { ok: false, error: "message_not_found" };
      return {
        ok: true,
        channel,
        permalink: `https://example-workspace.slack.com/archives/${channel}/p${ts.replace(".", "")}`,
      };
    },

    "conversations.open": (args) => {
      const list = (str(args.users) ?? "")
        .split(",")
        .map((u) => u.trim())
        .filter((u) => u.length > 0);
      const channelArg = str(args.channel);
      if (list.length === 0 && channelArg) return { ok: true, channel: { id: channelArg } };
      if (list.length === 0) return { ok: false, error: "users_list_not_supplied" };
      const unknown = list.find((u) => !users.has(u));
      if (unknown) return { ok: false, error: "user_not_found" };
      if (list.length > 1) return { ok: true, channel: { id: `G${list.join("").slice(0, 10)}` } };
      const id = `D${list[0]}`;
      openedDms.add(id);
      return { ok: true, channel: { id } };
    },

    "users.info": (args) => {
      const user = users.get(str(args.user) ?? "");
      if (!user) return { ok: false, error: "user_not_found" };
      return { ok: true, user: userPayload(user) };
    },

    "users.lookupByEmail": (args) => {
      const email = (str(args.email) ?? "").toLowerCase();
      const user = [...users.values()].find((u) => u.email !== undefined && u.email.toLowerCase() === email);
      if (!user || email === "") return { ok: false, error: "users_not_found" };
      return { ok: true, user: userPayload(user) };
    },

    "usergroups.users.list": (args) => {
      const members = usergroups.get(str(args.usergroup) ?? "");
      if (!members) return { ok: false, error: "no_such_subteam" };
      return { ok: true, users: [...members] };
    },

    "files.getUploadURLExternal": (args) => {
      const filename = str(args.filename);
      const length = Number(args.length);
      if (!filename || !Number.isInteger(length) || length < 0) return { ok: false, error: "invalid_arguments" };
      const fileId = `F${String(seq()).padStart(10, "0")}`;
      pendingFiles.set(fileId, { filename, length });
      return { ok: true, upload_url: `${baseUrl}/upload/${fileId}`, file_id: fileId };
    },

    "files.completeUploadExternal": (args) => {
      const files = args.files;
      if (!Array.isArray(files) || files.length === 0) return { ok: false, error: "invalid_arguments" };
      const channel = str(args.channel_id);
      if (channel) {
        const channelError = checkPostChannel(resolveChannel(channel));
        if (channelError) return channelError;
      }
      const done: MethodResult[] = [];
      for (const f of files) {
        const id = isRecord(f) ? str(f.id) : undefined;
        const pending = id ? pendingFiles.get(id) : undefined;
        if (!id || !pending || pending.content === undefined) return { ok: false, error: "file_not_found" };
        const title = (isRecord(f) ? str(f.title) : undefined) ?? pending.filename;
        const upload: FileUpload = { id, filename: pending.filename, title, content: pending.content };
        if (channel) upload.channel = resolveChannel(channel);
        const threadTs = str(args.thread_ts);
        if (threadTs) upload.thread_ts = threadTs;
        const comment = str(args.initial_comment);
        if (comment) upload.initial_comment = comment;
        uploads.push(upload);
        pendingFiles.delete(id);
        done.push({ id, title, name: pending.filename });
      }
      return { ok: true, files: done };
    },
  };

  function openOrPush(args: SlackArgs): MethodResult {
    const trigger = checkTrigger(args);
    if ("error" in trigger) return trigger.error;
    const problems = checkView(args.view);
    if (problems.length > 0) return viewError(problems);
    const view = args.view as Record<string, unknown>;
    if (duplicateExternalId(view)) return { ok: false, error: "duplicate_external_id" };
    trigger.consume();
    return { ok: true, view: storeView(view, trigger.userId).view };
  }

  const record = (method: string, args: SlackArgs, status: number, response: MethodResult): void => {
    calls.push({ method, args, at: now(), status, response });
    for (const w of [...watchers]) w();
  };

  const takeFailure = (method: string): PendingFailure | undefined => {
    const queue = failures.get(method);
    const failure = queue?.[0];
    if (!queue || !failure) return undefined;
    failure.remaining -= 1;
    if (failure.remaining <= 0) queue.shift();
    return failure;
  };

  const handleApi = (
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    raw: Buffer,
    query: URLSearchParams,
  ): void => {
    const contentType = req.headers["content-type"] ?? "";
    let fields: Record<string, unknown> = Object.fromEntries(query.entries());
    const text = raw.toString("utf8");
    if (contentType.includes("application/json")) {
      try {
        const parsed: unknown = text ? JSON.parse(text) : {};
        if (isRecord(parsed)) fields = { ...fields, ...parsed };
      } catch {
        const response = { ok: false, error: "invalid_json" };
        record(method, fields, 200, response);
        return sendJson(res, 200, response);
      }
    } else if (text.length > 0) {
      fields = { ...fields, ...Object.fromEntries(new URLSearchParams(text).entries()) };
    }
    const args = decodeArgs(fields);
    const auth = req.headers.authorization;
    const token = auth?.startsWith("Bearer ") ? auth.slice(7) : str(args.token);
    delete args.token; // never keep secrets in recorded calls

    const reply = (status: number, response: MethodResult, headers: Record<string, string> = {}): void => {
      record(method, args, status, response);
      sendJson(res, status, response, headers);
    };

    if (!token) return reply(200, { ok: false, error: "not_authed" });
    if (options.token !== undefined && token !== options.token) return reply(200, { ok: false, error: "invalid_auth" });

    // Socket Mode: only app-level tokens open a connection. The URL leads nowhere (the fake has
    // no WebSocket server), so a client stays "connecting", as behind a broken proxy.
    if (method === "apps.connections.open") {
      if (!token.startsWith("xapp-")) return reply(200, { ok: false, error: "not_allowed_token_type" });
      if (token.includes("revoked")) return reply(200, { ok: false, error: "invalid_auth" });
      return reply(200, { ok: true, url: "ws://127.0.0.1:9/link/?ticket=fake" });
    }

    const failure = takeFailure(method);
    if (failure) {
      if (failure.status === 429) {
        return reply(429, { ok: false, error: "ratelimited" }, { "retry-after": String(failure.retryAfter ?? 1) });
      }
      return reply(failure.status ?? 200, { ok: false, error: failure.error ?? "fatal_error" });
    }

    const handler = methods[method];
    if (!handler) return reply(200, { ok: false, error: "unknown_method" });
    reply(200, handler(args));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://fake.invalid");
    const raw = await readRaw(req);
    const path = url.pathname;

    if (path.startsWith("/api/")) return handleApi(req, res, path.slice("/api/".length), raw, url.searchParams);

    // Control endpoints for `npm run slack-sim` / `slack-send` (tests call the methods directly).
    if (path === "/__sim/calls" && req.method === "GET") return sendJson(res, 200, calls);
    if (path === "/__sim/trigger" && req.method === "POST") {
      return sendJson(res, 200, {
        trigger_id: service.issueTrigger(url.searchParams.get("user") ?? undefined),
        response_url: service.responseUrl(),
      });
    }
    if (path === "/__sim/uploads" && req.method === "GET") {
      // The files the bot uploaded (diff, failed rows), with their content.
      return sendJson(res, 200, uploads);
    }
    if (path === "/__sim/files" && req.method === "POST") {
      // `slack-send bulk`: a file as if a user picked it in a modal's file upload.
      return sendJson(res, 200, service.hostFile(url.searchParams.get("name") ?? "upload.csv", raw));
    }
    if (path === "/__sim/views" && req.method === "GET") {
      return sendJson(
        res,
        200,
        [...views.entries()].map(([id, v]) => ({ id, userId: v.userId, view: v.view })),
      );
    }

    const hosted = /^\/files-pri\/[^/]+-([^/]+)\/download\/[^/]+$/.exec(path);
    if (hosted?.[1] && req.method === "GET") {
      const bytes = hostedFiles.get(hosted[1]);
      const auth = req.headers.authorization ?? "";
      const token = auth.startsWith("Bearer ") ? auth.slice(7) : "";
      const authorized = token !== "" && (options.token === undefined || token === options.token);
      downloads.push({ id: hosted[1], authorized });
      if (!bytes) {
        res.writeHead(404, { "content-type": "text/plain" }).end("not found");
        return;
      }
      // Like Slack: without a token that may read files, the sign-in page instead of the file.
      if (!authorized || !service.filesScope) {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end("<!DOCTYPE html><title>Slack</title>");
        return;
      }
      res.writeHead(200, { "content-type": "text/csv", "content-length": String(bytes.length) }).end(bytes);
      return;
    }

    const upload = /^\/upload\/([^/]+)$/.exec(path);
    if (upload?.[1] && req.method === "POST") {
      const pending = pendingFiles.get(upload[1]);
      if (!pending) {
        res.writeHead(404).end("not found");
        return;
      }
      const contentType = req.headers["content-type"] ?? "";
      const bytes = contentType.startsWith("multipart/form-data") ? (multipartFile(raw, contentType) ?? raw) : raw;
      pending.content = bytes.toString("utf8");
      res.writeHead(200, { "content-type": "text/plain" }).end(`OK - ${bytes.length}`);
      return;
    }

    if (path.startsWith("/hooks/") && req.method === "POST") {
      const text = raw.toString("utf8");
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // keep the text
      }
      responses.push({ path, body, at: now() });
      record("response_url", isRecord(body) ? { ...body, response_url: path } : { body, response_url: path }, 200, {
        ok: true,
      });
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
      return;
    }

    res.writeHead(404, { "content-type": "text/plain" }).end("not found");
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: `fake_slack_error: ${String(err)}` });
    });
  });
  const sockets = new Set<Socket>();
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  baseUrl = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;

  const service: FakeSlack = {
    url: `${baseUrl}/api/`,
    baseUrl,
    port,
    teamId: TEAM_ID,
    botUserId: BOT_USER_ID,
    calls,
    messages,
    views,
    ephemerals,
    dms,
    uploads,
    downloads,
    responses,
    users,
    emailScope: true,
    filesScope: true,
    hostFile(name, content) {
      const id = `F${String(seq()).padStart(10, "0")}`;
      const bytes = Buffer.isBuffer(content) ? content : Buffer.from(content, "utf8");
      hostedFiles.set(id, bytes);
      const url = `${baseUrl}/files-pri/${TEAM_ID}-${id}/download/${encodeURIComponent(name)}`;
      return {
        id,
        name,
        title: name,
        filetype: "csv",
        mimetype: "text/csv",
        size: bytes.length,
        url_private: url,
        url_private_download: url,
      };
    },
    callsTo(method) {
      return calls.filter((c) => c.method === method);
    },
    waitFor(method, predicate = () => true, timeoutMs = 5000) {
      return new Promise<SlackCall>((resolve, reject) => {
        const find = (): SlackCall | undefined => calls.find((c) => c.method === method && predicate(c));
        const watcher = (): void => {
          const found = find();
          if (!found) return;
          cleanup();
          resolve(found);
        };
        const timer = setTimeout(() => {
          cleanup();
          const seen =
            calls
              .map((c) => `${c.method}${c.response.ok === false ? `(${String(c.response.error)})` : ""}`)
              .join(", ") || "none";
          reject(new Error(`fake Slack: no matching ${method} call within ${timeoutMs} ms; calls seen: ${seen}`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          watchers.delete(watcher);
        };
        watchers.add(watcher);
        watcher();
      });
    },
    addUser(user) {
      users.set(user.id, { ...user });
    },
    setUsergroup(id, userIds) {
      usergroups.set(id, [...userIds]);
    },
    issueTrigger(userId) {
      const id = `${Date.now()}${String(seq()).padStart(3, "0")}`.slice(-13);
      const trigger = `${id}.${TEAM_ID.slice(1)}.${randomBytes(16).toString("hex")}`;
      triggers.set(trigger, { issuedAt: now(), used: false, userId });
      return trigger;
    },
    failNext(method, failure = {}) {
      const count = failure.count ?? 1;
      if (count <= 0) return;
      const queue = failures.get(method) ?? [];
      queue.push({ ...failure, remaining: count });
      failures.set(method, queue);
    },
    setChannelMembers(channelId, isBotMember) {
      channelMembership.set(channelId, isBotMember);
    },
    responseUrl() {
      return `${baseUrl}/hooks/commands/${TEAM_ID}/${seq()}/${randomBytes(8).toString("hex")}`;
    },
    messagesIn(channel) {
      const id = resolveChannel(channel);
      return [...messages.values()].filter((m) => m.channel === id);
    },
    reset() {
      calls.length = 0;
      messages.clear();
      views.clear();
      ephemerals.length = 0;
      dms.length = 0;
      uploads.length = 0;
      downloads.length = 0;
      responses.length = 0;
      triggers.clear();
      failures.clear();
      pendingFiles.clear();
      openedDms.clear();
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
      });
    },
  };
  return service;
}
