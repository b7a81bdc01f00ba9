import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import {
  blockActionsPayload,
  formEncode,
  interactionBody,
  sendInteraction,
  sendSlashCommand,
  signBody,
  slashCommandFields,
  viewSubmissionPayload,
} from "../support/slack-request.js";

/** Slack's documented signing example (also in bolt-js ExpressReceiver.spec.ts). */
const OFFICIAL = {
  secret: "8f742231b10e8888abcd99yyyzzz85a5",
  timestamp: "1531420618",
  body: "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c",
  signature: "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
};

const referenceUrl = new URL("../../../shared/reference/slack-payload-examples.json", import.meta.url);
const hasReference = existsSync(referenceUrl);

interface Reference {
  signing_test_vector_official: {
    signing_secret: string;
    "x-slack-request-timestamp": string;
    raw_body: string;
    "x-slack-signature": string;
  };
  slash_command: { fields: Record<string, string>; http: { raw_body: string } };
  view_submission: { payload: object; http: { raw_body: string } };
  block_actions: { payload: object; http: { raw_body: string } };
}

function loadReference(): Reference {
  return JSON.parse(readFileSync(referenceUrl, "utf8")) as Reference;
}

describe("slack-request", () => {
  it("signBody reproduces Slack's official test vector", () => {
    assert.equal(signBody(OFFICIAL.secret, OFFICIAL.timestamp, OFFICIAL.body), OFFICIAL.signature);
    assert.equal(signBody(OFFICIAL.secret, Number(OFFICIAL.timestamp), OFFICIAL.body), OFFICIAL.signature);
    assert.notEqual(signBody("other-secret", OFFICIAL.timestamp, OFFICIAL.body), OFFICIAL.signature);
  });

  it("signBody matches the vector stored in the reference file", {
    skip: !hasReference && "no shared/reference",
  }, () => {
    const v = loadReference().signing_test_vector_official;
    assert.equal(signBody(v.signing_secret, v["x-slack-request-timestamp"], v.raw_body), v["x-slack-signature"]);
  });

  it("form-encodes slash_command.fields byte for byte like slash_command.http.raw_body", {
    skip: !hasReference && "no shared/reference",
  }, () => {
    const ref = loadReference().slash_command;
    assert.equal(formEncode(ref.fields), ref.http.raw_body);
    // The builder with the reference overrides yields the same body.
    assert.equal(formEncode({ ...slashCommandFields({ text: ref.fields.text }) }), ref.http.raw_body);
  });

  it("encodes interaction payloads like the reference raw bodies", {
    skip: !hasReference && "no shared/reference",
  }, () => {
    const ref = loadReference();
    assert.equal(interactionBody(ref.view_submission.payload), ref.view_submission.http.raw_body);
    assert.equal(interactionBody(ref.block_actions.payload), ref.block_actions.http.raw_body);
  });

  it("sends signed requests with the exact content type", async () => {
    const seen: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        seen.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
        res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const secret = "test-secret";
      const r1 = await sendSlashCommand(base, secret, { user_id: "U1", text: "help me" }, { timestamp: 1700000000 });
      assert.equal(r1.status, 200);
      assert.deepEqual(r1.json, { ok: true });
      const first = seen[0];
      assert.ok(first);
      assert.equal(first.headers["content-type"], "application/x-www-form-urlencoded");
      assert.equal(first.headers["x-slack-request-timestamp"], "1700000000");
      assert.equal(first.headers["x-slack-signature"], signBody(secret, 1700000000, first.body));
      assert.match(first.body, /user_id=U1&/);
      assert.match(first.body, /text=help\+me&/);

      const payload = blockActionsPayload({
        user: "U2",
        action_id: "jc_approve",
        value: "42",
        channel: "C9",
        message_ts: "1.2",
      });
      await sendInteraction(base, secret, payload);
      const second = seen[1];
      assert.ok(second);
      assert.ok(second.body.startsWith("payload="));
      const decoded = JSON.parse(new URLSearchParams(second.body).get("payload") ?? "") as Record<string, unknown>;
      assert.deepEqual(decoded, payload);
      const ts = String(second.headers["x-slack-request-timestamp"]);
      assert.equal(second.headers["x-slack-signature"], signBody(secret, ts, second.body));

      await sendInteraction(
        base,
        secret,
        viewSubmissionPayload({ view: { callback_id: "cb", state: { values: {} } } }),
        {
          omitHeaders: true,
        },
      );
      assert.equal(seen[2]?.headers["x-slack-signature"], undefined);
      await sendSlashCommand(base, secret, {}, { signature: "v0=bad" });
      assert.equal(seen[3]?.headers["x-slack-signature"], "v0=bad");
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
