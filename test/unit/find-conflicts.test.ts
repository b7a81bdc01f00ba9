import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { describeConflicts, findConflicts } from "../../src/requests/find-conflicts.js";
import type { JcUser } from "../../src/requests/types.js";

const user: JcUser = {
  _id: "u1",
  email: "a@x.com",
  username: "a",
  jobTitle: "Manager",
  department: "R&D",
  phoneNumbers: [{ type: "work", number: "+1 555" }],
  attributes: [{ name: "costCode", value: "CC-2" }],
};

describe("findConflicts", () => {
  it("flags a field whose value moved away from the one seen at request time", () => {
    const conflicts = findConflicts([{ field: "jobTitle", oldValue: "Engineer", newValue: "Lead" }], user);
    assert.deepEqual(conflicts, [
      { change: { field: "jobTitle", oldValue: "Engineer", newValue: "Lead" }, current: "Manager" },
    ]);
    assert.equal(
      describeConflicts(conflicts),
      'Not sent: changed in JumpCloud since the request. Job title: now "Manager" in JumpCloud (was "Engineer" when requested; requested "Lead"). Make a new request if it is still needed.',
    );
  });

  it("no conflict when unchanged, or when JumpCloud already holds the requested value", () => {
    assert.deepEqual(findConflicts([{ field: "department", oldValue: "R&D", newValue: "Ops" }], user), []);
    assert.deepEqual(findConflicts([{ field: "jobTitle", oldValue: "Engineer", newValue: "Manager" }], user), []);
  });

  it("reads phones and custom attributes like the form does", () => {
    assert.equal(findConflicts([{ field: "phone.work", oldValue: "+1 444", newValue: "+1 666" }], user).length, 1);
    assert.equal(findConflicts([{ field: "phone.work", oldValue: "+1 555", newValue: "+1 666" }], user).length, 0);
    assert.equal(
      findConflicts([{ field: "attributes.costCode", oldValue: "CC-1", newValue: "CC-3" }], user)[0]?.current,
      "CC-2",
    );
    assert.equal(findConflicts([{ field: "phone.mobile", oldValue: "", newValue: "+1 777" }], user).length, 0);
  });
});
