import { Writable } from "node:stream";
import { type RunningApp, startApp } from "../../src/app.js";
import { type Config, loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import {
  type FakeJumpCloud,
  type FakeJumpCloudOptions,
  type SeedUser,
  startFakeJumpCloud,
} from "../../src/sim/fake-jumpcloud.js";
import { ids } from "../../src/slack/ids.js";
import { type FakeSlack, type SlackCall, startFakeSlack } from "./fake-slack.js";
import {
  blockActionsPayload,
  bulkFormValues,
  sendInteraction,
  sendSlashCommand,
  viewSubmissionPayload,
} from "./slack-request.js";

export const SECRETS = {
  botToken: "xoxb-test-bot-token-0123456789",
  signingSecret: "test-signing-secret-abcdef",
  apiKey: "test-jc-api-key-9876543210",
};

/** Slack people of the test workspace, with their JumpCloud twins. */
export const PEOPLE = {
  alice: { slackId: "U0000000001", email: "alice@example.com", jcId: "64a000000000000000000001" },
  approver: { slackId: "U0000000002", email: "approver@example.com", jcId: "64a000000000000000000002" },
  approver2: { slackId: "U0000000003", email: "approver2@example.com", jcId: "64a000000000000000000003" },
  admin: { slackId: "U0000000004", email: "admin@example.com", jcId: "64a000000000000000000004" },
  bob: { slackId: "U0000000005", email: "bob@example.com", jcId: "64a000000000000000000005" },
} as const;
export type Person = keyof typeof PEOPLE;

export const APPROVAL_CHANNEL = "C0000000002";

export function seedUsers(): SeedUser[] {
  return [
    {
      _id: PEOPLE.alice.jcId,
      email: PEOPLE.alice.email,
      username: "alice",
      firstname: "Alice",
      lastname: "Liddell",
      displayname: "Alice Liddell",
      jobTitle: "Engineer",
      department: "R&D",
      location: "Berlin",
      phoneNumbers: [
        { id: "p1", type: "work", number: "+49 30 1234567" },
        { id: "p2", type: "home", number: "+49 30 7654321" },
      ],
      attributes: [{ name: "costCode", value: "CC-100" }],
    },
    {
      _id: PEOPLE.approver.jcId,
      email: PEOPLE.approver.email,
      username: "approver",
      firstname: "Appro",
      lastname: "Ver",
    },
    {
      _id: PEOPLE.approver2.jcId,
      email: PEOPLE.approver2.email,
      username: "approver2",
      firstname: "Second",
      lastname: "Approver",
    },
    { _id: PEOPLE.admin.jcId, email: PEOPLE.admin.email, username: "admin", firstname: "Ad", lastname: "Min" },
    {
      _id: PEOPLE.bob.jcId,
      email: PEOPLE.bob.email,
      username: "bob",
      firstname: "Bob",
      lastname: "Builder",
      jobTitle: "Builder",
    },
  ];
}

export interface TestEnv {
  slack: FakeSlack;
  jc: FakeJumpCloud;
  app: RunningApp;
  config: Config;
  /** Where requests go: the first app, or a replica the test pointed it at. */
  baseUrl: string;
  logs: string[];
  /**
   * Another process of the bot on the same database, fakes and config (PostgreSQL: a replica).
   * Stopped by close(); `stop()` stops it earlier (as a replica going away).
   */
  startReplica(): Promise<{ app: RunningApp; baseUrl: string; stop(): Promise<void> }>;
  /** Sends `/jc-update <text>` as `who` with a fresh trigger id. */
  command(
    who: Person,
    text?: string,
    opts?: { timestamp?: number; signature?: string },
  ): ReturnType<typeof sendSlashCommand>;
  /** Runs the command and returns the request modal once it is filled in. */
  openForm(who: Person, text?: string): Promise<OpenedForm>;
  /** Submits a request modal with values by field label (others keep their initial value). */
  submitForm(who: Person, form: OpenedForm, values: Record<string, string>, reason?: string): Promise<SubmitAnswer>;
  /**
   * `who` runs /jc-update [text], changes the fields given by label and submits; returns the new
   * request's id once its approval message is posted.
   */
  request(who: Person, values: Record<string, string>, options?: { text?: string; reason?: string }): Promise<number>;
  click(who: Person, action: "approve" | "deny", requestId: number | string): ReturnType<typeof sendInteraction>;
  submitDeny(who: Person, requestId: number, reason: string): Promise<SubmitAnswer>;
  approvalMessage(requestId: number): Promise<{ channel: string; ts: string; text: string; blocks: unknown[] }>;
  waitForState(requestId: number, state: string, timeoutMs?: number): Promise<void>;
  /** Runs `/jc-update bulk` and returns the bulk modal as opened. */
  openBulk(who: Person): Promise<OpenedForm>;
  /** Submits the bulk modal with pasted CSV text or an uploaded file (hosted by the fake Slack). */
  submitBulk(who: Person, form: OpenedForm, input: BulkInput): Promise<SubmitAnswer>;
  /**
   * Opens, submits and waits for the check to finish: the stored request (receipt) or the
   * problems listed in the updated form.
   */
  bulk(who: Person, input: BulkInput): Promise<BulkOutcome>;
  close(): Promise<void>;
}

export interface BulkInput {
  csv?: string;
  file?: { name: string; content: string | Buffer };
  reason?: string;
}
export type BulkOutcome =
  | { ok: true; requestId: number; answer: SubmitAnswer }
  | { ok: false; answer: SubmitAnswer; problems: string; view?: OpenedForm["view"] };

export interface OpenedForm {
  viewId: string;
  view: { blocks: InputBlock[]; private_metadata: string; callback_id: string; [k: string]: unknown };
}
interface InputBlock {
  type: string;
  block_id?: string;
  label?: { text: string };
  element?: { type: string; action_id: string; initial_value?: string; initial_user?: string };
}
export interface SubmitAnswer {
  status: number;
  json: { response_action?: string; errors?: Record<string, string>; view?: unknown } | undefined;
}

/** The real app on port 0, talking to a fake Slack and a fake JumpCloud on 127.0.0.1. */
export async function startTestEnv(
  options: { env?: Record<string, string>; jc?: Partial<FakeJumpCloudOptions>; users?: SeedUser[] } = {},
): Promise<TestEnv> {
  const slack = await startFakeSlack();
  for (const [name, p] of Object.entries(PEOPLE))
    slack.addUser({ id: p.slackId, email: p.email, name, realName: name });
  const jc = await startFakeJumpCloud({ apiKey: SECRETS.apiKey, users: options.users ?? seedUsers(), ...options.jc });
  const config = loadConfig({
    SLACK_BOT_TOKEN: SECRETS.botToken,
    SLACK_SIGNING_SECRET: SECRETS.signingSecret,
    SLACK_API_URL: slack.url,
    PORT: "0",
    APPROVAL_CHANNEL_ID: APPROVAL_CHANNEL,
    APPROVER_USER_IDS: `${PEOPLE.approver.slackId},${PEOPLE.approver2.slackId}`,
    ADMIN_USER_IDS: PEOPLE.admin.slackId,
    JUMPCLOUD_API_KEY: SECRETS.apiKey,
    JUMPCLOUD_API_URL: jc.url,
    DATABASE_URL: "sqlite::memory:",
    BATCH_WINDOW_MS: "30",
    RETRY_BASE_DELAY_MS: "20",
    RESULTS_POLL_INTERVAL_MS: "20",
    LOG_LEVEL: "debug",
    ...options.env,
  });
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const { secretsOf } = await import("../../src/config.js");
  const logger = createLogger({ level: config.logLevel, secrets: secretsOf(config), destination });
  let app: RunningApp;
  try {
    app = await startApp(config, { logger, host: "127.0.0.1", slackRetries: 0, leaseRetryMs: 100 });
  } catch (error) {
    await Promise.all([slack.close(), jc.close()]);
    throw error;
  }
  const baseUrl = `http://127.0.0.1:${app.port}`;
  const secret = SECRETS.signingSecret;

  const replicas: (() => Promise<void>)[] = [];
  const env: TestEnv = {
    slack,
    jc,
    app,
    config,
    baseUrl,
    logs,
    command(who, text = "", opts = {}) {
      return sendSlashCommand(
        env.baseUrl,
        secret,
        {
          user_id: PEOPLE[who].slackId,
          user_name: who,
          text,
          trigger_id: slack.issueTrigger(PEOPLE[who].slackId),
          response_url: slack.responseUrl(),
        },
        opts,
      );
    },
    async openForm(who, text = "") {
      const seen = slack.calls.length;
      const answer = await env.command(who, text);
      if (answer.status !== 200) throw new Error(`command answered ${answer.status}`);
      const after = (c: SlackCall) => slack.calls.indexOf(c) >= seen;
      const opened = await slack.waitFor(
        "views.open",
        (c) => after(c) && (c.args.view as { callback_id?: string })?.callback_id === ids.loadingModal.callbackId,
      );
      const viewId = (opened.response.view as { id: string }).id;
      const update = await slack.waitFor("views.update", (c) => after(c) && c.args.view_id === viewId, 8000);
      const view = update.args.view as OpenedForm["view"];
      if (view.callback_id !== ids.requestModal.callbackId) {
        throw new Error(`expected the request modal, got: ${JSON.stringify(view).slice(0, 500)}`);
      }
      return { viewId, view };
    },
    async submitForm(who, form, values, reason = "Keeping my record right") {
      const state: Record<string, Record<string, unknown>> = {};
      const unused = new Set(Object.keys(values));
      for (const block of form.view.blocks) {
        if (block.type !== "input" || !block.block_id || !block.element) continue;
        const label = block.label?.text ?? "";
        const given = values[label];
        unused.delete(label);
        const element = block.element;
        if (element.type === "users_select") {
          state[block.block_id] = {
            [element.action_id]: { type: "users_select", selected_user: given ?? element.initial_user ?? null },
          };
        } else {
          const value =
            block.block_id === ids.requestModal.reasonBlock ? reason : (given ?? element.initial_value ?? null);
          state[block.block_id] = { [element.action_id]: { type: "plain_text_input", value } };
        }
      }
      if (unused.size > 0) throw new Error(`no field labelled ${[...unused].join(", ")} in the modal`);
      const answer = await sendInteraction(
        env.baseUrl,
        secret,
        viewSubmissionPayload({
          user: PEOPLE[who].slackId,
          view: {
            id: form.viewId,
            callback_id: form.view.callback_id,
            private_metadata: form.view.private_metadata,
            state: { values: state },
          },
        }),
      );
      return { status: answer.status, json: answer.json as SubmitAnswer["json"] };
    },
    async request(who, values, options = {}) {
      const form = await env.openForm(who, options.text);
      const answer = await env.submitForm(who, form, values, options.reason);
      if (answer.json?.response_action !== "update")
        throw new Error(`submission refused: ${JSON.stringify(answer.json)}`);
      const request = (await app.store.listRequestsByRequester(PEOPLE[who].slackId, 1))[0];
      if (!request) throw new Error("no request stored");
      await env.approvalMessage(request.id);
      return request.id;
    },
    async click(who, action, requestId) {
      // Clicked where Slack shows it: on the request's approval message when there is one.
      // A real click needs the message to exist: wait for it when the request does.
      const id = /^\d+$/.test(String(requestId)) ? Number(requestId) : undefined;
      if (id !== undefined && (await app.store.getRequest(id))) await env.approvalMessage(id);
      const request = id !== undefined ? await app.store.getRequest(id) : undefined;
      return sendInteraction(
        env.baseUrl,
        secret,
        blockActionsPayload({
          user: PEOPLE[who].slackId,
          action_id: action === "approve" ? ids.actions.approve : ids.actions.deny,
          value: String(requestId),
          channel: request?.approvalChannel ?? APPROVAL_CHANNEL,
          message_ts: request?.approvalTs ?? undefined,
          trigger_id: slack.issueTrigger(PEOPLE[who].slackId),
        }),
      );
    },
    async submitDeny(who, requestId, reason) {
      const answer = await sendInteraction(
        env.baseUrl,
        secret,
        viewSubmissionPayload({
          user: PEOPLE[who].slackId,
          view: {
            callback_id: ids.denyModal.callbackId,
            private_metadata: JSON.stringify({ requestId }),
            state: {
              values: {
                [ids.denyModal.reasonBlock]: {
                  [ids.denyModal.reasonAction]: { type: "plain_text_input", value: reason },
                },
              },
            },
          },
        }),
      );
      return { status: answer.status, json: answer.json as SubmitAnswer["json"] };
    },
    async approvalMessage(requestId) {
      await waitUntil(
        async () => Boolean((await app.store.getRequest(requestId))?.approvalTs),
        5000,
        `approval message of #${requestId}`,
      );
      const request = await app.store.getRequest(requestId);
      const stored = slack.messages.get(`${request?.approvalChannel}:${request?.approvalTs}`);
      if (!stored) throw new Error("approval message not found in fake Slack");
      return { channel: stored.channel, ts: stored.ts, text: stored.text, blocks: stored.blocks ?? [] };
    },
    async waitForState(requestId, state, timeoutMs = 8000) {
      await waitUntil(
        async () => (await app.store.getRequest(requestId))?.state === state,
        timeoutMs,
        `request #${requestId} to be ${state}`,
        async () => JSON.stringify(await app.store.getRequest(requestId)),
      );
    },
    async openBulk(who) {
      const seen = slack.calls.length;
      const answer = await env.command(who, "bulk");
      if (answer.status !== 200) throw new Error(`command answered ${answer.status}`);
      const opened = await slack.waitFor(
        "views.open",
        (c) =>
          slack.calls.indexOf(c) >= seen &&
          (c.args.view as { callback_id?: string })?.callback_id === ids.bulkModal.callbackId,
      );
      if (opened.response.ok !== true) throw new Error(`views.open failed: ${JSON.stringify(opened.response)}`);
      return { viewId: (opened.response.view as { id: string }).id, view: opened.args.view as OpenedForm["view"] };
    },
    async submitBulk(who, form, input) {
      const files = input.file ? [slack.hostFile(input.file.name, input.file.content)] : [];
      const answer = await sendInteraction(
        env.baseUrl,
        secret,
        viewSubmissionPayload({
          user: PEOPLE[who].slackId,
          view: {
            id: form.viewId,
            callback_id: form.view.callback_id,
            private_metadata: form.view.private_metadata,
            state: {
              values: bulkFormValues({ csv: input.csv, files, reason: input.reason ?? "Department renamed" }),
            },
          },
        }),
      );
      return { status: answer.status, json: answer.json as SubmitAnswer["json"] };
    },
    async bulk(who, input) {
      const form = await env.openBulk(who);
      const seen = slack.calls.length;
      const answer = await env.submitBulk(who, form, input);
      if (answer.json?.response_action === "errors") {
        return { ok: false, answer, problems: Object.values(answer.json.errors ?? {}).join("\n") };
      }
      if (answer.json?.response_action !== "update") throw new Error(`unexpected answer ${JSON.stringify(answer)}`);
      // The check ends with a views.update of this modal: the receipt or the form with problems
      // (an upload first updates the "Checking…" text with its row count).
      const update = await slack.waitFor(
        "views.update",
        (c) =>
          slack.calls.indexOf(c) >= seen &&
          c.args.view_id === form.viewId &&
          (c.args.view as { callback_id?: string }).callback_id !== ids.checkingModal.callbackId,
        60_000,
      );
      const view = update.args.view as OpenedForm["view"];
      if (view.callback_id === ids.bulkModal.callbackId)
        return { ok: false, answer, problems: textOf(view.blocks), view };
      const request = (await app.store.listRequestsByRequester(PEOPLE[who].slackId, 1))[0];
      if (!request) throw new Error(`no request stored; modal: ${textOf(view.blocks)}`);
      return { ok: true, requestId: request.id, answer };
    },
    async startReplica() {
      const replica = await startApp(config, { logger, host: "127.0.0.1", slackRetries: 0, leaseRetryMs: 100 });
      let stopped = false;
      const stop = async () => {
        if (stopped) return;
        stopped = true;
        await replica.stop();
      };
      replicas.push(stop);
      return { app: replica, baseUrl: `http://127.0.0.1:${replica.port}`, stop };
    },
    async close() {
      await Promise.all(replicas.map((stop) => stop()));
      await app.stop();
      await Promise.all([slack.close(), jc.close()]);
    },
  };
  return env;
}

export async function waitUntil(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
  describe?: () => Promise<string>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}${describe ? `: ${await describe()}` : ""}`);
}

/** Every mrkdwn/plain text in a block list, joined: for asserting what people read. */
export function textOf(blocks: unknown): string {
  const out: string[] = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === "object") {
      const n = node as Record<string, unknown>;
      if (typeof n.text === "string") out.push(n.text);
      for (const [k, v] of Object.entries(n)) if (k !== "text" || typeof v !== "string") walk(v);
    }
  };
  walk(blocks);
  return out.join("\n");
}
