import { z } from "zod";
import { type FieldDef, fieldDef } from "./fields.js";
import type { Change, FieldKey } from "./types.js";

// Control characters (C0, DEL, C1) and invisible format characters (zero-width, bidi overrides,
// BOM) are never valid: they make a value read differently from what is stored.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/;
const PHONE = /^[0-9 +\-().]{3,30}$/;
const USERNAME = /^[A-Za-z][^\s@]{0,29}$/;

function text(max: number) {
  return z
    .string()
    .max(max, `At most ${max} characters.`)
    .refine(
      (v) => !CONTROL.test(v),
      "Remove control or invisible characters (tabs, line breaks, zero-width or direction marks).",
    );
}

function schemaFor(def: FieldDef): z.ZodType<string> {
  switch (def.kind) {
    case "email":
      return text(def.maxLength).refine(
        (v) => v === "" || z.email().safeParse(v).success,
        "Enter a valid email address.",
      );
    case "username":
      return text(30).refine(
        (v) => USERNAME.test(v),
        "Must start with a letter, with no spaces or @, at most 30 characters.",
      );
    case "phone":
      return text(30).refine(
        (v) => v === "" || PHONE.test(v),
        "Use digits, spaces and + - ( ) . only, 3 to 30 characters.",
      );
    default:
      return text(def.maxLength);
  }
}

/** Fields that may not be emptied: JumpCloud requires them. */
const REQUIRED: ReadonlySet<FieldKey> = new Set(["email", "username"]);

export const REASON_MAX = 500;
export const reasonSchema = z
  .string()
  .trim()
  .min(1, "Say why this change is needed.")
  .max(REASON_MAX, `At most ${REASON_MAX} characters.`)
  .refine(
    (v) =>
      !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/.test(
        v,
      ),
    "Remove control or invisible characters.",
  );

/** Why `value` (already trimmed) cannot be stored in this field, or undefined when it can. */
export function valueError(def: FieldDef, value: string): string | undefined {
  if (value === "" && REQUIRED.has(def.key)) return `${def.label} cannot be empty.`;
  const parsed = schemaFor(def).safeParse(value);
  return parsed.success ? undefined : (parsed.error.issues[0]?.message ?? "Invalid value.");
}

export interface ValidationResult {
  changes: Change[];
  /** Field key → message fit for the user. */
  errors: Record<FieldKey, string>;
}

/**
 * Validates submitted values field by field (SPEC §3) and keeps only real changes.
 * `submitted` holds the raw input per field; `current` the values seen when the modal opened.
 */
export function validateChanges(
  submitted: Readonly<Record<FieldKey, string | null | undefined>>,
  current: Readonly<Record<FieldKey, string>>,
  allowed: readonly FieldKey[],
): ValidationResult {
  const changes: Change[] = [];
  const errors: Record<FieldKey, string> = {};
  for (const [key, raw] of Object.entries(submitted)) {
    const def = fieldDef(key);
    if (!def || !allowed.includes(key)) {
      errors[key] = "You may not change this field.";
      continue;
    }
    const value = (raw ?? "").trim();
    const oldValue = current[key] ?? "";
    // The form shows values trimmed; stray spaces in JumpCloud are not a change.
    if (value === oldValue || value === oldValue.trim()) continue;
    const error = valueError(def, value);
    if (error) {
      errors[key] = error;
      continue;
    }
    changes.push({ field: key, oldValue, newValue: value });
  }
  return { changes, errors };
}
