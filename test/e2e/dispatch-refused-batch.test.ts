import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { PEOPLE, startTestEnv, type TestEnv } from "../support/start-test-env.js";

/**
 * JumpCloud answers 400 to a bulk call carrying one value it will not take: the whole call is
 * refused. One bad row must not fail the other users of its batch.
 */
describe("a batch JumpCloud refuses whole (400)", () => {
  let env: TestEnv | undefined;
  afterEach(async () => {
    await env?.close();
    env = undefined;
  });

  it("its users are sent one at a time: only the refused one fails, with JumpCloud's message", async () => {
    env = await startTestEnv();
    env.jc.refuseUser(PEOPLE.bob.jcId, "invalid value for costCenter");
    const csv = ["email,department", ...["alice", "bob", "admin"].map((p) => `${p}@example.com,Finance`)].join("\n");
    const outcome = await env.bulk("admin", { csv, reason: "Finance moves" });
    assert.ok(outcome.ok, outcome.ok ? "" : outcome.problems);
    const id = outcome.requestId;
    assert.equal((await env.click("approver", "approve", id)).status, 200);
    await env.waitForState(id, "partially_applied");

    const patches = env.jc.calls.filter((c) => c.method === "PATCH" && c.path === "/api/v2/bulk/users");
    assert.deepEqual(
      patches.map((c) => [(c.body as { id: string }[]).map((u) => u.id).sort(), c.status]),
      [
        [[PEOPLE.alice.jcId, PEOPLE.admin.jcId, PEOPLE.bob.jcId].sort(), 400],
        // Then one by one in approval (CSV) order: each alone, never again together.
        [[PEOPLE.alice.jcId], 201],
        [[PEOPLE.bob.jcId], 400],
        [[PEOPLE.admin.jcId], 201],
      ],
    );
    const items = await env.app.store.listItems(id);
    assert.deepEqual(
      items.map((i) => [i.userId, i.state]),
      [
        [PEOPLE.alice.jcId, "applied"],
        [PEOPLE.bob.jcId, "failed"],
        [PEOPLE.admin.jcId, "applied"],
      ],
    );
    assert.match(items[1]?.message ?? "", /400: invalid value for costCenter/);
    assert.equal(env.jc.users.get(PEOPLE.alice.jcId)?.department, "Finance");
    assert.equal(env.jc.users.get(PEOPLE.admin.jcId)?.department, "Finance");
    assert.notEqual(env.jc.users.get(PEOPLE.bob.jcId)?.department, "Finance");
    assert.deepEqual(env.jc.schemaViolations, []);
  });

  it("a later request for the same users is batched again as usual", async () => {
    env = await startTestEnv();
    const e = env;
    const approve = async (csv: string, state: string) => {
      const outcome = await e.bulk("admin", { csv, reason: "Moves" });
      assert.ok(outcome.ok, outcome.ok ? "" : outcome.problems);
      await e.click("approver", "approve", outcome.requestId);
      await e.waitForState(outcome.requestId, state);
    };
    env.jc.refuseUser(PEOPLE.bob.jcId, "invalid value");
    await approve("email,department\nalice@example.com,Sales\nbob@example.com,Sales\n", "partially_applied");
    env.jc.calls.length = 0;
    await approve("email,department\nalice@example.com,Legal\nadmin@example.com,Legal\n", "applied");
    const patches = env.jc.calls.filter((c) => c.method === "PATCH" && c.path === "/api/v2/bulk/users");
    assert.equal(patches.length, 1, "both users in one call");
    assert.equal((patches[0]?.body as unknown[]).length, 2);
  });
});
