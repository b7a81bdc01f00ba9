// `npm start` builds only when a source file is newer than the last build: restarts stay fast.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync, utimesSync } from "node:fs";
import { join } from "node:path";

const stamp = "dist/.tsbuildinfo";
function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}
const inputs = Math.max(
  newest("src"),
  statSync("tsconfig.json").mtimeMs,
  statSync("tsconfig.build.json").mtimeMs,
  statSync("package-lock.json").mtimeMs,
);
if (existsSync("dist/main.js") && existsSync(stamp) && statSync(stamp).mtimeMs >= inputs) process.exit(0);
console.error("jc-update-bot: building (tsc)…");
execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"], { stdio: "inherit" });
// tsc leaves its build info untouched when nothing changed: mark this build as current.
const now = new Date();
utimesSync(stamp, now, now);
