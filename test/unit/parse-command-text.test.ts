import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type CommandIntent, parseCommandText } from "../../src/slack/parse-command-text.js";

const cases: [text: string, expected: CommandIntent][] = [
  ["", { kind: "self" }],
  ["   ", { kind: "self" }],
  ["help", { kind: "help" }],
  ["HELP", { kind: "help" }],
  ["status", { kind: "status" }],
  ["status 12", { kind: "status", requestId: 12 }],
  ["status #12", { kind: "status", requestId: 12 }],
  ["  status   7 ", { kind: "status", requestId: 7 }],
  ["bulk", { kind: "bulk" }],
  ["<@U123ABC|bob>", { kind: "target", ref: { kind: "slack", userId: "U123ABC" } }],
  ["<@U123ABC>", { kind: "target", ref: { kind: "slack", userId: "U123ABC" } }],
  ["<@W0ENTERPRISE|eve>", { kind: "target", ref: { kind: "slack", userId: "W0ENTERPRISE" } }],
  ["bob@example.com", { kind: "target", ref: { kind: "email", email: "bob@example.com" } }],
  ["<mailto:bob@example.com|bob@example.com>", { kind: "target", ref: { kind: "email", email: "bob@example.com" } }],
  ["<mailto:bob@example.com>", { kind: "target", ref: { kind: "email", email: "bob@example.com" } }],
  ["jdoe", { kind: "target", ref: { kind: "username", username: "jdoe" } }],
  ["j.doe-2", { kind: "target", ref: { kind: "username", username: "j.doe-2" } }],
  ["help me", { kind: "invalid", text: "help me" }],
  ["bulk now", { kind: "invalid", text: "bulk now" }],
  ["status abc", { kind: "invalid", text: "status abc" }],
  ["status 1 2", { kind: "invalid", text: "status 1 2" }],
  // Slack sends escaped mentions when the manifest turns escaping on: a bare @name is not one.
  ["@bob", { kind: "invalid", text: "@bob" }],
  ["a b", { kind: "invalid", text: "a b" }],
  ["<@U123ABC> extra", { kind: "invalid", text: "<@U123ABC> extra" }],
  ["<@bob>", { kind: "invalid", text: "<@bob>" }],
  ["1jdoe", { kind: "invalid", text: "1jdoe" }],
  [`j${"x".repeat(30)}`, { kind: "invalid", text: `j${"x".repeat(30)}` }],
  ["<#C123|general>", { kind: "invalid", text: "<#C123|general>" }],
];

describe("parseCommandText", () => {
  for (const [text, expected] of cases) {
    it(`${JSON.stringify(text)} → ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(parseCommandText(text), expected);
    });
  }

  it("an invalid command keeps the trimmed text for the error message", () => {
    assert.deepEqual(parseCommandText("  do something  "), { kind: "invalid", text: "do something" });
  });
});
