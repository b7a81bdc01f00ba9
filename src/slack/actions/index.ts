import type { App, BlockAction, ButtonAction } from "@slack/bolt";
import type { ListenerDeps } from "../deps.js";
import { ids } from "../ids.js";
import { handleCancelClick } from "./handle-cancel-click.js";
import { handleDecisionClick } from "./handle-decision-click.js";

export function registerActions(app: App, deps: ListenerDeps): void {
  app.action<BlockAction<ButtonAction>>(ids.actions.approve, handleDecisionClick(deps, "approve"));
  app.action<BlockAction<ButtonAction>>(ids.actions.deny, handleDecisionClick(deps, "deny"));
  app.action<BlockAction<ButtonAction>>(ids.actions.cancel, handleCancelClick(deps));
}
