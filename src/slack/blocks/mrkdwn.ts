import type { ContextBlock, HeaderBlock, MrkdwnElement, PlainTextElement, SectionBlock } from "./slack-types.js";
import { truncate } from "./truncate.js";

/** Slack's limits, as enforced by the builders. */
export const LIMITS = {
  sectionText: 3000,
  header: 150,
  contextText: 2000,
  viewTitle: 24,
  viewButton: 24,
  inputLabel: 2000,
  privateMetadata: 3000,
  blockId: 255,
  messageBlocks: 50,
  modalBlocks: 100,
} as const;

export function plainText(text: string, max: number): PlainTextElement {
  return { type: "plain_text", text: truncate(text, max), emoji: true };
}

export function mrkdwnText(text: string, max: number = LIMITS.sectionText): MrkdwnElement {
  return { type: "mrkdwn", text: truncate(text, max) };
}

/** A section with mrkdwn text; the text must already be escaped where it holds user text. */
export function sectionBlock(text: string): SectionBlock {
  return { type: "section", text: mrkdwnText(text) };
}

export function contextBlock(text: string): ContextBlock {
  return { type: "context", elements: [mrkdwnText(text, LIMITS.contextText)] };
}

export function headerBlock(text: string): HeaderBlock {
  return { type: "header", text: plainText(text, LIMITS.header) };
}
