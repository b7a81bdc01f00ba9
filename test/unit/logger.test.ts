import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { createLogger } from "../../src/logger.js";

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, destination };
}

describe("logger", () => {
  it("scrubs configured secrets wherever they appear, and redacts token fields", () => {
    const { lines, destination } = capture();
    const logger = createLogger({ level: "debug", secrets: ["xoxb-secret-123", "jc-key-456"], destination });
    logger.info(
      { url: "https://x/?k=jc-key-456", nested: { deep: ["xoxb-secret-123"] } },
      "calling with xoxb-secret-123",
    );
    logger.error({ err: new Error("JumpCloud said jc-key-456 is wrong") }, "failed");
    logger.info({ token: "some-token-value", headers: { authorization: "Bearer abc", "x-api-key": "raw" } }, "headers");
    const out = lines.join("");
    assert.equal(lines.length, 3);
    assert.ok(!out.includes("xoxb-secret-123"));
    assert.ok(!out.includes("jc-key-456"));
    assert.ok(!out.includes("some-token-value"));
    assert.ok(!out.includes("Bearer abc"));
    assert.ok(!out.includes('"raw"'));
    assert.equal((out.match(/\[REDACTED\]/g) ?? []).length, 8); // 5 scrubbed (the error twice: message and stack), 3 redacted
  });
});
