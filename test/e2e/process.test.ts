import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { type FakeJumpCloud, startFakeJumpCloud } from "../../src/sim/fake-jumpcloud.js";
import { type FakeSlack, startFakeSlack } from "../support/fake-slack.js";
import { SECRETS, seedUsers } from "../support/start-test-env.js";

const MAIN = fileURLToPath(new URL("../../dist/main.js", import.meta.url));

/** The real entry point as operators run it: a child process configured by its environment. */
function run(env: Record<string, string>): { child: ChildProcess; output: () => string; exit: Promise<number | null> } {
  // In an empty folder: a developer's .env in the checkout must not leak into the test.
  const child = spawn(process.execPath, [MAIN], {
    cwd: mkdtempSync(join(tmpdir(), "jc-bot-cwd-")),
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d) => (out += d));
  child.stderr?.on("data", (d) => (out += d));
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, output: () => out, exit };
}

describe("the bot process", () => {
  let slack: FakeSlack;
  let jc: FakeJumpCloud;
  before(async () => {
    slack = await startFakeSlack();
    jc = await startFakeJumpCloud({ apiKey: SECRETS.apiKey, users: seedUsers() });
  });
  after(async () => {
    await slack.close();
    await jc.close();
  });

  it("exits 1 on bad configuration, naming the variables and never their values", async () => {
    const started = Date.now();
    const p = run({
      SLACK_BOT_TOKEN: "xoxp-not-a-bot-token-SECRET1",
      SLACK_SIGNING_SECRET: "",
      APPROVAL_CHANNEL_ID: "general",
      JUMPCLOUD_API_KEY: "jc-key-SECRET2",
      BATCH_MAX_SIZE: "lots-SECRET3",
      DOTENV_CONFIG_PATH: "/nonexistent/.env",
    });
    const code = await p.exit;
    assert.equal(code, 1);
    assert.ok(Date.now() - started < 5000, "a broken config must fail fast");
    const out = p.output();
    for (const name of [
      "SLACK_BOT_TOKEN",
      "SLACK_SIGNING_SECRET",
      "APPROVAL_CHANNEL_ID",
      "APPROVER_USER_IDS",
      "BATCH_MAX_SIZE",
    ]) {
      assert.match(out, new RegExp(name), `names ${name}`);
    }
    assert.doesNotMatch(out, /SECRET1|SECRET2|SECRET3/);
    assert.doesNotMatch(out, /JUMPCLOUD_API_KEY/, "a valid variable is not listed");
  });

  it("serves /healthz, then stops cleanly with exit 0 on SIGTERM", async () => {
    const dir = mkdtempSync(join(tmpdir(), "jc-bot-"));
    const port = 30000 + Math.floor(Math.random() * 20000);
    const p = run({
      SLACK_BOT_TOKEN: SECRETS.botToken,
      SLACK_SIGNING_SECRET: SECRETS.signingSecret,
      SLACK_API_URL: slack.url,
      PORT: String(port),
      APPROVAL_CHANNEL_ID: "C0000000002",
      APPROVER_USER_IDS: "U0000000002",
      JUMPCLOUD_API_KEY: SECRETS.apiKey,
      JUMPCLOUD_API_URL: jc.url,
      DATABASE_URL: `sqlite:${join(dir, "nested", "bot.db")}`,
    });
    try {
      let health: Response | undefined;
      const deadline = Date.now() + 10_000;
      while (!health && Date.now() < deadline) {
        health = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
        if (!health) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(health, `no /healthz within 10 s:\n${p.output()}`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { ok: true, mode: "http" });
      const stopAt = Date.now();
      p.child.kill("SIGTERM");
      assert.equal(await p.exit, 0);
      assert.ok(Date.now() - stopAt < 10_000);
      const out = p.output();
      for (const secret of Object.values(SECRETS)) assert.ok(!out.includes(secret), "no secret in the logs");
    } finally {
      p.child.kill("SIGKILL");
    }
  });
});
