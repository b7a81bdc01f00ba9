import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ids } from "../../src/slack/ids.js";
import { PEOPLE, startTestEnv, type TestEnv } from "../support/start-test-env.js";

/**
 * The single-user form finds users the way the bulk CSV does (JumpCloudClient.lookupUsers):
 * emails and usernames whatever their case, so a user stored with capitals is found and an
 * email held with other capitals counts as taken.
 */
describe("single requests: emails and usernames whatever their case", () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv();
    env.jc.addUser({ _id: "64a0000000000000000000c1", email: "Carol.Smith@Example.com", username: "Carol" });
  });
  after(async () => env.close());

  it("/jc-update carol.smith@example.com (an admin) opens the form of Carol.Smith@Example.com", async () => {
    const form = await env.openForm("admin", "carol.smith@example.com");
    assert.match(JSON.stringify(form.view.blocks), /Carol\.Smith@Example\.com/);
  });

  it("/jc-update carol (a username) finds Carol", async () => {
    const form = await env.openForm("admin", "carol");
    assert.match(JSON.stringify(form.view.blocks), /Carol\.Smith@Example\.com/);
  });

  it("a new email that another user holds with other capitals is refused as taken", async () => {
    const form = await env.openForm("admin", PEOPLE.alice.email);
    const answer = await env.submitForm("admin", form, { Email: "CAROL.SMITH@EXAMPLE.COM" });
    assert.equal(answer.json?.response_action, "errors");
    assert.equal(
      answer.json?.errors?.[ids.requestModal.fieldBlock("email")],
      "Another JumpCloud user already has this email.",
    );
  });
});
