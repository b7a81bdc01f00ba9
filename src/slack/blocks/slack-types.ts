/**
 * Block Kit types, taken from the `@slack/types` namespace that `@slack/bolt` re-exports
 * (bolt does not export them at top level, and `@slack/types` is not a direct dependency).
 */
import type { types } from "@slack/bolt";

export type KnownBlock = types.KnownBlock;
export type ModalView = types.ModalView;
export type SectionBlock = types.SectionBlock;
export type HeaderBlock = types.HeaderBlock;
export type ContextBlock = types.ContextBlock;
export type ActionsBlock = types.ActionsBlock;
export type InputBlock = types.InputBlock;
export type Button = types.Button;
export type PlainTextElement = types.PlainTextElement;
export type MrkdwnElement = types.MrkdwnElement;

/** What every message builder returns: blocks plus the short notification/fallback text. */
export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}
