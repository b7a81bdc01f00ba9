import type { App } from "@slack/bolt";
import type { ListenerDeps } from "../deps.js";
import { ids } from "../ids.js";
import { handleJcUpdate } from "./handle-jc-update.js";

export function registerCommands(app: App, deps: ListenerDeps): void {
  app.command(ids.command, handleJcUpdate(deps));
}
