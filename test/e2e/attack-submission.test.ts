import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ids } from "../../src/slack/ids.js";
import { sendInteraction, viewSubmissionPayload } from "../support/slack-request.js";
import { PEOPLE, SECRETS, startTestEnv, type TestEnv, waitUntil } from "../support/start-test-env.js";

describe("attack: request submission", () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv();
  });
  after(async () => env.close());

  async function countRequests(who: keyof typeof PEOPLE): Promise<number> {
    return (await env.app.store.listRequestsByRequester(PEOPLE[who].slackId, 100)).length;
  }

  it("a view_submission sent twice (Slack retry / double click / replay within 5 min) creates one request", async () => {
    const before = await countRequests("bob");
    const form = await env.openForm("bob");
    const [a, b] = await Promise.all([
      env.submitForm("bob", form, { "Job title": "Double" }),
      env.submitForm("bob", form, { "Job title": "Double" }),
    ]);
    const c = await env.submitForm("bob", form, { "Job title": "Double" });
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    assert.equal(c.status, 200);
    assert.equal((await countRequests("bob")) - before, 1, "one form, one request");
  });

  it("refuses tampered private_metadata and stores nothing", async () => {
    const form = await env.openForm("bob");
    const before = await countRequests("bob");
    const meta = JSON.parse(form.view.private_metadata) as { draftId: string };
    const aliceForm = await env.openForm("alice");
    const variants = [
      "",
      "not json",
      JSON.stringify({ draftId: "1" }),
      JSON.stringify({ draftId: `${meta.draftId}x` }),
      JSON.stringify({ draftId: meta.draftId.toUpperCase().replace(/[0-9A-F]/, (c) => (c === "0" ? "1" : "0")) }),
      aliceForm.view.private_metadata, // someone else's draft
      "x".repeat(100_000),
      JSON.stringify([meta.draftId]),
      "null",
    ];
    for (const pm of variants) {
      const answer = await env.submitForm(
        "bob",
        { ...form, view: { ...form.view, private_metadata: pm } },
        { "Job title": "Tampered" },
      );
      assert.equal(
        answer.json?.response_action,
        "errors",
        `metadata ${pm.slice(0, 60)} → ${JSON.stringify(answer.json)}`,
      );
    }
    assert.equal(await countRequests("bob"), before);
    // Extra keys are ignored: the stored draft decides who, whom and which fields.
    const withExtras = JSON.stringify({
      draftId: meta.draftId,
      isAdmin: true,
      requesterId: PEOPLE.admin.slackId,
      allowed: ["email"],
    });
    const answer = await env.submitForm(
      "bob",
      { ...form, view: { ...form.view, private_metadata: withExtras } },
      { "Job title": "Extras" },
    );
    assert.equal(answer.json?.response_action, "update");
    const stored = (await env.app.store.listRequestsByRequester(PEOPLE.bob.slackId, 1))[0];
    assert.equal(stored?.targetUserId, PEOPLE.bob.jcId);
    assert.deepEqual(
      stored?.changes.map((c) => c.field),
      ["jobTitle"],
    );
  });

  it("refuses fields the form did not offer, including admin fields, and stores nothing", async () => {
    const form = await env.openForm("bob");
    const before = await countRequests("bob");
    const values = {
      ...Object.fromEntries(
        form.view.blocks
          .filter((b) => b.type === "input" && b.block_id && b.element)
          .map((b) => [
            b.block_id,
            { [b.element?.action_id ?? ""]: { type: "plain_text_input", value: b.element?.initial_value ?? null } },
          ]),
      ),
      [ids.requestModal.reasonBlock]: { value: { type: "plain_text_input", value: "because" } },
      "field:email": { value: { type: "plain_text_input", value: "ceo@example.com" } },
      "field:attributes.costCode": { value: { type: "plain_text_input", value: "CC-999" } },
      "field:__proto__": { value: { type: "plain_text_input", value: "x" } },
      "field:manager": { value: { type: "users_select", selected_user: PEOPLE.admin.slackId } },
    };
    const answer = await sendInteraction(
      env.baseUrl,
      SECRETS.signingSecret,
      viewSubmissionPayload({
        user: PEOPLE.bob.slackId,
        view: {
          id: form.viewId,
          callback_id: ids.requestModal.callbackId,
          private_metadata: form.view.private_metadata,
          state: { values },
        },
      }),
    );
    const json = answer.json as { response_action?: string; errors?: Record<string, string> };
    assert.equal(json.response_action, "errors");
    assert.ok(json.errors?.["field:email"]);
    assert.equal(await countRequests("bob"), before);
  });

  it("a view_submission with the callback id but no state at all is refused, not crashed", async () => {
    const form = await env.openForm("bob");
    const before = await countRequests("bob");
    const payload = viewSubmissionPayload({
      user: PEOPLE.bob.slackId,
      view: {
        id: form.viewId,
        callback_id: ids.requestModal.callbackId,
        private_metadata: form.view.private_metadata,
        state: { values: {} },
      },
    });
    const answer = await sendInteraction(env.baseUrl, SECRETS.signingSecret, payload);
    assert.equal(answer.status, 200);
    assert.equal((answer.json as { response_action?: string }).response_action, "errors");
    assert.equal(await countRequests("bob"), before);
  });

  it("a value equal to the current one with extra whitespace is not a change", async () => {
    const form = await env.openForm("bob");
    const answer = await env.submitForm("bob", form, { "Job title": "  Builder \u00a0", "First name": " Bob" });
    // NBSP is trimmed by String.prototype.trim too.
    assert.equal(answer.json?.response_action, "errors");
    assert.match(Object.values(answer.json?.errors ?? {}).join(" "), /Nothing changed/);
  });

  it("refuses NUL and other control characters in every text field", async () => {
    const form = await env.openForm("bob");
    for (const bad of ["a\u0000b", "a\u0007b", "line\nbreak", "del\u007f", "c1\u0085"]) {
      const answer = await env.submitForm("bob", form, { "Job title": bad });
      assert.equal(answer.json?.response_action, "errors", JSON.stringify(bad));
      assert.ok(answer.json?.errors?.["field:jobTitle"], JSON.stringify(answer.json));
    }
  });

  it("refuses invisible bidi/zero-width format characters that disguise a value in the approval message", async () => {
    const form = await env.openForm("bob");
    const answer = await env.submitForm("bob", form, {
      "Display name": "Bob \u202egnirts\u202c",
      "First name": "B\u200bob",
    });
    assert.equal(answer.json?.response_action, "errors", JSON.stringify(answer.json));
  });

  it("a 5,000-character value is refused under its field (max 1024)", async () => {
    const form = await env.openForm("bob");
    const answer = await env.submitForm("bob", form, { "Job title": "x".repeat(5000) });
    assert.equal(answer.json?.response_action, "errors");
    assert.match(answer.json?.errors?.["field:jobTitle"] ?? "", /At most 1024/);
  });

  it("emoji at the 1024 boundary: 512 emoji (1024 code units) accepted and stored whole", async () => {
    const form = await env.openForm("bob");
    const value = "😀".repeat(512);
    const answer = await env.submitForm("bob", form, { Department: value });
    assert.equal(answer.json?.response_action, "update", JSON.stringify(answer.json).slice(0, 300));
    const r = (await env.app.store.listRequestsByRequester(PEOPLE.bob.slackId, 1))[0];
    assert.equal(r?.changes.find((c) => c.field === "department")?.newValue, value);
    const msg = await env.approvalMessage(r?.id ?? 0);
    // No lone surrogate anywhere in what Slack received.
    assert.doesNotMatch(JSON.stringify(msg.blocks), /\\ud83d(?!\\ude00)/i);
    await waitUntil(() => true, 1, "");
  });
});
