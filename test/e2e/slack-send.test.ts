import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { APPROVAL_CHANNEL, PEOPLE, SECRETS, startTestEnv, type TestEnv } from "../support/start-test-env.js";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../..", import.meta.url));

/**
 * `npm run slack-send` is how the README walks a newcomer through the bot without a workspace:
 * run the real script (a child process, as from a terminal) against the bot and fake Slack.
 */
describe("slack-send (the README walkthrough's driver)", () => {
  let env: TestEnv;
  const dir = mkdtempSync(join(tmpdir(), "jc-slack-send-"));
  before(async () => {
    env = await startTestEnv();
  });
  after(async () => {
    await env.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The script as from a terminal; `secret` replaces the bot's signing secret. */
  const slackSendWith = (secret: string, ...args: string[]) =>
    run(process.execPath, ["--import", "tsx", "test/support/slack-send.ts", ...args], {
      cwd: root,
      env: {
        ...process.env,
        SLACK_SIGNING_SECRET: secret,
        BOT_URL: env.baseUrl,
        SLACK_SIM_URL: new URL(env.slack.url).origin,
      },
    });
  const slackSend = (...args: string[]) => slackSendWith(SECRETS.signingSecret, ...args);

  it("approve clicks the approval message, not the requester's receipt DM (which has the same id)", async () => {
    const id = await env.request("alice", { Department: "Platform" });
    const { stdout } = await slackSend("approve", PEOPLE.approver.slackId, String(id));
    assert.match(stdout, /^200/);
    await env.waitForState(id, "applied");
    const request = await env.app.store.getRequest(id);
    assert.equal(request?.decidedBy, PEOPLE.approver.slackId);
    assert.equal(env.jc.users.get(PEOPLE.alice.jcId)?.department, "Platform");
    // Clicked in the approval channel, on the message the bot posted there.
    const message = await env.approvalMessage(id);
    assert.equal(message.channel, APPROVAL_CHANNEL);
  });

  it("deny clicks Deny and submits the reason modal", async () => {
    const id = await env.request("alice", { Department: "Finance" });
    const { stdout } = await slackSend("deny", PEOPLE.approver.slackId, String(id), "HR owns departments");
    assert.match(stdout, /^200/);
    await env.waitForState(id, "denied");
    assert.equal((await env.app.store.getRequest(id))?.decisionNote, "HR owns departments");
  });

  it("bulk uploads a CSV, prints the check's outcome, and the request can be approved", async () => {
    const file = join(dir, "reorg.csv");
    writeFileSync(file, `\ufeffemail,department\r\n${PEOPLE.alice.email},"Data, Platform"\r\n`);
    const { stdout } = await slackSend("bulk", PEOPLE.admin.slackId, file, "--reason", "Reorg");
    const id = Number(/#(\d+)/.exec(stdout)?.[1]);
    assert.ok(id > 0, stdout);
    await slackSend("approve", PEOPLE.approver.slackId, String(id));
    await env.waitForState(id, "applied");
    assert.equal(env.jc.users.get(PEOPLE.alice.jcId)?.department, "Data, Platform");
    const approval = await env.approvalMessage(id);
    assert.equal(approval.channel, APPROVAL_CHANNEL);
  });

  it("an approve for a request with no approval message fails with a message, not a stray click", async () => {
    await assert.rejects(
      slackSend("approve", PEOPLE.approver.slackId, "999"),
      (error: { code?: number; stderr?: string }) => {
        assert.equal(error.code, 2);
        assert.match(error.stderr ?? "", /no approval message with buttons for request #999/);
        return true;
      },
    );
  });

  it("a signing secret that is not the bot's: the bot's 401, a hint, and exit code 2", async () => {
    const wrong = slackSendWith("not-the-bot-secret", "command", PEOPLE.alice.slackId, "status");
    await assert.rejects(wrong, (error: { code?: number; stdout?: string }) => {
      assert.equal(error.code, 2);
      assert.match(error.stdout ?? "", /^401 \(signature refused: SLACK_SIGNING_SECRET must be the bot's/m);
      return true;
    });
  });
});
