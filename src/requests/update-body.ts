import { attributeName, isAttributeField, isPhoneField, phoneType } from "./fields.js";
import type { Change, JcAttribute, JcPhoneNumber, JcUser } from "./types.js";

/** One element of the PATCH /api/v2/bulk/users body (schema `bulk-user-update`). */
export interface BulkUserUpdate {
  id: string;
  phoneNumbers?: { type: string; number: string }[];
  attributes?: { name: string; value: string }[];
  [field: string]: unknown;
}

/**
 * Builds one user's update. Phone numbers and custom attributes are whole lists in JumpCloud:
 * a partial list drops the other entries, so the current list is sent with the changes merged
 * in. An empty new value removes the entry.
 */
export function buildUserUpdate(
  userId: string,
  changes: readonly Change[],
  current: JcUser | undefined,
): BulkUserUpdate {
  const body: BulkUserUpdate = { id: userId };
  let phones: { type: string; number: string }[] | undefined;
  let attributes: { name: string; value: string }[] | undefined;
  for (const change of changes) {
    if (isPhoneField(change.field)) {
      phones ??= (current?.phoneNumbers ?? []).map((p: JcPhoneNumber) => ({ type: p.type, number: p.number }));
      phones = mergeEntry(
        phones,
        (p) => p.type === phoneType(change.field),
        change.newValue,
        (v) => ({
          type: phoneType(change.field),
          number: v,
        }),
      );
    } else if (isAttributeField(change.field)) {
      attributes ??= (current?.attributes ?? []).map((a: JcAttribute) => ({
        name: a.name,
        value: String(a.value ?? ""),
      }));
      attributes = mergeEntry(
        attributes,
        (a) => a.name === attributeName(change.field),
        change.newValue,
        (v) => ({
          name: attributeName(change.field),
          value: v,
        }),
      );
    } else {
      body[change.field] = change.newValue;
    }
  }
  if (phones) body.phoneNumbers = phones;
  if (attributes) body.attributes = attributes;
  return body;
}

/** Replaces (or, for '', removes) the first entry of that kind; other entries stay as they are. */
function mergeEntry<T>(list: T[], matches: (e: T) => boolean, value: string, make: (v: string) => T): T[] {
  const at = list.findIndex(matches);
  if (at === -1) return value === "" ? list : [...list, make(value)];
  if (value === "") return list.filter((_, i) => i !== at);
  return list.map((e, i) => (i === at ? make(value) : e));
}
