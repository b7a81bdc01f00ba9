import type { Config } from "../config.js";
import type { Dispatcher } from "../jumpcloud/dispatcher.js";
import type { JumpCloudClient } from "../jumpcloud/jumpcloud-client.js";
import type { Logger } from "../logger.js";
import type { FieldPolicy } from "../requests/field-policy.js";
import type { Store } from "../store/store.js";
import type { Notifier } from "./notifier.js";
import type { Roles } from "./roles.js";

/** What every listener is given: plain objects, passed down from the composition root. */
export interface ListenerDeps {
  config: Config;
  store: Store;
  jumpcloud: JumpCloudClient;
  /** Wakes the dispatcher (or, on a replica that does not run it, the one that does). */
  dispatcher: Pick<Dispatcher, "wake">;
  /** Sends what the store queued for Slack (or tells the replica that runs the notifier). */
  notifier: Pick<Notifier, "kick">;
  roles: Roles;
  policy: FieldPolicy;
  logger: Logger;
  clock: { now(): Date };
}
