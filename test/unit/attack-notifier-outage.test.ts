import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { ErrorCode, type WebClient } from "@slack/web-api";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { Notifier } from "../../src/slack/notifier.js";
import { openStore } from "../../src/store/open-store.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("attack: Slack outage longer than the outbox's retry budget", () => {
  it("a 40-minute Slack outage (HTTP 503) loses neither the approval post nor the receipt DM", async () => {
    const store = await openStore("sqlite::memory:");
    let now = Date.parse("2026-01-05T09:00:00.000Z");
    const clock = { now: () => new Date(now) };
    let slackUp = false;
    const sent: { channel: string; text: string }[] = [];
    const client = {
      chat: {
        postMessage: async (args: { channel: string; text: string }) => {
          if (!slackUp)
            throw Object.assign(new Error("An HTTP protocol error occurred: statusCode = 503"), {
              code: ErrorCode.HTTPError,
              statusCode: 503,
            });
          sent.push({ channel: args.channel, text: args.text });
          return { ok: true, channel: args.channel, ts: `${sent.length}.000` };
        },
        update: async () => ({ ok: true }),
      },
    } as unknown as WebClient;
    const config = loadConfig({
      SLACK_BOT_TOKEN: "xoxb-1234567890",
      SLACK_SIGNING_SECRET: "secret-secret",
      APPROVAL_CHANNEL_ID: "C0000000002",
      APPROVER_USER_IDS: "U0000000002",
      JUMPCLOUD_API_KEY: "jc-key-123456",
    });
    const logger = createLogger({ level: "silent", destination: new Writable({ write: (_c, _e, d) => d() }) });
    const notifier = new Notifier({ store, client, config, logger, clock });
    try {
      const request = await store.createRequest(
        {
          kind: "single",
          requesterId: "U0000000001",
          targetUserId: "64a000000000000000000001",
          targetLabel: "alice@example.com",
          targetSlackId: "U0000000001",
          reason: "r",
          changes: [{ field: "jobTitle", oldValue: "a", newValue: "b" }],
        },
        clock.now().toISOString(),
      );
      const start = now;
      // Slack is down for 40 minutes; the notifier is woken whenever its next row is due.
      while (now - start < 40 * 60_000) {
        notifier.kick();
        await sleep(30);
        const next = await store.nextOutbox("9999-01-01T00:00:00.000Z", 1);
        if (!next[0]) break;
        now = Math.max(now + 1000, Date.parse(next[0].readyAt));
      }
      now = Math.max(now, start + 40 * 60_000);
      slackUp = true;
      // Slack is back: let every row that is still waiting come due (backoff is at most 10 min).
      for (let i = 0; i < 5; i++) {
        notifier.kick();
        await sleep(50);
        now += 10 * 60_000;
      }
      const rows = await store.nextOutbox("9999-01-01T00:00:00.000Z", 10);
      assert.ok(
        sent.some((m) => m.channel === "C0000000002"),
        `pending rows ${JSON.stringify(rows)}; now ${new Date(now).toISOString()}; approval post sent after Slack came back (sent: ${JSON.stringify(sent)})`,
      );
      assert.ok((await store.getRequest(request.id))?.approvalTs, "approval message recorded");
      assert.ok(
        sent.some((m) => m.channel === "U0000000001"),
        `receipt DM sent after Slack came back (sent: ${JSON.stringify(sent)})`,
      );
    } finally {
      await notifier.stop(100);
      await store.close();
    }
  });
});
