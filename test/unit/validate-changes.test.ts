import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { REASON_MAX, reasonSchema, validateChanges } from "../../src/requests/validate-changes.js";

const ALL = [
  "firstname",
  "middlename",
  "lastname",
  "displayname",
  "jobTitle",
  "department",
  "location",
  "phone.work",
  "phone.mobile",
  "email",
  "username",
  "alternateEmail",
  "employeeIdentifier",
  "employeeType",
  "company",
  "costCenter",
  "manager",
  "attributes.costCode",
];

const CURRENT: Record<string, string> = {
  firstname: "Ada",
  lastname: "Lovelace",
  email: "ada@example.com",
  username: "ada",
  "phone.work": "+44 20 7946 0000",
  employeeIdentifier: "E-1",
};

/** Validates one field; returns its change (or undefined) and its error (or undefined). */
function one(field: string, value: string | null | undefined, current: Record<string, string> = CURRENT) {
  const result = validateChanges({ [field]: value }, current, ALL);
  assert.ok(result.changes.length <= 1);
  return { change: result.changes[0], error: result.errors[field], result };
}

function accepted(field: string, value: string, current: Record<string, string> = CURRENT): void {
  const { change, error } = one(field, value, current);
  assert.equal(error, undefined, `${field}=${JSON.stringify(value)} refused: ${error}`);
  assert.deepEqual(change, { field, oldValue: current[field] ?? "", newValue: value.trim() });
}

function refused(field: string, value: string, message?: string | RegExp): void {
  const { change, error, result } = one(field, value);
  assert.equal(change, undefined, `${field}=${JSON.stringify(value)} accepted`);
  assert.equal(typeof error, "string", `${field}=${JSON.stringify(value)} has no error`);
  assert.deepEqual(Object.keys(result.errors), [field]);
  if (typeof message === "string") assert.equal(error, message);
  else if (message) assert.match(error ?? "", message);
}

describe("validateChanges: what counts as a change", () => {
  it("an unchanged value produces no change and no error", () => {
    assert.deepEqual(validateChanges({ firstname: "Ada", lastname: "Lovelace" }, CURRENT, ALL), {
      changes: [],
      errors: {},
    });
  });

  it("an unchanged value with surrounding spaces is still unchanged (trimmed)", () => {
    assert.deepEqual(validateChanges({ firstname: "  Ada \t" }, CURRENT, ALL), { changes: [], errors: {} });
  });

  it("an unset field submitted empty, null or undefined is no change", () => {
    assert.deepEqual(validateChanges({ middlename: "", department: null, location: undefined }, CURRENT, ALL), {
      changes: [],
      errors: {},
    });
  });

  it("the new value is trimmed", () => {
    assert.deepEqual(one("firstname", "  Augusta  ").change, {
      field: "firstname",
      oldValue: "Ada",
      newValue: "Augusta",
    });
  });

  it("each change keeps the old value seen at request time ('' when unset)", () => {
    const { changes, errors } = validateChanges(
      { firstname: "Augusta", department: "Engineering", "attributes.costCode": "CC-7" },
      CURRENT,
      ALL,
    );
    assert.deepEqual(errors, {});
    assert.deepEqual(changes, [
      { field: "firstname", oldValue: "Ada", newValue: "Augusta" },
      { field: "department", oldValue: "", newValue: "Engineering" },
      { field: "attributes.costCode", oldValue: "", newValue: "CC-7" },
    ]);
  });

  it("clearing an optional field is a change to ''", () => {
    assert.deepEqual(one("phone.work", "").change, { field: "phone.work", oldValue: "+44 20 7946 0000", newValue: "" });
    assert.deepEqual(one("lastname", "   ").change, { field: "lastname", oldValue: "Lovelace", newValue: "" });
  });

  it("valid changes are kept while invalid ones get errors", () => {
    const { changes, errors } = validateChanges({ firstname: "Augusta", username: "1ada" }, CURRENT, ALL);
    assert.deepEqual(changes, [{ field: "firstname", oldValue: "Ada", newValue: "Augusta" }]);
    assert.deepEqual(Object.keys(errors), ["username"]);
  });
});

describe("validateChanges: permissions", () => {
  it("a field not in `allowed` is refused with an error keyed by that field", () => {
    const { changes, errors } = validateChanges({ email: "new@example.com", firstname: "Augusta" }, CURRENT, [
      "firstname",
    ]);
    assert.deepEqual(changes, [{ field: "firstname", oldValue: "Ada", newValue: "Augusta" }]);
    assert.deepEqual(errors, { email: "You may not change this field." });
  });

  it("an unknown field is refused even when listed in `allowed`", () => {
    const { changes, errors } = validateChanges({ password: "hunter2" }, {}, ["password"]);
    assert.deepEqual(changes, []);
    assert.deepEqual(errors, { password: "You may not change this field." });
  });
});

