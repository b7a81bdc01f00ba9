import { z } from "zod";
import { FIELD_BLOCK_PREFIX, ids } from "./ids.js";

/** view.state.values as Slack sends it: block id → action id → element state. */
export type ViewStateValues = Record<
  string,
  Record<string, { type?: string; value?: string | null; selected_user?: string | null }>
>;

export interface RequestFormInput {
  /** Field key → submitted value (users_select gives a Slack user id). */
  fields: Record<string, string | null>;
  reason: string;
}

/** Plain input from the request modal. Unknown blocks are kept so the server can refuse them. */
export function readRequestForm(values: ViewStateValues): RequestFormInput {
  const fields: Record<string, string | null> = {};
  for (const [blockId, actions] of Object.entries(values)) {
    if (!blockId.startsWith(FIELD_BLOCK_PREFIX)) continue;
    const element = actions[ids.requestModal.fieldAction];
    if (!element) continue;
    fields[blockId.slice(FIELD_BLOCK_PREFIX.length)] =
      element.type === "users_select" ? (element.selected_user ?? null) : (element.value ?? null);
  }
  const reason = values[ids.requestModal.reasonBlock]?.[ids.requestModal.reasonAction]?.value ?? "";
  return { fields, reason };
}

/** Field-key errors → `response_action: errors`, keyed by input block id. */
export function fieldErrorsToBlocks(errors: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(errors).map(([key, message]) => [ids.requestModal.fieldBlock(key), message]),
  );
}

/** Button values carry a request id written by us: plain decimal digits, nothing else. */
export const requestIdValue = z
  .string()
  .regex(/^[1-9][0-9]{0,9}$/)
  .transform(Number)
  .pipe(z.number().max(2_147_483_647));

export const draftMetadata = z.object({ draftId: z.string().uuid() });
export const requestIdMetadata = z.object({ requestId: z.number().int().positive() });

export function parseMetadata<T>(schema: z.ZodType<T>, raw: string | undefined): T | undefined {
  try {
    const parsed = schema.safeParse(JSON.parse(raw ?? ""));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
