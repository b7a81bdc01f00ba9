import type { WebClient } from "@slack/web-api";
import { errorMessage } from "../errors.js";
import type { JumpCloudClient } from "../jumpcloud/jumpcloud-client.js";
import { JumpCloudError } from "../jumpcloud/jumpcloud-error.js";
import type { RetryPolicy } from "../jumpcloud/retry-policy.js";
import type { JcUser } from "../requests/types.js";
import { escapeMrkdwn } from "./blocks/index.js";
import type { TargetRef } from "./parse-command-text.js";

export type FindTargetResult =
  | { ok: true; user: JcUser; label: string; slackId: string | null }
  | { ok: false; message: string }; // mrkdwn, safe to show

/** A person waits on a modal: retry briefly, not for 30 s. */
export const INTERACTIVE_RETRY: RetryPolicy = { attempts: 2, baseDelayMs: 500, jitter: 0.2 };

/** Finds the JumpCloud user behind a Slack user, an email or a username (SPEC §4.1). */
export async function findTarget(
  ref: TargetRef,
  deps: { client: WebClient; jumpcloud: JumpCloudClient },
): Promise<FindTargetResult> {
  try {
    if (ref.kind === "slack") {
      const info = await deps.client.users.info({ user: ref.userId });
      if (info.user?.is_bot) return { ok: false, message: "That is a bot, not a person with a JumpCloud account." };
      const email = info.user?.profile?.email;
      if (!email) {
        return {
          ok: false,
          message:
            "Slack did not share this person's email address. The app needs the `users:read.email` scope (see the README), and the profile must have an email.",
        };
      }
      return pick(await deps.jumpcloud.findUsersByEmail(email, INTERACTIVE_RETRY), `email ${email}`, ref.userId);
    }
    if (ref.kind === "email") {
      return pick(
        await deps.jumpcloud.findUsersByEmail(ref.email, INTERACTIVE_RETRY),
        `email ${ref.email}`,
        null,
        TYPED,
      );
    }
    return pick(
      await deps.jumpcloud.findUsersByUsername(ref.username, INTERACTIVE_RETRY),
      `username ${ref.username}`,
      null,
      TYPED,
    );
  } catch (error) {
    if (error instanceof JumpCloudError) {
      if (error.status === 401 || error.status === 403) {
        // The operator's log says what to fix; the person in Slack only needs to know it's not them.
        return {
          ok: false,
          message: "JumpCloud refused the bot's API key. IT has to fix the bot's configuration; please tell them.",
        };
      }
      return {
        ok: false,
        message: `Could not read JumpCloud: ${escapeMrkdwn(error.message)}. Please try again in a minute.`,
      };
    }
    const code = (error as { data?: { error?: string } }).data?.error;
    if (code === "user_not_found") return { ok: false, message: "Slack does not know that user." };
    return { ok: false, message: `Could not look the user up: ${escapeMrkdwn(errorMessage(error))}` };
  }
}

/** What to do when nobody matches an email or username an admin typed (admins are IT). */
const TYPED = "Check the spelling, or look the user up in the JumpCloud console.";

function pick(
  users: JcUser[],
  what: string,
  slackId: string | null,
  notFound = "Ask IT to check the account.",
): FindTargetResult {
  if (users.length === 0) {
    return { ok: false, message: `No JumpCloud user has the ${escapeMrkdwn(what)}. ${notFound}` };
  }
  if (users.length > 1) {
    return {
      ok: false,
      message: `${users.length} JumpCloud users match the ${escapeMrkdwn(what)}; IT must resolve the duplicate first.`,
    };
  }
  const user = users[0] as JcUser;
  return { ok: true, user, label: user.email || user.username, slackId };
}
