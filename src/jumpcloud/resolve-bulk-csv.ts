import { type BulkDiff, currentManagerIds, diffBulkRows, emailsToLookUp } from "../requests/diff-bulk-rows.js";
import type { BulkCsv } from "../requests/parse-bulk-csv.js";
import type { JcUser } from "../requests/types.js";
import type { JumpCloudClient } from "./jumpcloud-client.js";

/**
 * Resolves a checked CSV's users (and the managers and new emails it names) in JumpCloud with
 * batched lookups, then diffs each row against the user's current values.
 */
export async function resolveBulkCsv(csv: BulkCsv, jumpcloud: JumpCloudClient): Promise<BulkDiff> {
  const field = csv.identity === "id" ? "_id" : csv.identity;
  // Rows that give no value need no user: they are only counted.
  const identities = csv.rows.filter((r) => Object.keys(r.values).length > 0).map((r) => r.identity);
  const users = await jumpcloud.lookupUsers(field, identities);
  const emails = emailsToLookUp(csv);
  // With an email column most are known already (every user equal but for case): look up only
  // the others.
  const isKnown = (e: string) => csv.identity === "email" && users.has(e.toLowerCase());
  const missing = emails.filter((e) => !isKnown(e));
  const more = missing.length > 0 ? await jumpcloud.lookupUsers("email", missing) : new Map<string, JcUser[]>();
  const byEmail = new Map<string, JcUser[]>([
    ...emails.filter(isKnown).map((e) => [e.toLowerCase(), users.get(e.toLowerCase()) ?? []] as const),
    ...more,
  ]);
  // The managers being replaced, to show them by email: most are among the users already read.
  const seen = new Map<string, JcUser[]>();
  for (const list of [...users.values(), ...byEmail.values()]) {
    for (const user of list) seen.set(user._id.toLowerCase(), [user]);
  }
  const unseen = currentManagerIds(csv, users).filter((id) => !seen.has(id.toLowerCase()));
  const managersById = new Map([...seen, ...(unseen.length > 0 ? await jumpcloud.lookupUsers("_id", unseen) : [])]);
  return diffBulkRows(csv, { users, byEmail, managersById });
}
