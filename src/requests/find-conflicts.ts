import { fieldLabel, readField } from "./fields.js";
import type { Change, JcUser } from "./types.js";

export interface Conflict {
  change: Change;
  /** The value in JumpCloud now, neither the one seen at request time nor the requested one. */
  current: string;
}

/**
 * Fields someone else changed since the request was made (HR sync, another admin): sending
 * would overwrite their change. A field already holding the requested value is no conflict.
 */
export function findConflicts(changes: readonly Change[], current: JcUser): Conflict[] {
  return changes
    .map((change) => ({ change, current: readField(current, change.field) }))
    .filter(({ change, current }) => current !== change.oldValue && current.trim() !== change.newValue);
}

/** For people: `Job title: now "X" in JumpCloud (was "A" when requested; requested "B")`. */
export function describeConflicts(conflicts: readonly Conflict[]): string {
  const parts = conflicts.map(
    ({ change, current }) =>
      `${fieldLabel(change.field)}: now "${current}" in JumpCloud (was "${change.oldValue}" when requested; requested "${change.newValue}")`,
  );
  return `Not sent: changed in JumpCloud since the request. ${parts.join("; ")}. Make a new request if it is still needed.`;
}
