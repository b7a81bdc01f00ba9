import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { PEOPLE, startTestEnv, type TestEnv } from "../support/start-test-env.js";

/**
 * README: "if two JumpCloud users differ only in case, a row naming either is refused as
 * ambiguous (use the `id`). The same goes for managers." The existing attack test only writes
 * the capitalised twin exactly as JumpCloud holds it. Written any other way (all capitals, as
 * HR exports do, or all lower case) the row silently resolves to the lower-case twin.
 */
describe("attack: two JumpCloud users whose emails differ only in case, named in another case", () => {
  let env: TestEnv;
  const UPPER = { _id: "64a0000000000000000000d1", email: "Dana@example.com", username: "dana1", department: "Sales" };
  const LOWER = {
    _id: "64a0000000000000000000d2",
    email: "dana@example.com",
    username: "dana2",
    department: "Support",
  };
  before(async () => {
    env = await startTestEnv();
  });
  after(async () => env.close());
  beforeEach(() => {
    env.jc.reset();
    env.jc.addUser({ ...UPPER });
    env.jc.addUser({ ...LOWER });
  });

  it("DANA@EXAMPLE.COM is refused as ambiguous, never stored as a change of dana@example.com", async () => {
    const outcome = await env.bulk("admin", { csv: "email,department\nDANA@EXAMPLE.COM,Finance\n" });
    if (outcome.ok) {
      const [row] = await env.app.store.listRequestRows(outcome.requestId);
      assert.fail(`stored request #${outcome.requestId} changing ${row?.userId} (${LOWER._id} is dana@example.com)`);
    }
    assert.match(outcome.problems, /2 JumpCloud users match this email/);
  });

  it("a manager given as DANA@EXAMPLE.COM is refused as ambiguous, not set to dana@example.com", async () => {
    const outcome = await env.bulk("admin", { csv: `email,manager\n${PEOPLE.alice.email},DANA@EXAMPLE.COM\n` });
    if (outcome.ok) {
      const [row] = await env.app.store.listRequestRows(outcome.requestId);
      assert.fail(`stored: manager → ${row?.changes.find((c) => c.field === "manager")?.newValue}`);
    }
    assert.match(outcome.problems, /2 JumpCloud users have the email/);
  });
});
