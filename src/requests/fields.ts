import type { FieldKey, JcUser } from "./types.js";

export type FieldKind = "text" | "email" | "username" | "phone" | "manager" | "attribute";

export interface FieldDef {
  key: FieldKey;
  label: string;
  kind: FieldKind;
  maxLength: number;
}

/** SPEC §3, in modal order. Labels are a contract: tools find fields by them. */
export const STANDARD_FIELDS: readonly FieldDef[] = [
  { key: "firstname", label: "First name", kind: "text", maxLength: 1024 },
  { key: "middlename", label: "Middle name", kind: "text", maxLength: 1024 },
  { key: "lastname", label: "Last name", kind: "text", maxLength: 1024 },
  { key: "displayname", label: "Display name", kind: "text", maxLength: 1024 },
  { key: "jobTitle", label: "Job title", kind: "text", maxLength: 1024 },
  { key: "department", label: "Department", kind: "text", maxLength: 1024 },
  { key: "location", label: "Location", kind: "text", maxLength: 1024 },
  { key: "phone.work", label: "Work phone", kind: "phone", maxLength: 30 },
  { key: "phone.mobile", label: "Mobile phone", kind: "phone", maxLength: 30 },
  { key: "email", label: "Email", kind: "email", maxLength: 1024 },
  { key: "username", label: "Username", kind: "username", maxLength: 30 },
  { key: "alternateEmail", label: "Alternate email", kind: "email", maxLength: 1024 },
  { key: "employeeIdentifier", label: "Employee ID", kind: "text", maxLength: 256 },
  { key: "employeeType", label: "Employee type", kind: "text", maxLength: 1024 },
  { key: "company", label: "Company", kind: "text", maxLength: 1024 },
  { key: "costCenter", label: "Cost center", kind: "text", maxLength: 1024 },
  { key: "manager", label: "Manager", kind: "manager", maxLength: 1024 },
];

export const DEFAULT_SELF_SERVICE_FIELDS: readonly FieldKey[] = STANDARD_FIELDS.slice(0, 9).map((f) => f.key);
export const DEFAULT_ADMIN_FIELDS: readonly FieldKey[] = [
  ...STANDARD_FIELDS.slice(9).map((f) => f.key),
  "attributes.*",
];

const ATTRIBUTE_PREFIX = "attributes.";
const PHONE_PREFIX = "phone.";

export function isAttributeField(key: FieldKey): boolean {
  return key.startsWith(ATTRIBUTE_PREFIX);
}
export function attributeName(key: FieldKey): string {
  return key.slice(ATTRIBUTE_PREFIX.length);
}
export function isPhoneField(key: FieldKey): boolean {
  return key.startsWith(PHONE_PREFIX);
}
export function phoneType(key: FieldKey): string {
  return key.slice(PHONE_PREFIX.length);
}

/** A field key as written in config, CSV headers or stored changes; undefined when unknown. */
export function fieldDef(key: FieldKey): FieldDef | undefined {
  const standard = STANDARD_FIELDS.find((f) => f.key === key);
  if (standard) return standard;
  if (isAttributeField(key) && attributeName(key).length > 0 && key !== "attributes.*") {
    return { key, label: attributeName(key), kind: "attribute", maxLength: 1024 };
  }
  return undefined;
}

export function fieldLabel(key: FieldKey): string {
  return fieldDef(key)?.label ?? key;
}

/** The current value of a field on a JumpCloud user, '' when unset. */
export function readField(user: JcUser, key: FieldKey): string {
  if (isPhoneField(key)) {
    return user.phoneNumbers?.find((p) => p.type === phoneType(key))?.number ?? "";
  }
  if (isAttributeField(key)) {
    return user.attributes?.find((a) => a.name === attributeName(key))?.value ?? "";
  }
  const value = user[key];
  return typeof value === "string" ? value : "";
}