describe("validateChanges: text fields", () => {
  it("control characters are refused", () => {
    refused(
      "firstname",
      "Ad\u0000a",
      "Remove control or invisible characters (tabs, line breaks, zero-width or direction marks).",
    );
    refused(
      "lastname",
      "Love\nlace",
      "Remove control or invisible characters (tabs, line breaks, zero-width or direction marks).",
    );
    refused(
      "department",
      "R\tD",
      "Remove control or invisible characters (tabs, line breaks, zero-width or direction marks).",
    );
    refused(
      "jobTitle",
      "Boss\u007f",
      "Remove control or invisible characters (tabs, line breaks, zero-width or direction marks).",
    );
    refused(
      "location",
      "Lon\u0085don",
      "Remove control or invisible characters (tabs, line breaks, zero-width or direction marks).",
    );
    refused(
      "displayname",
      "Ada\u202eecalevol",
      "Remove control or invisible characters (tabs, line breaks, zero-width or direction marks).",
    );
    refused(
      "firstname",
      "A\u200bda",
      "Remove control or invisible characters (tabs, line breaks, zero-width or direction marks).",
    );
  });

  it("a 1024-character firstname is accepted", () => {
    accepted("firstname", "a".repeat(1024));
  });

  it("a 1025-character firstname is refused", () => {
    refused("firstname", "a".repeat(1025), "At most 1024 characters.");
  });

  it("employeeIdentifier: 256 accepted, 257 refused", () => {
    accepted("employeeIdentifier", "7".repeat(256));
    refused("employeeIdentifier", "7".repeat(257), "At most 256 characters.");
  });

  it("custom attributes are text up to 1024", () => {
    accepted("attributes.costCode", "x".repeat(1024));
    refused("attributes.costCode", "x".repeat(1025), "At most 1024 characters.");
  });
});

describe("validateChanges: emails", () => {
  it("valid addresses are accepted", () => {
    accepted("email", "ada.lovelace@example.co.uk");
    accepted("alternateEmail", "ada+home@example.org");
  });

  it("invalid addresses are refused", () => {
    for (const value of [
      "ada",
      "ada@",
      "@example.com",
      "ada@example",
      "ada lovelace@example.com",
      "ada@@example.com",
    ]) {
      refused("email", value, "Enter a valid email address.");
      refused("alternateEmail", value, "Enter a valid email address.");
    }
  });

  it("emptying email is refused", () => {
    refused("email", "", "Email cannot be empty.");
    refused("email", "   ", "Email cannot be empty.");
  });

  it("emptying alternateEmail is allowed", () => {
    accepted("alternateEmail", "", { ...CURRENT, alternateEmail: "old@example.com" });
  });
});

describe("validateChanges: username", () => {
  it("a username starting with a letter, no spaces, no @, is accepted", () => {
    accepted("username", "a.lovelace-1");
    accepted("username", "A");
  });

  it("30 characters accepted, 31 refused", () => {
    accepted("username", `a${"b".repeat(29)}`);
    refused("username", `a${"b".repeat(30)}`);
  });

  it("must start with a letter", () => {
    refused("username", "1ada", /start with a letter/);
    refused("username", "_ada", /start with a letter/);
    refused("username", ".ada", /start with a letter/);
  });

  it("no spaces and no @", () => {
    refused("username", "ada lovelace", /no spaces or @/);
    refused("username", "ada@example", /no spaces or @/);
  });

  it("emptying username is refused", () => {
    refused("username", "", "Username cannot be empty.");
  });
});

describe("validateChanges: phone numbers", () => {
  it("digits, spaces and + - ( ) . are accepted", () => {
    accepted("phone.mobile", "+1 (555) 010-9999");
    accepted("phone.mobile", "555.010.9999");
    accepted("phone.work", "123");
  });

  it("3 characters accepted, 2 refused; 30 accepted, 31 refused", () => {
    accepted("phone.mobile", "911");
    refused("phone.mobile", "91", /3 to 30 characters/);
    accepted("phone.mobile", "1".repeat(30));
    refused("phone.mobile", "1".repeat(31));
  });

  it("letters and other symbols are refused", () => {
    refused("phone.mobile", "call me", /digits, spaces/);
    refused("phone.mobile", "555-CALL", /digits, spaces/);
    refused("phone.mobile", "+1#555", /digits, spaces/);
    refused("phone.mobile", "555/0100", /digits, spaces/);
  });
});

describe("reasonSchema", () => {
  it("REASON_MAX is 500", () => {
    assert.equal(REASON_MAX, 500);
  });

  it("0 characters refused", () => {
    const parsed = reasonSchema.safeParse("");
    assert.equal(parsed.success, false);
    assert.equal(parsed.error?.issues[0]?.message, "Say why this change is needed.");
  });

  it("only spaces is refused (trimmed to 0)", () => {
    assert.equal(reasonSchema.safeParse("   ").success, false);
  });

  it("1 character accepted", () => {
    assert.deepEqual(reasonSchema.safeParse("x"), { success: true, data: "x" });
  });

  it("500 characters accepted", () => {
    const value = "r".repeat(500);
    assert.deepEqual(reasonSchema.safeParse(value), { success: true, data: value });
  });

  it("501 characters refused", () => {
    const parsed = reasonSchema.safeParse("r".repeat(501));
    assert.equal(parsed.success, false);
    assert.equal(parsed.error?.issues[0]?.message, "At most 500 characters.");
  });

  it("the reason is trimmed; line breaks inside are allowed", () => {
    assert.deepEqual(reasonSchema.safeParse("  moved teams\nsee ticket 12  "), {
      success: true,
      data: "moved teams\nsee ticket 12",
    });
  });

  it("control characters other than tab and line breaks are refused", () => {
    assert.equal(reasonSchema.safeParse("a\u0000b").success, false);
    assert.equal(reasonSchema.safeParse("a\u001bb").success, false);
  });
});
