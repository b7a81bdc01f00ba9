import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import Ajv from "ajv";
import { editableFields, type FieldPolicy, mayEditField } from "../../src/requests/field-policy.js";
import {
  DEFAULT_ADMIN_FIELDS,
  DEFAULT_SELF_SERVICE_FIELDS,
  fieldDef,
  fieldLabel,
  readField,
  STANDARD_FIELDS,
} from "../../src/requests/fields.js";
import type { Change, JcUser } from "../../src/requests/types.js";
import { type BulkUserUpdate, buildUserUpdate } from "../../src/requests/update-body.js";
import { bulkSchemaPath } from "../../src/sim/fake-jumpcloud.js";

// ---- contract: every body must validate against JumpCloud's `bulk-user-update` ----

const OPENAPI_PATH = bulkSchemaPath();
const openapi = JSON.parse(readFileSync(OPENAPI_PATH, "utf8")) as {
  definitions: Record<string, Record<string, unknown>>;
};
const bulkUserUpdate = openapi.definitions["bulk-user-update"];
assert.ok(bulkUserUpdate, "bulk-user-update definition not found");

const ajv = new Ajv.default({ strict: false, allErrors: true, validateFormats: false });
const validateOfficial = ajv.compile({ ...bulkUserUpdate });

/**
 * The official schema allows any extra key; this stricter copy also refuses keys JumpCloud does
 * not know (a stray `phone.work` or a leaked phone `id`), at the top and inside list entries.
 */
function strictCopy(schema: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(schema) as {
    properties: Record<string, { items?: Record<string, unknown> }>;
    additionalProperties?: boolean;
  };
  copy.additionalProperties = false;
  for (const key of ["phoneNumbers", "attributes"]) {
    const items = copy.properties[key]?.items;
    assert.ok(items, `${key} has no item schema`);
    items.additionalProperties = false;
    items.required = key === "phoneNumbers" ? ["type", "number"] : ["name", "value"];
  }
  return copy;
}
const validateStrict = ajv.compile(strictCopy(bulkUserUpdate));

function assertValidBody(body: BulkUserUpdate): void {
  assert.equal(validateOfficial(body), true, ajv.errorsText(validateOfficial.errors));
  assert.equal(validateStrict(body), true, ajv.errorsText(validateStrict.errors));
}

function update(userId: string, changes: Change[], current: JcUser | undefined): BulkUserUpdate {
  const body = buildUserUpdate(userId, changes, current);
  assertValidBody(body);
  return body;
}

function change(field: string, newValue: string, oldValue = ""): Change {
  return { field, oldValue, newValue };
}

const USER: JcUser = {
  _id: "5f0c1a2b3c4d5e6f7a8b9c0d",
  email: "ada@example.com",
  username: "ada",
  firstname: "Ada",
  lastname: "Lovelace",
  department: "Engines",
  phoneNumbers: [
    { id: "p1", type: "work", number: "+44 20 7946 0000" },
    { id: "p2", type: "mobile", number: "+44 7700 900000" },
    { id: "p3", type: "home", number: "+44 20 7946 1111" },
  ],
  attributes: [
    { name: "costCode", value: "CC-1" },
    { name: "building", value: "B2" },
  ],
};

// ---- labels ----

