import { ids } from "../ids.js";
import { contextBlock, sectionBlock } from "./mrkdwn.js";
import type { KnownBlock, SlackMessage } from "./slack-types.js";

/** Usage of the slash command; `error` (our own text, already safe) is shown first. */
export function buildHelpMessage(isAdmin: boolean, error?: string): SlackMessage {
  const cmd = ids.command;
  const blocks: KnownBlock[] = [];
  if (error) blocks.push(sectionBlock(`:warning: ${error}`));
  blocks.push(
    sectionBlock(
      [
        `*How to use \`${cmd}\`*`,
        `• \`${cmd}\`: change your own JumpCloud record (a form prefilled with your current values)`,
        `• \`${cmd} status [id]\`: your recent requests, or one request by its number`,
        `• \`${cmd} help\`: this help`,
      ].join("\n"),
    ),
  );
  if (isAdmin) {
    blocks.push(
      sectionBlock(
        [
          "*For admins*",
          `• \`${cmd} @user\`, \`${cmd} email\` or \`${cmd} username\`: change someone else's record`,
          `• \`${cmd} bulk\`: change many users at once from a CSV`,
        ].join("\n"),
      ),
    );
  }
  blocks.push(contextBlock("Every change is approved by IT before it is applied in JumpCloud."));
  return { text: error ? `${error.slice(0, 200)} See \`${cmd} help\`.` : `How to use ${cmd}`, blocks };
}
