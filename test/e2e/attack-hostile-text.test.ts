import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ids } from "../../src/slack/ids.js";
import { PEOPLE, seedUsers, startTestEnv, type TestEnv, waitUntil } from "../support/start-test-env.js";

const EVIL =
  "<!channel> <!here|here> <@U0000000002> <http://evil.example|docs> <mailto:x@evil.example|x> <#C0000000002> *bold* _i_ ~s~ `c` &amp; >quote";
const UNESCAPED = /<!(?!date\^\d+\^)|<http|<mailto|<#C/; // <!date^…> is the app's own date format

describe("attack: hostile text everywhere Slack shows it", () => {
  let env: TestEnv;
  before(async () => {
    const users = seedUsers();
    const alice = users.find((u) => u._id === PEOPLE.alice.jcId);
    assert.ok(alice);
    alice.attributes = [
      { name: "<!channel>costCode", value: "<http://evil.example|CC-100>" },
      { name: "plain", value: "ok" },
    ];
    users.push({ _id: "64a0000000000000000000ee", email: "<!channel>@evil.example", username: "evil", jobTitle: EVIL });
    env = await startTestEnv({
      users,
      env: { APPROVER_USER_IDS: `${PEOPLE.approver.slackId},${PEOPLE.approver2.slackId}` },
    });
  });
  after(async () => env.close());

  it("field values, reason, deny reason, attribute names/values and target labels never reach Slack unescaped", async () => {
    // 1. self-service request with hostile values and reason, denied with a hostile note.
    const bobForm = await env.openForm("bob");
    const a = await env.submitForm(
      "bob",
      bobForm,
      { "Job title": EVIL.slice(0, 200), Department: "<!everyone>" },
      `${EVIL}\n${EVIL}`,
    );
    assert.equal(a.json?.response_action, "update", JSON.stringify(a.json));
    assert.doesNotMatch(JSON.stringify(a.json), UNESCAPED);
    const bobReq = (await env.app.store.listRequestsByRequester(PEOPLE.bob.slackId, 1))[0]?.id ?? 0;
    await env.approvalMessage(bobReq);
    await env.click("approver", "deny", bobReq);
    const d = await env.submitDeny("approver", bobReq, EVIL);
    assert.equal(d.status, 200);
    await env.waitForState(bobReq, "denied");

    // 2. admin changes a custom attribute with a hostile name, and edits a user whose label is hostile.
    const aliceForm = await env.openForm("admin", "alice@example.com");
    const labels = aliceForm.view.blocks.map((b) => b.label?.text).filter(Boolean);
    assert.ok(labels.includes("<!channel>costCode"), labels.join(" | ")); // plain_text: shown as typed, harmless
    const b = await env.submitForm(
      "admin",
      aliceForm,
      { "<!channel>costCode": "<http://evil.example|CC-200>" },
      "fix <!here>",
    );
    assert.equal(b.json?.response_action, "update", JSON.stringify(b.json));
    const aliceReq = (await env.app.store.listRequestsByRequester(PEOPLE.admin.slackId, 1))[0]?.id ?? 0;

    const evilForm = await env.openForm("admin", "evil");
    const header = JSON.stringify(evilForm.view.blocks[0]);
    assert.doesNotMatch(header, UNESCAPED);
    const c = await env.submitForm("admin", evilForm, { "Job title": "<!subteam^S123>" }, "x");
    assert.equal(c.json?.response_action, "update", JSON.stringify(c.json));
    const evilReq = (await env.app.store.listRequestsByRequester(PEOPLE.admin.slackId, 1))[0]?.id ?? 0;

    env.jc.failUser(PEOPLE.alice.jcId, "<!channel> broke <http://evil.example|here>");
    for (const id of [aliceReq, evilReq]) {
      await env.approvalMessage(id);
      await env.click("approver", "approve", id);
    }
    await env.waitForState(aliceReq, "failed");
    await env.waitForState(evilReq, "applied");
    await waitUntil(
      () =>
        env.slack.calls.filter(
          (call) => call.method === "chat.postMessage" && call.args.channel === PEOPLE.admin.slackId,
        ).length >= 6,
      4000,
      "admin's 6 DMs",
    );
    // Status (answered in the command's ack).
    const status = await env.command("bob", `status ${bobReq}`);
    assert.doesNotMatch(status.body, UNESCAPED);
    assert.match(status.body, /&lt;!channel&gt;/);

    const bad = env.slack.calls.filter((call) =>
      UNESCAPED.test(
        JSON.stringify({
          ...call.args,
          view:
            call.method === "views.update" || call.method === "views.open"
              ? stripPlainInputs(call.args.view)
              : undefined,
        }),
      ),
    );
    assert.deepEqual(
      bad.map(
        (call) => `${call.method}: ${JSON.stringify(call.args).match(/.{0,40}(<!|<http|<mailto|<#C).{0,40}/)?.[0]}`,
      ),
      [],
    );
    // The stored data keeps the values whole (escaping is for display only).
    const stored = await env.app.store.getRequest(aliceReq);
    assert.equal(stored?.changes[0]?.newValue, "<http://evil.example|CC-200>");
    assert.deepEqual(env.jc.schemaViolations, []);
  });
});

/** plain_text labels, initial values and block ids in modals are not mrkdwn: drop them from the scan. */
function stripPlainInputs(view: unknown): unknown {
  const v = view as { blocks?: { type: string; label?: unknown; element?: unknown }[] } | undefined;
  if (!v?.blocks) return view;
  return {
    ...v,
    blocks: v.blocks.map((b) =>
      b.type === "input" ? { ...b, block_id: undefined, label: undefined, element: undefined } : b,
    ),
  };
}
void ids;