describe("fields: labels (SPEC §3)", () => {
  it("standard field keys and labels, in modal order", () => {
    assert.deepEqual(
      STANDARD_FIELDS.map((f) => [f.key, f.label]),
      [
        ["firstname", "First name"],
        ["middlename", "Middle name"],
        ["lastname", "Last name"],
        ["displayname", "Display name"],
        ["jobTitle", "Job title"],
        ["department", "Department"],
        ["location", "Location"],
        ["phone.work", "Work phone"],
        ["phone.mobile", "Mobile phone"],
        ["email", "Email"],
        ["username", "Username"],
        ["alternateEmail", "Alternate email"],
        ["employeeIdentifier", "Employee ID"],
        ["employeeType", "Employee type"],
        ["company", "Company"],
        ["costCenter", "Cost center"],
        ["manager", "Manager"],
      ],
    );
  });

  it("a custom attribute's label is its name", () => {
    assert.equal(fieldLabel("attributes.costCode"), "costCode");
    assert.deepEqual(fieldDef("attributes.costCode"), {
      key: "attributes.costCode",
      label: "costCode",
      kind: "attribute",
      maxLength: 1024,
    });
  });

  it("unknown keys have no definition and are labelled by their key", () => {
    assert.equal(fieldDef("password"), undefined);
    assert.equal(fieldDef("attributes."), undefined);
    assert.equal(fieldDef("attributes.*"), undefined);
    assert.equal(fieldDef("phone.home"), undefined);
    assert.equal(fieldLabel("password"), "password");
  });

  it("default policy: 9 self-service fields, the rest admin plus every attribute", () => {
    assert.deepEqual(DEFAULT_SELF_SERVICE_FIELDS, [
      "firstname",
      "middlename",
      "lastname",
      "displayname",
      "jobTitle",
      "department",
      "location",
      "phone.work",
      "phone.mobile",
    ]);
    assert.deepEqual(DEFAULT_ADMIN_FIELDS, [
      "email",
      "username",
      "alternateEmail",
      "employeeIdentifier",
      "employeeType",
      "company",
      "costCenter",
      "manager",
      "attributes.*",
    ]);
  });
});

describe("fields: readField", () => {
  it("phones by type", () => {
    assert.equal(readField(USER, "phone.work"), "+44 20 7946 0000");
    assert.equal(readField(USER, "phone.mobile"), "+44 7700 900000");
  });
  it("a phone type the user lacks, or no phone list at all → ''", () => {
    assert.equal(readField({ ...USER, phoneNumbers: [{ type: "home", number: "1" }] }, "phone.work"), "");
    assert.equal(readField({ _id: "x", email: "e@x.io", username: "e" }, "phone.mobile"), "");
  });
  it("attributes by name", () => {
    assert.equal(readField(USER, "attributes.costCode"), "CC-1");
    assert.equal(readField(USER, "attributes.building"), "B2");
  });
  it("a missing attribute, or no attribute list → ''", () => {
    assert.equal(readField(USER, "attributes.floor"), "");
    assert.equal(readField({ _id: "x", email: "e@x.io", username: "e" }, "attributes.costCode"), "");
  });
  it("plain fields", () => {
    assert.equal(readField(USER, "firstname"), "Ada");
    assert.equal(readField(USER, "email"), "ada@example.com");
  });
  it("a missing plain field, or a non-string value → ''", () => {
    assert.equal(readField(USER, "middlename"), "");
    assert.equal(readField({ ...USER, manager: undefined, suspended: true } as JcUser, "suspended"), "");
    assert.equal(readField({ ...USER, unix_uid: 5001 } as JcUser, "unix_uid"), "");
  });
});

// ---- policy ----

const DEFAULT_POLICY: FieldPolicy = { selfService: DEFAULT_SELF_SERVICE_FIELDS, admin: DEFAULT_ADMIN_FIELDS };

