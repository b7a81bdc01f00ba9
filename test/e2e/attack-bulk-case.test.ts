import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { parse } from "csv-parse/sync";
import { PEOPLE, startTestEnv, type TestEnv, waitUntil } from "../support/start-test-env.js";

const rowsOf = (csv: string) => parse(csv, { bom: true }) as string[][];

/** A JumpCloud user whose email (and username) JumpCloud holds with capitals. */
const CAROL = {
  _id: "64a0000000000000000000c1",
  email: "Carol.Smith@Example.com",
  username: "Carol",
  firstname: "Carol",
};
/** A JumpCloud user whose email starts with "-" (valid, and a formula character in spreadsheets). */
const OPS = { _id: "64a0000000000000000000c2", email: "-ops@example.com", username: "ops", firstname: "Ops" };

describe("attack: bulk lookups and case, failed-rows round trip", () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv();
  });
  after(async () => env.close());
  beforeEach(() => {
    env.jc.reset();
    env.jc.addUser({ ...CAROL });
    env.jc.addUser({ ...OPS });
  });

  it("a manager given by email exactly as JumpCloud holds it (capitals) is found", async () => {
    // The identity lookup retries "as written" when the lower-case search misses; the manager
    // lookup only ever searches the lower-cased email, so this manager is never found.
    const outcome = await env.bulk("admin", {
      csv: `email,manager\n${PEOPLE.alice.email},${CAROL.email}\n`,
    });
    assert.ok(outcome.ok, outcome.ok ? "" : outcome.problems);
    const [row] = await env.app.store.listRequestRows(outcome.requestId);
    assert.deepEqual(
      row?.changes.map((c) => [c.field, c.newValue]),
      [["manager", CAROL._id]],
    );
  });

  it("a new email that a JumpCloud user already holds with capitals is refused as taken", async () => {
    const outcome = await env.bulk("admin", {
      csv: `email,email\n${PEOPLE.bob.email},carol.smith@example.com\n`,
    });
    assert.equal(outcome.ok, false, "stored a request giving Bob Carol's email (in another case)");
    if (!outcome.ok) assert.match(outcome.problems, /already has this email/);
  });

  it("README: 'Emails and usernames match whatever their case' — a lower-case email finds a user stored with capitals", async () => {
    const outcome = await env.bulk("admin", {
      csv: "email,department\ncarol.smith@example.com,Ops\n",
    });
    assert.ok(outcome.ok, outcome.ok ? "" : outcome.problems);
  });

  it("README: the same for usernames — 'carol' finds the user 'Carol'", async () => {
    const outcome = await env.bulk("admin", { csv: "username,department\ncarol,Ops\n" });
    assert.ok(outcome.ok, outcome.ok ? "" : outcome.problems);
  });

  it("the failed-rows CSV can be submitted again as it is, also when the user's email starts with '-'", async () => {
    env.jc.failUser(OPS._id, "Department rejected");
    const outcome = await env.bulk("admin", { csv: `email,department\n${OPS.email},Ops Team\n` });
    assert.ok(outcome.ok, outcome.ok ? "" : outcome.problems);
    const id = outcome.requestId;
    await env.click("approver", "approve", id);
    await env.waitForState(id, "failed");
    await waitUntil(
      () => env.slack.uploads.some((u) => u.filename === `jc-update-${id}-failed.csv`),
      5000,
      "failed-rows CSV",
    );
    const failed = env.slack.uploads.find((u) => u.filename === `jc-update-${id}-failed.csv`)?.content ?? "";
    // The identity cell is neutralised on the way out ("'-ops@example.com")…
    assert.equal(rowsOf(failed)[1]?.[0], `'${OPS.email}`);
    env.jc.reset();
    env.jc.addUser({ ...OPS });
    // …and must be read back as the same user, as the field cells are.
    const again = await env.bulk("admin", { file: { name: `jc-update-${id}-failed.csv`, content: failed } });
    assert.ok(again.ok, again.ok ? "" : again.problems);
    const [row] = await env.app.store.listRequestRows(again.requestId);
    assert.equal(row?.userId, OPS._id);
  });
});

describe("attack: two JumpCloud users whose emails differ only in case", () => {
  let env: TestEnv;
  const UPPER = {
    _id: "64a0000000000000000000d1",
    email: "Dana@example.com",
    username: "dana1",
    firstname: "Dana",
    department: "Sales",
  };
  const LOWER = {
    _id: "64a0000000000000000000d2",
    email: "dana@example.com",
    username: "dana2",
    firstname: "dana",
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

  it("a row naming Dana@example.com never changes dana@example.com: both match, so it is ambiguous", async () => {
    const outcome = await env.bulk("admin", { csv: `email,department\n${UPPER.email},Finance\n` });
    assert.equal(outcome.ok, false);
    assert.match(
      outcome.ok ? "" : outcome.problems,
      /Row 2, column "email": 2 JumpCloud users match this email; use their id instead\./,
    );
  });

  it("the same as a manager: refused as ambiguous, not set to the other person", async () => {
    const outcome = await env.bulk("admin", { csv: `email,manager\n${PEOPLE.alice.email},${UPPER.email}\n` });
    assert.equal(outcome.ok, false);
    assert.match(outcome.ok ? "" : outcome.problems, /2 JumpCloud users have the email Dana@example\.com/);
  });

  // Written in a third case (as HR exports write): still both users, still ambiguous.
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

/**
 * README: "The other columns are fields, by key or label in any case … `attributes.<name>`".
 * Alice has the custom attribute costCode = CC-100. A header written `attributes.CostCode`
 * (a spreadsheet auto-capitalising, a person typing) is accepted, but names a *new* attribute:
 * the diff shows "" → CC-200 and, once approved, Alice has both costCode=CC-100 and CostCode=CC-200.
 */
describe("attack: bulk attribute columns in another case", () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv();
  });
  after(async () => env.close());
  beforeEach(() => env.jc.reset());

  it("attributes.CostCode updates the existing costCode (or is refused), never adds a second attribute", async () => {
    const outcome = await env.bulk("admin", { csv: `email,attributes.CostCode\n${PEOPLE.alice.email},CC-200\n` });
    assert.equal(outcome.ok, false);
    assert.match(
      outcome.ok ? "" : outcome.problems,
      /Row 2, column "attributes\.CostCode": The user has the attribute "costCode" \(names are case-sensitive\): name the column attributes\.costCode\./,
    );
    assert.deepEqual(env.jc.users.get(PEOPLE.alice.jcId)?.attributes, [{ name: "costCode", value: "CC-100" }]);
  });
});
