/**
 * `npm run slack-sim`: the tests' fake Slack Web API as a standalone server, to try the bot with
 * no Slack workspace (e.g. on a machine without internet). Point SLACK_API_URL at it, then send
 * signed requests with `npm run slack-send`.
 *
 * Env: SLACK_SIM_PORT (8788), SLACK_SIM_USERS ("U0000000001=alice@example.com,…": Slack users
 * and their emails; defaults match `npm run jc-sim`'s sample users).
 */

import { sampleUsers } from "../../src/sim/fake-jumpcloud.js";
import { startFakeSlack } from "./fake-slack.js";

const port = Number(process.env.SLACK_SIM_PORT ?? 8788);
const users = process.env.SLACK_SIM_USERS
  ? process.env.SLACK_SIM_USERS.split(",").map((pair) => {
      const [id = "", email = ""] = pair.split("=").map((s) => s.trim());
      return { id, email };
    })
  : sampleUsers().map((u, i) => ({ id: `U00000000${String(i + 1).padStart(2, "0")}`, email: u.email }));

const slack = await startFakeSlack({ port, host: "127.0.0.1" });
for (const u of users) slack.addUser({ id: u.id, email: u.email, name: u.email.split("@")[0] ?? u.id });
console.log(
  [
    `Fake Slack Web API on ${slack.url}`,
    "",
    "In .env:",
    `  SLACK_API_URL=${slack.url}`,
    "  SLACK_BOT_TOKEN=xoxb-anything",
    "  SLACK_SIGNING_SECRET=trial-secret   (any value; give slack-send the same one)",
    "",
    "Users (Slack id = email):",
    ...users.map((u) => `  ${u.id} = ${u.email}`),
    "",
    "Send a signed /jc-update as the first user (BOT_URL: the bot's address, default port 3000):",
    `  SLACK_SIGNING_SECRET=trial-secret ${port === 8788 ? "" : `SLACK_SIM_URL=${new URL(slack.url).origin} `}npm run slack-send -- command ${users[0]?.id ?? "U0000000001"} ""`,
    "Trace of every Web API call the bot makes: GET /__sim/calls on this server.",
  ].join("\n"),
);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    void slack.close().then(() => process.exit(0));
  });
}