describe("field policy", () => {
  it("editableFields for a non-admin: only the 9 self-service fields, even when the target has attributes", () => {
    assert.deepEqual(
      editableFields(DEFAULT_POLICY, USER, false).map((f) => f.key),
      DEFAULT_SELF_SERVICE_FIELDS,
    );
  });

  it("editableFields for an admin: all standard fields, then the target's attributes sorted", () => {
    const target: JcUser = {
      ...USER,
      attributes: [
        { name: "zone", value: "1" },
        { name: "building", value: "B2" },
        { name: "costCode", value: "CC-1" },
      ],
    };
    const defs = editableFields(DEFAULT_POLICY, target, true);
    assert.deepEqual(
      defs.map((f) => f.key),
      [...STANDARD_FIELDS.map((f) => f.key), "attributes.building", "attributes.costCode", "attributes.zone"],
    );
    assert.deepEqual(
      defs.slice(-3).map((f) => f.label),
      ["building", "costCode", "zone"],
    );
  });

  it("editableFields for an admin on a user without attributes: the 17 standard fields", () => {
    const defs = editableFields(DEFAULT_POLICY, { _id: "x", email: "e@x.io", username: "e" }, true);
    assert.equal(defs.length, 17);
    assert.deepEqual(defs, [...STANDARD_FIELDS]);
  });

  it("attributes.costCode self-service: offered to non-admins even when the target lacks it", () => {
    const policy: FieldPolicy = {
      selfService: [...DEFAULT_SELF_SERVICE_FIELDS, "attributes.costCode"],
      admin: DEFAULT_ADMIN_FIELDS,
    };
    const bare: JcUser = { _id: "x", email: "e@x.io", username: "e", attributes: [{ name: "building", value: "B2" }] };
    assert.deepEqual(
      editableFields(policy, bare, false).map((f) => f.key),
      [...DEFAULT_SELF_SERVICE_FIELDS, "attributes.costCode"],
    );
    assert.deepEqual(
      editableFields(policy, bare, true).map((f) => f.key),
      [...STANDARD_FIELDS.map((f) => f.key), "attributes.building", "attributes.costCode"],
    );
  });

  it("a field in neither list is shown to nobody", () => {
    const policy: FieldPolicy = { selfService: ["firstname"], admin: ["email"] };
    assert.deepEqual(
      editableFields(policy, USER, true).map((f) => f.key),
      ["firstname", "email"],
    );
    assert.deepEqual(
      editableFields(policy, USER, false).map((f) => f.key),
      ["firstname"],
    );
  });

  it("mayEditField: self-service for everyone, admin fields for admins only, attributes.* covers every attribute", () => {
    assert.equal(mayEditField(DEFAULT_POLICY, "firstname", false), true);
    assert.equal(mayEditField(DEFAULT_POLICY, "phone.mobile", false), true);
    assert.equal(mayEditField(DEFAULT_POLICY, "email", false), false);
    assert.equal(mayEditField(DEFAULT_POLICY, "email", true), true);
    assert.equal(mayEditField(DEFAULT_POLICY, "attributes.costCode", false), false);
    assert.equal(mayEditField(DEFAULT_POLICY, "attributes.costCode", true), true);
    assert.equal(mayEditField(DEFAULT_POLICY, "password", true), false);
    const policy: FieldPolicy = { selfService: ["attributes.costCode"], admin: [] };
    assert.equal(mayEditField(policy, "attributes.costCode", false), true);
    assert.equal(mayEditField(policy, "attributes.building", false), false);
    assert.equal(mayEditField(policy, "attributes.building", true), false);
    assert.equal(mayEditField(policy, "firstname", true), false);
  });
});

// ---- bulk update bodies ----

