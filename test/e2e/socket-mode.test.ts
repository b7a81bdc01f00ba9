import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { startTestEnv } from "../support/start-test-env.js";

describe("Socket Mode", () => {
  it("starts with SLACK_APP_TOKEN, opens a connection with it, and says on /healthz that it is connecting", async () => {
    const env = await startTestEnv({ env: { SLACK_APP_TOKEN: "xapp-1-A000-0000-test" } });
    try {
      const health = await fetch(`http://127.0.0.1:${env.app.port}/healthz`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { ok: true, mode: "socket", slack: "connecting" });
      assert.ok(env.slack.callsTo("apps.connections.open").length >= 1);
      assert.equal(env.slack.callsTo("apps.connections.open")[0]?.response.ok, true);
      // No HTTP events endpoint in Socket Mode: Slack events only come over the socket.
      const events = await fetch(`http://127.0.0.1:${env.app.port}/slack/events`, { method: "POST", body: "x" });
      assert.equal(events.status, 404);
    } finally {
      await env.close();
    }
  });

  it("fails start-up when Slack refuses the app token", async () => {
    await assert.rejects(startTestEnv({ env: { SLACK_APP_TOKEN: "xapp-1-revoked" } }), /invalid_auth/);
  });
});
