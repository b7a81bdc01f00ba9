import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { WebClient } from "@slack/web-api";
import { createLogger } from "../../src/logger.js";
import { reportInterruptedChecks } from "../../src/slack/report-interrupted-checks.js";
import { cleanupAfterEach, openFreshPgStore, PG_SKIP } from "../support/postgres.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * app.ts (replicas): `setInterval(stale, BULK_CHECK_HEARTBEAT_MS)` where stale() starts
 * reportInterruptedChecks without waiting for the previous pass. A pass slower than 15 s (Slack
 * slow or retrying: the WebClient has no timeout) overlaps the next one; both list the same
 * check (it is ended only after the DM) and both DM the admin.
 */
describe("attack: interrupted bulk-check reports overlapping (PostgreSQL)", { skip: PG_SKIP }, () => {
  const cleanup = cleanupAfterEach();

  it("two passes of the 15 s timer in flight at once tell the admin once", async () => {
    const { store } = await openFreshPgStore(cleanup);
    await store.startBulkCheck({
      draftId: "draft-1",
      requesterId: "U0ADMIN",
      viewId: "V1",
      startedAt: "2025-03-01T09:00:00.000Z",
    });
    const dms: string[] = [];
    const client = {
      views: {
        // Slack slow to answer (the first pass is still here when the timer fires again).
        update: async () => {
          await sleep(300);
          return { ok: true };
        },
      },
      chat: {
        postMessage: async (args: { channel: string }) => {
          dms.push(args.channel);
          return { ok: true };
        },
      },
    } as unknown as WebClient;
    const deps = { store, client, logger: createLogger({ level: "silent" }) };
    const renewedBefore = "2025-03-01T10:00:00.000Z";
    const first = reportInterruptedChecks(deps, renewedBefore);
    await sleep(50); // the next tick of setInterval(stale, …)
    const second = reportInterruptedChecks(deps, renewedBefore);
    await Promise.all([first, second]);
    // Observed: ["U0ADMIN", "U0ADMIN"]: the "your check was interrupted" DM twice.
    assert.deepEqual(dms, ["U0ADMIN"]);
  });
});
