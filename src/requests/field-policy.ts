import { type FieldDef, fieldDef, isAttributeField, STANDARD_FIELDS } from "./fields.js";
import type { FieldKey, JcUser } from "./types.js";

export interface FieldPolicy {
  selfService: readonly FieldKey[];
  admin: readonly FieldKey[];
}

function listed(list: readonly FieldKey[], key: FieldKey): boolean {
  return list.includes(key) || (isAttributeField(key) && list.includes("attributes.*"));
}

/**
 * May this requester edit this field? Self-service fields: anyone (on their own record, or
 * admins on any). Admin fields: admins only. A field in neither list is not editable.
 */
export function mayEditField(policy: FieldPolicy, key: FieldKey, isAdmin: boolean): boolean {
  if (listed(policy.selfService, key)) return true;
  return isAdmin && listed(policy.admin, key);
}

/**
 * The fields the modal shows, in order: standard fields, then the custom attributes the target
 * has or the policy names explicitly.
 */
export function editableFields(policy: FieldPolicy, target: JcUser, isAdmin: boolean): FieldDef[] {
  const keys: FieldKey[] = STANDARD_FIELDS.map((f) => f.key);
  const attributeKeys = new Set<FieldKey>();
  for (const a of target.attributes ?? []) if (a.name) attributeKeys.add(`attributes.${a.name}`);
  for (const k of [...policy.selfService, ...policy.admin]) {
    if (isAttributeField(k) && k !== "attributes.*") attributeKeys.add(k);
  }
  keys.push(...[...attributeKeys].sort());
  return keys
    .filter((k) => mayEditField(policy, k, isAdmin))
    .map((k) => fieldDef(k))
    .filter((d): d is FieldDef => d !== undefined);
}

/** The field columns an admin may use in a bulk CSV, as the modal and its errors list them. */
export function bulkColumns(policy: FieldPolicy): string[] {
  const keys: string[] = STANDARD_FIELDS.map((f) => f.key).filter((k) => mayEditField(policy, k, true));
  if (mayEditField(policy, "attributes.x", true)) keys.push("attributes.<name>");
  else keys.push(...[...policy.selfService, ...policy.admin].filter((k) => isAttributeField(k)));
  return keys;
}
