import type { App } from "@slack/bolt";
import type { ListenerDeps } from "../deps.js";
import { ids } from "../ids.js";
import { handleBulkSubmission } from "./handle-bulk-submission.js";
import { handleDenySubmission } from "./handle-deny-submission.js";
import { handleRequestSubmission } from "./handle-request-submission.js";

export function registerViews(app: App, deps: ListenerDeps): void {
  app.view(ids.requestModal.callbackId, handleRequestSubmission(deps));
  app.view(ids.denyModal.callbackId, handleDenySubmission(deps));
  app.view(ids.bulkModal.callbackId, handleBulkSubmission(deps));
}