describe("buildUserUpdate", () => {
  it("scalar fields are set by key, id first", () => {
    const body = update(
      USER._id,
      [change("firstname", "Augusta", "Ada"), change("jobTitle", "Analyst"), change("employeeIdentifier", "E-2")],
      USER,
    );
    assert.deepEqual(body, { id: USER._id, firstname: "Augusta", jobTitle: "Analyst", employeeIdentifier: "E-2" });
    assert.deepEqual(Object.keys(body), ["id", "firstname", "jobTitle", "employeeIdentifier"]);
  });

  it("a scalar field cleared is sent as ''", () => {
    assert.deepEqual(update(USER._id, [change("department", "", "Engines")], USER), { id: USER._id, department: "" });
  });

  it("no phone or attribute change: no lists sent, current user not needed", () => {
    const body = update(USER._id, [change("lastname", "King")], undefined);
    assert.deepEqual(body, { id: USER._id, lastname: "King" });
  });

  it("a phone change sends the whole list, the other entries kept in place, without JumpCloud's ids", () => {
    const body = update(USER._id, [change("phone.mobile", "+44 7700 900999", "+44 7700 900000")], USER);
    assert.deepEqual(body, {
      id: USER._id,
      phoneNumbers: [
        { type: "work", number: "+44 20 7946 0000" },
        { type: "mobile", number: "+44 7700 900999" },
        { type: "home", number: "+44 20 7946 1111" },
      ],
    });
    for (const phone of body.phoneNumbers ?? []) assert.equal("id" in phone, false);
  });

  it("a new phone type is appended to the list", () => {
    const current: JcUser = { ...USER, phoneNumbers: [{ id: "p3", type: "home", number: "123" }] };
    assert.deepEqual(update(USER._id, [change("phone.work", "555 0100")], current).phoneNumbers, [
      { type: "home", number: "123" },
      { type: "work", number: "555 0100" },
    ]);
  });

  it("emptying a phone removes that entry and keeps the others", () => {
    const body = update(USER._id, [change("phone.work", "", "+44 20 7946 0000")], USER);
    assert.deepEqual(body.phoneNumbers, [
      { type: "mobile", number: "+44 7700 900000" },
      { type: "home", number: "+44 20 7946 1111" },
    ]);
  });

  it("emptying the only phone sends an empty list (not an omitted one)", () => {
    const current: JcUser = { ...USER, phoneNumbers: [{ id: "p1", type: "work", number: "1234" }] };
    assert.deepEqual(update(USER._id, [change("phone.work", "", "1234")], current), { id: USER._id, phoneNumbers: [] });
  });

  it("both phones changed at once: one list with both", () => {
    const body = update(USER._id, [change("phone.work", "111"), change("phone.mobile", "222")], USER);
    assert.deepEqual(body.phoneNumbers, [
      { type: "work", number: "111" },
      { type: "mobile", number: "222" },
      { type: "home", number: "+44 20 7946 1111" },
    ]);
  });

  it("a second number of the changed type is kept: only the one the form showed changes", () => {
    const current: JcUser = {
      ...USER,
      phoneNumbers: [
        { type: "work", number: "1" },
        { type: "home", number: "2" },
        { type: "work", number: "3" },
      ],
    };
    assert.deepEqual(update(USER._id, [change("phone.work", "999")], current).phoneNumbers, [
      { type: "work", number: "999" },
      { type: "home", number: "2" },
      { type: "work", number: "3" },
    ]);
    assert.deepEqual(update(USER._id, [change("phone.work", "")], current).phoneNumbers, [
      { type: "home", number: "2" },
      { type: "work", number: "3" },
    ]);
  });

  it("an attribute change keeps the other attributes", () => {
    const body = update(USER._id, [change("attributes.costCode", "CC-9", "CC-1")], USER);
    assert.deepEqual(body, {
      id: USER._id,
      attributes: [
        { name: "costCode", value: "CC-9" },
        { name: "building", value: "B2" },
      ],
    });
  });

  it("a new attribute is appended after the current ones", () => {
    const body = update(USER._id, [change("attributes.floor", "3")], USER);
    assert.deepEqual(body.attributes, [
      { name: "costCode", value: "CC-1" },
      { name: "building", value: "B2" },
      { name: "floor", value: "3" },
    ]);
  });

  it("emptying an attribute removes it", () => {
    const body = update(USER._id, [change("attributes.building", "", "B2")], USER);
    assert.deepEqual(body.attributes, [{ name: "costCode", value: "CC-1" }]);
  });

  it("a non-string attribute value from JumpCloud is sent as a string", () => {
    const current = { ...USER, attributes: [{ name: "floor", value: 3 as unknown as string }] };
    const body = update(USER._id, [change("attributes.costCode", "CC-2")], current);
    assert.deepEqual(body.attributes, [
      { name: "floor", value: "3" },
      { name: "costCode", value: "CC-2" },
    ]);
  });

  it("scalar, phone and attribute changes together make one valid body", () => {
    const body = update(
      USER._id,
      [
        change("firstname", "Augusta"),
        change("phone.work", "(020) 7946-0001"),
        change("attributes.costCode", "CC-3"),
        change("manager", "5f0c1a2b3c4d5e6f7a8b9c99"),
      ],
      USER,
    );
    assert.deepEqual(body, {
      id: USER._id,
      firstname: "Augusta",
      manager: "5f0c1a2b3c4d5e6f7a8b9c99",
      phoneNumbers: [
        { type: "work", number: "(020) 7946-0001" },
        { type: "mobile", number: "+44 7700 900000" },
        { type: "home", number: "+44 20 7946 1111" },
      ],
      attributes: [
        { name: "costCode", value: "CC-3" },
        { name: "building", value: "B2" },
      ],
    });
  });

  it("the contract schemas really refuse bad bodies (the check can fail)", () => {
    assert.equal(validateOfficial({ id: "x", firstname: 42 }), false);
    assert.equal(validateOfficial({ id: "x", employeeIdentifier: "7".repeat(257) }), false);
    assert.equal(validateStrict({ id: "x", "phone.work": "123" }), false);
    assert.equal(validateStrict({ id: "x", phoneNumbers: [{ id: "p1", type: "work", number: "1" }] }), false);
    assert.equal(validateStrict({ id: "x", attributes: [{ name: "a" }] }), false);
  });
});
