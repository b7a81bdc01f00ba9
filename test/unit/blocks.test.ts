import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type FieldDef, STANDARD_FIELDS } from "../../src/requests/fields.js";
import {
  type Change,
  type ItemRecord,
  REQUEST_STATES,
  type RequestRecord,
  type RequestState,
} from "../../src/requests/types.js";
import {
  buildApprovalMessage,
  buildBulkModal,
  buildCheckingModal,
  buildDenyModal,
  buildHelpMessage,
  buildLoadingModal,
  buildMessageModal,
  buildReceiptModal,
  buildRequestDm,
  buildRequestModal,
  buildStatusMessage,
  escapeAndTruncate,
  escapeMrkdwn,
  formatDate,
  formatProblems,
  formatValue,
  type KnownBlock,
  type ModalView,
  stateInWords,
  truncate,
} from "../../src/slack/blocks/index.js";
import { ids } from "../../src/slack/ids.js";
import { messageProblems, modalProblems, mrkdwnStrings } from "../support/block-limits.js";

const CHANNEL = "<!channel>";
const EVIL_LINK = "<http://evil|docs>";

function request(overrides: Partial<RequestRecord> = {}): RequestRecord {
  return {
    id: 42,
    kind: "single",
    state: "pending",
    requesterId: "U0REQUEST",
    targetUserId: "jc-user-1",
    targetLabel: "ada@example.com",
    targetSlackId: "U0REQUEST",
    reason: "New role after the reorg",
    changes: [
      { field: "jobTitle", oldValue: "Engineer", newValue: "Staff engineer" },
      { field: "phone.work", oldValue: "", newValue: "+1 555 0100" },
    ],
    createdAt: "2024-05-01T10:00:00.000Z",
    decidedBy: null,
    decidedAt: null,
    decisionNote: null,
    approvalChannel: "C0APPROVE",
    approvalTs: "1714557600.000100",
    statusNote: null,
    bulk: null,
    ...overrides,
  };
}

function item(overrides: Partial<ItemRecord> = {}): ItemRecord {
  return {
    id: 1,
    requestId: 42,
    userId: "jc-user-1",
    state: "queued",
    seq: 1,
    attempts: 0,
    readyAt: "2024-05-01T10:05:00.000Z",
    queuedAt: "2024-05-01T10:05:00.000Z",
    batchId: null,
    jobId: null,
    message: null,
    changes: [],
    label: "",
    row: null,
    ...overrides,
  };
}

/** Items matching a request state, as the dispatcher would have stored them. */
function itemsFor(state: RequestState, message = "Invalid value for jobTitle"): ItemRecord[] {
  switch (state) {
    case "queued":
      return [item()];
    case "submitted":
      return [item({ state: "submitted", jobId: "job-123", batchId: 7 })];
    case "applied":
      return [item({ state: "applied", jobId: "job-123", batchId: 7 })];
    case "failed":
      return [item({ state: "failed", jobId: "job-123", batchId: 7, message })];
    case "partially_applied":
      return [
        item({ state: "applied", jobId: "job-123" }),
        item({ id: 2, userId: "jc-user-2", state: "failed", jobId: "job-123", message }),
        item({ id: 3, userId: "jc-user-3", state: "unknown", jobId: "job-123" }),
      ];
    default:
      return [];
  }
}

function decided(state: RequestState, overrides: Partial<RequestRecord> = {}): RequestRecord {
  const byApprover = state !== "pending" && state !== "cancelled" && state !== "expired";
  return request({
    state,
    decidedBy: byApprover ? "U0APPROVER" : null,
    decidedAt: byApprover ? "2024-05-01T11:00:00.000Z" : null,
    decisionNote: state === "denied" ? "Not your department" : null,
    ...overrides,
  });
}

function hostileChanges(count: number, valueLength: number): Change[] {
  return Array.from({ length: count }, (_, i) => ({
    field: i % 2 === 0 ? `attributes.${CHANNEL}${i}` : "department",
    oldValue: `${CHANNEL} ${EVIL_LINK} `.repeat(valueLength).slice(0, valueLength),
    newValue: `&<>${"x".repeat(valueLength)}`.slice(0, valueLength),
  }));
}

function assertNoRawUserMarkup(payload: unknown, topText?: string): void {
  const texts = [...mrkdwnStrings(payload), ...(topText === undefined ? [] : [topText])];
  assert.ok(texts.length > 0, "payload has mrkdwn");
  for (const text of texts) {
    assert.ok(!text.includes(CHANNEL), `raw <!channel> in: ${text.slice(0, 200)}`);
    assert.ok(!text.includes("<http://evil"), `raw link in: ${text.slice(0, 200)}`);
  }
}

function allText(blocks: readonly KnownBlock[] | ModalView): string {
  return JSON.stringify(blocks);
}

function actionsBlocks(blocks: readonly KnownBlock[]): KnownBlock[] {
  return blocks.filter((b) => b.type === "actions");
}

function attributeFields(count: number): FieldDef[] {
  return Array.from({ length: count }, (_, i) => ({
    key: `attributes.attr${i}`,
    label: `Attribute ${i}`,
    kind: "attribute" as const,
    maxLength: 1024,
  }));
}

describe("escapeMrkdwn", () => {
  it("escapes &, < and > so mentions and links become plain text", () => {
    assert.equal(escapeMrkdwn(`a & ${CHANNEL} ${EVIL_LINK}`), "a &amp; &lt;!channel&gt; &lt;http://evil|docs&gt;");
  });
  it("escapes an already escaped entity again (shown literally)", () => {
    assert.equal(escapeMrkdwn("&lt;"), "&amp;lt;");
  });
});

describe("truncate", () => {
  it("keeps short text as is", () => {
    assert.equal(truncate("hello", 5), "hello");
  });
  it("cuts long text to max with an ellipsis", () => {
    const out = truncate("abcdefghij", 5);
    assert.equal(out, "abcd…");
    assert.equal(out.length, 5);
  });
  it("never splits a surrogate pair", () => {
    const out = truncate("a😀bcdef", 3);
    assert.equal(out, "a…");
    assert.ok(out.length <= 3);
    assert.doesNotMatch(out, /[\ud800-\udbff](?![\udc00-\udfff])/);
  });
  it("returns '' when max leaves no room", () => {
    assert.equal(truncate("abc", 0), "");
  });
});

describe("escapeAndTruncate / formatValue / formatDate", () => {
  it("bounds the escaped length and never cuts inside an entity", () => {
    const out = escapeAndTruncate("&&&&&&&&&&", 12);
    assert.ok(out.length <= 12, out);
    assert.equal(out, "&amp;&amp;…");
  });
  it("shows an empty value as _(empty)_", () => {
    assert.equal(formatValue(""), "_(empty)_");
  });
  it("escapes and shortens values to 300 characters by default", () => {
    const out = formatValue(`${CHANNEL}${"x".repeat(1000)}`);
    assert.ok(out.startsWith("&lt;!channel&gt;"));
    assert.ok(out.length <= 300);
    assert.ok(out.endsWith("…"));
  });
  it("formats dates with Slack date formatting and an ISO fallback", () => {
    assert.equal(
      formatDate("2023-11-14T22:13:20.000Z"),
      "<!date^1700000000^{date_short_pretty} {time}|2023-11-14T22:13:20.000Z>",
    );
  });
  it("shows a non-date escaped", () => {
    assert.equal(formatDate("<!here>"), "&lt;!here&gt;");
  });
});

describe("stateInWords", () => {
  it("has distinct words for every state", () => {
    const words = REQUEST_STATES.map(stateInWords);
    assert.ok(words.every((w) => w.length > 0));
    assert.equal(new Set(words).size, REQUEST_STATES.length);
    assert.equal(stateInWords("cancelled"), "Withdrawn by the requester");
  });
});

describe("buildLoadingModal / buildMessageModal", () => {
  it("loading modal: callback id, Cancel, no submit, loading text", () => {
    const view = buildLoadingModal();
    assert.deepEqual(modalProblems(view), []);
    assert.equal(view.callback_id, ids.loadingModal.callbackId);
    assert.equal(view.title.text, "JumpCloud update");
    assert.equal(view.close?.text, "Cancel");
    assert.equal(view.submit, undefined);
    assert.match(allText(view), /Loading the current JumpCloud record/);
  });
  it("message modal keeps titles within 24 characters and text within 3000", () => {
    const view = buildMessageModal("A title that is far too long for Slack", "x".repeat(5000));
    assert.deepEqual(modalProblems(view), []);
    assert.equal(view.close?.text, "Close");
    assert.equal(view.submit, undefined);
  });
});

describe("buildRequestModal", () => {
  const current: Record<string, string> = {
    firstname: "Ada",
    lastname: "Lovelace",
    middlename: "",
    "phone.work": "+1 555 0100",
    email: "ada@example.com",
  };
  const modal = (over: Partial<Parameters<typeof buildRequestModal>[0]> = {}) =>
    buildRequestModal({
      draftId: "draft-1",
      targetLabel: "ada@example.com",
      isSelf: true,
      fields: STANDARD_FIELDS,
      current,
      managerSlackId: "U0MANAGER",
      ...over,
    });
  const inputs = (view: ModalView) =>
    view.blocks.filter((b) => b.type === "input") as Extract<KnownBlock, { type: "input" }>[];

  it("has one input per field with the exact labels, in order, then Reason", () => {
    const view = modal();
    assert.deepEqual(modalProblems(view), []);
    assert.deepEqual(
      inputs(view).map((b) => b.label.text),
      [...STANDARD_FIELDS.map((f) => f.label), "Reason"],
    );
    assert.ok(inputs(view).some((b) => b.label.text === "First name"));
    assert.ok(inputs(view).some((b) => b.label.text === "Work phone"));
    assert.deepEqual(
      inputs(view).map((b) => b.block_id),
      [...STANDARD_FIELDS.map((f) => ids.requestModal.fieldBlock(f.key)), ids.requestModal.reasonBlock],
    );
  });

  it("sets callback id, title, submit, close and a round-tripping private_metadata", () => {
    const view = modal({ draftId: 'd"1\\<x>' });
    assert.equal(view.callback_id, ids.requestModal.callbackId);
    assert.equal(view.title.text, "JumpCloud update");
    assert.equal(view.submit?.text, "Send for approval");
    assert.equal(view.close?.text, "Cancel");
    assert.deepEqual(JSON.parse(view.private_metadata ?? ""), { draftId: 'd"1\\<x>' });
  });

  it("prefills initial_value only for non-empty current values", () => {
    const byBlock = new Map(inputs(modal()).map((b) => [b.block_id, b.element] as const));
    const first = byBlock.get(ids.requestModal.fieldBlock("firstname"));
    assert.equal(first?.type, "plain_text_input");
    assert.equal(first && "initial_value" in first ? first.initial_value : undefined, "Ada");
    for (const key of ["middlename", "displayname", "jobTitle"]) {
      const el = byBlock.get(ids.requestModal.fieldBlock(key));
      assert.ok(el && !("initial_value" in el), `${key} has no initial_value`);
    }
  });

  it("uses plain_text_input with bounded max_length, optional fields and a phone hint", () => {
    for (const b of inputs(modal())) {
      if (b.block_id === ids.requestModal.reasonBlock) continue;
      assert.equal(b.optional, true);
      const def = STANDARD_FIELDS.find((f) => ids.requestModal.fieldBlock(f.key) === b.block_id);
      assert.ok(def);
      if (def.kind === "manager") continue;
      assert.equal(b.element.type, "plain_text_input");
      assert.equal(b.element.action_id, ids.requestModal.fieldAction);
      assert.equal("max_length" in b.element ? b.element.max_length : undefined, Math.min(def.maxLength, 3000));
      assert.equal(b.hint?.text, def.kind === "phone" ? "Digits, spaces and + - ( ) ." : undefined);
    }
  });

  it("uses a users_select for Manager, preselecting the current manager", () => {
    const manager = inputs(modal()).find((b) => b.label.text === "Manager");
    assert.deepEqual(manager?.element, {
      type: "users_select",
      action_id: ids.requestModal.fieldAction,
      initial_user: "U0MANAGER",
    });
    const without = inputs(modal({ managerSlackId: null })).find((b) => b.label.text === "Manager");
    assert.ok(without && !("initial_user" in without.element));
  });

  it("has a required multiline Reason of at most 500 characters", () => {
    const reason = inputs(modal()).at(-1);
    assert.equal(reason?.block_id, ids.requestModal.reasonBlock);
    assert.equal(reason?.optional, false);
    assert.deepEqual(
      { ...reason?.element, min_length: undefined },
      {
        type: "plain_text_input",
        action_id: ids.requestModal.reasonAction,
        multiline: true,
        max_length: 500,
        min_length: undefined,
      },
    );
  });

  it("says whose record it is, escaping the target label", () => {
    assert.match(allText(modal()), /Your JumpCloud record/);
    const other = modal({ isSelf: false, targetLabel: `R&D ${CHANNEL}` });
    assert.deepEqual(modalProblems(other), []);
    assertNoRawUserMarkup(other);
    assert.ok(mrkdwnStrings(other).some((t) => t.includes("JumpCloud record of *R&amp;D &lt;!channel&gt;*")));
  });

  it("keeps a current value longer than the field's limit within max_length", () => {
    const view = modal({ current: { "phone.work": "+1 ".repeat(20) } });
    assert.deepEqual(modalProblems(view), []);
  });

  it("fits 95 custom attribute fields within 100 blocks, all shown", () => {
    const fields = attributeFields(95);
    const view = modal({ fields, current: { "attributes.attr3": "x".repeat(1024) } });
    assert.deepEqual(modalProblems(view), []);
    assert.equal(inputs(view).length, 96);
  });

  it("leaves out fields that do not fit and says how many", () => {
    const view = modal({ fields: attributeFields(150) });
    assert.deepEqual(modalProblems(view), []);
    assert.equal(view.blocks.length, 100);
    const shown = inputs(view).length - 1;
    assert.match(allText(view), new RegExp(`${150 - shown} more fields`));
    assert.equal(inputs(view).at(-1)?.block_id, ids.requestModal.reasonBlock);
  });
});

describe("buildReceiptModal / buildDenyModal", () => {
  it("receipt shows the request number, the changes and the DM promise", () => {
    const view = buildReceiptModal(request());
    assert.deepEqual(modalProblems(view), []);
    const text = allText(view);
    assert.match(text, /Request #42 sent for approval/);
    assert.match(text, /\*Job title\*: Engineer → Staff engineer/);
    assert.match(text, /\*Work phone\*: _\(empty\)_ → \+1 555 0100/);
    assert.match(text, /You'll get a DM when it's decided/);
    assert.equal(view.close?.text, "Done");
    assert.equal(view.submit, undefined);
  });
  it("receipt stays within limits with 40 huge hostile changes", () => {
    const view = buildReceiptModal(request({ changes: hostileChanges(40, 1024) }));
    assert.deepEqual(modalProblems(view), []);
    assertNoRawUserMarkup(view);
    assert.match(allText(view), /more changes/);
  });
  it("deny modal: ids, optional reason, title within 24 characters, metadata round-trips", () => {
    const view = buildDenyModal(123456789012);
    assert.deepEqual(modalProblems(view), []);
    assert.equal(view.callback_id, ids.denyModal.callbackId);
    assert.deepEqual(JSON.parse(view.private_metadata ?? ""), { requestId: 123456789012 });
    assert.equal(buildDenyModal(7).title.text, "Deny request #7");
    assert.equal(view.submit?.text, "Deny");
    assert.equal(view.close?.text, "Cancel");
    const input = view.blocks[0];
    assert.equal(input?.type, "input");
    assert.deepEqual(input, {
      type: "input",
      block_id: ids.denyModal.reasonBlock,
      label: { type: "plain_text", text: "Reason for the requester", emoji: true },
      optional: true,
      element: { type: "plain_text_input", action_id: ids.denyModal.reasonAction, multiline: true, max_length: 500 },
    });
  });
});

describe("buildApprovalMessage", () => {
  it("pending: Approve and Deny buttons with exact ids, styles and the request id as value", () => {
    const msg = buildApprovalMessage(request(), []);
    assert.deepEqual(messageProblems(msg), []);
    const actions = actionsBlocks(msg.blocks);
    assert.equal(actions.length, 1);
    assert.deepEqual(actions[0], {
      type: "actions",
      block_id: ids.approvalMessage.decisionBlock,
      elements: [
        {
          type: "button",
          action_id: ids.actions.approve,
          text: { type: "plain_text", text: "Approve", emoji: true },
          style: "primary",
          value: "42",
        },
        {
          type: "button",
          action_id: ids.actions.deny,
          text: { type: "plain_text", text: "Deny", emoji: true },
          style: "danger",
          value: "42",
        },
      ],
    });
  });

  it("pending: header, requester mention, target, changes and quoted reason", () => {
    const msg = buildApprovalMessage(
      request({ targetSlackId: "U0TARGET", targetLabel: "ada@example.com", reason: "line one\nline two" }),
      [],
    );
    const text = allText(msg.blocks);
    assert.deepEqual(msg.blocks[0], {
      type: "header",
      text: { type: "plain_text", text: "JumpCloud update request #42", emoji: true },
    });
    assert.match(text, /<@U0REQUEST>/);
    assert.match(text, /ada@example.com \(<@U0TARGET>\)/);
    assert.match(text, /\*Job title\*: Engineer → Staff engineer/);
    assert.match(text, />line one\\n>line two/);
    assert.equal(msg.text, "JumpCloud update request #42 from <@U0REQUEST> — Waiting for approval");
  });

  it("does not mention the target when it is the requester", () => {
    const text = allText(buildApprovalMessage(request(), []).blocks);
    assert.doesNotMatch(text, /\(<@U0REQUEST>\)/);
  });

  it("escapes hostile values, labels, reason and target and stays within limits", () => {
    const msg = buildApprovalMessage(
      request({
        targetLabel: `R&D ${CHANNEL}`,
        reason: `${CHANNEL} ${EVIL_LINK}\n`.repeat(300).slice(0, 5000),
        changes: hostileChanges(40, 1024),
        statusNote: `${CHANNEL} note`,
      }),
      [],
    );
    assert.deepEqual(messageProblems(msg), []);
    assertNoRawUserMarkup(msg.blocks, msg.text);
    const text = allText(msg.blocks);
    assert.match(text, /&lt;!channel&gt;/);
    assert.match(text, /R&amp;D/);
    assert.match(text, /…and \d+ more changes/);
  });

  it("keeps a 5000-character reason within one section", () => {
    const msg = buildApprovalMessage(request({ reason: "r".repeat(5000) }), []);
    assert.deepEqual(messageProblems(msg), []);
  });

  for (const state of REQUEST_STATES.filter((s) => s !== "pending")) {
    it(`${state}: no buttons, within limits even with hostile JumpCloud messages`, () => {
      const hostile = `${CHANNEL} ${EVIL_LINK} `.repeat(200);
      const msg = buildApprovalMessage(
        decided(state, { changes: hostileChanges(40, 1024), decisionNote: state === "denied" ? hostile : null }),
        itemsFor(state, hostile),
      );
      assert.deepEqual(messageProblems(msg), []);
      assert.equal(actionsBlocks(msg.blocks).length, 0);
      assertNoRawUserMarkup(msg.blocks, msg.text);
      assert.ok(msg.text.endsWith(stateInWords(state)));
    });
  }

  it("approved: who decided and when, and queued status", () => {
    const text = allText(buildApprovalMessage(decided("approved"), []).blocks);
    assert.match(
      text,
      /Approved by <@U0APPROVER> at <!date\^1714561200\^\{date_short_pretty\} \{time\}\|2024-05-01T11:00:00.000Z>/,
    );
    assert.match(text, /Queued for JumpCloud/);
  });

  it("denied: who denied and the escaped note", () => {
    const text = allText(buildApprovalMessage(decided("denied", { decisionNote: `No ${CHANNEL}` }), []).blocks);
    assert.match(text, /Denied by <@U0APPROVER>/);
    assert.match(text, />No &lt;!channel&gt;/);
  });

  it("submitted: shows the JumpCloud job id", () => {
    const text = allText(buildApprovalMessage(decided("submitted"), itemsFor("submitted")).blocks);
    assert.match(text, /Sent to JumpCloud \(job `job-123`\), waiting for results/);
  });

  it("applied / cancelled / expired status lines", () => {
    assert.match(
      allText(buildApprovalMessage(decided("applied"), itemsFor("applied")).blocks),
      /:white_check_mark: Applied in JumpCloud/,
    );
    assert.match(allText(buildApprovalMessage(decided("cancelled"), []).blocks), /Withdrawn by the requester/);
    assert.match(allText(buildApprovalMessage(decided("expired"), []).blocks), /Expired without a decision/);
  });

  it("failed / partially applied: per-item JumpCloud messages, escaped", () => {
    const failed = allText(buildApprovalMessage(decided("failed"), itemsFor("failed", "bad <value>")).blocks);
    assert.match(failed, /ada@example.com: bad &lt;value&gt;/);
    const partial = allText(buildApprovalMessage(decided("partially_applied"), itemsFor("partially_applied")).blocks);
    assert.match(partial, /`jc-user-2`: Invalid value for jobTitle/);
    assert.match(partial, /`jc-user-3`: no result from JumpCloud/);
  });

  it("shows the status note, escaped", () => {
    const text = allText(
      buildApprovalMessage(decided("queued", { statusNote: "Waiting for JumpCloud, next try at 10:05 <!here>" }), [])
        .blocks,
    );
    assert.match(text, /Waiting for JumpCloud, next try at 10:05 &lt;!here&gt;/);
  });
});

describe("buildRequestDm", () => {
  it("receipt: says the request was sent, with the changes", () => {
    const dm = buildRequestDm("receipt", request(), []);
    assert.deepEqual(messageProblems(dm), []);
    assert.equal(dm.text, "Your JumpCloud update request #42 was sent for approval");
    assert.match(allText(dm.blocks), /\*Job title\*: Engineer → Staff engineer/);
  });
  it("decision: approved by / denied by with the escaped reason", () => {
    const approved = buildRequestDm("decision", decided("approved"), []);
    assert.match(allText(approved.blocks), /approved by <@U0APPROVER>/);
    const denied = buildRequestDm("decision", decided("denied", { decisionNote: `Ask ${EVIL_LINK}` }), []);
    assert.match(allText(denied.blocks), /denied by <@U0APPROVER>/);
    assert.match(allText(denied.blocks), /Ask &lt;http:\/\/evil\|docs&gt;/);
    assertNoRawUserMarkup(denied.blocks, denied.text);
  });
  it("outcome applied: lists what was applied", () => {
    const dm = buildRequestDm("outcome", decided("applied"), itemsFor("applied"));
    const text = allText(dm.blocks);
    assert.match(text, /applied in JumpCloud/);
    assert.match(text, /\*Applied\*\\n\*Job title\*: Engineer → Staff engineer/);
  });
  it("outcome failed: what was not applied and JumpCloud's message, escaped", () => {
    const dm = buildRequestDm("outcome", decided("failed"), itemsFor("failed", `Nope ${CHANNEL}`));
    const text = allText(dm.blocks);
    assert.match(text, /\*Requested changes\*\\n\*Job title\*/);
    assert.match(text, /\*Not applied\*\\n• ada@example\.com: Nope &lt;!channel&gt;/);
    assertNoRawUserMarkup(dm.blocks, dm.text);
  });
  it("outcome partially applied: counts and failures", () => {
    const text = allText(buildRequestDm("outcome", decided("partially_applied"), itemsFor("partially_applied")).blocks);
    assert.match(text, /1 of 3 users updated/);
    assert.match(text, /`jc-user-2`: Invalid value for jobTitle/);
  });
  for (const kind of ["receipt", "decision", "outcome"] as const) {
    for (const state of REQUEST_STATES) {
      it(`${kind} / ${state}: within limits with hostile, huge input`, () => {
        const hostile = `${CHANNEL} ${EVIL_LINK} `.repeat(300);
        const dm = buildRequestDm(
          kind,
          decided(state, {
            changes: hostileChanges(40, 1024),
            targetLabel: hostile,
            decisionNote: hostile,
            reason: hostile,
          }),
          itemsFor(state, hostile),
        );
        assert.deepEqual(messageProblems(dm), []);
        assertNoRawUserMarkup(dm.blocks, dm.text);
      });
    }
  }
});

describe("buildStatusMessage", () => {
  it("says so when there are no requests", () => {
    const msg = buildStatusMessage([]);
    assert.deepEqual(messageProblems(msg), []);
    assert.match(allText(msg.blocks), /You have no requests yet\./);
  });
  it("lists number, target, state, date and count of changes", () => {
    const msg = buildStatusMessage([decided("applied", { id: 7 }), request({ id: 8, targetLabel: `R&D ${CHANNEL}` })]);
    assert.deepEqual(messageProblems(msg), []);
    const text = allText(msg.blocks);
    assert.match(text, /\*#7\* · ada@example.com · Applied in JumpCloud · <!date\^1714557600\^/);
    assert.match(text, /2 changes/);
    assert.match(text, /\*#8\* · R&amp;D &lt;!channel&gt; · Waiting for approval/);
    assertNoRawUserMarkup(msg.blocks, msg.text);
  });
  it("stays within 50 blocks with many requests", () => {
    const many = Array.from({ length: 80 }, (_, i) => request({ id: i + 1, changes: hostileChanges(3, 1024) }));
    const msg = buildStatusMessage(many);
    assert.deepEqual(messageProblems(msg), []);
    assert.match(allText(msg.blocks), /older requests not shown/);
  });
  it("shows the changes of a single request", () => {
    const msg = buildStatusMessage([request({ changes: hostileChanges(40, 1024) })]);
    assert.deepEqual(messageProblems(msg), []);
    assert.match(allText(msg.blocks), /more changes/);
  });
});

describe("buildHelpMessage", () => {
  it("shows the usage to everyone, admin commands only to admins", () => {
    const user = allText(buildHelpMessage(false).blocks);
    assert.match(user, /`\/jc-update status \[id\]`/);
    assert.match(user, /`\/jc-update help`/);
    assert.doesNotMatch(user, /@user/);
    const admin = buildHelpMessage(true);
    assert.deepEqual(messageProblems(admin), []);
    assert.match(allText(admin.blocks), /`\/jc-update @user`, `\/jc-update email` or `\/jc-update username`/);
  });
  it("shows the error first", () => {
    const msg = buildHelpMessage(false, "Unknown option `frob`.");
    assert.deepEqual(messageProblems(msg), []);
    assert.match(allText(msg.blocks[0] ? [msg.blocks[0]] : []), /Unknown option `frob`\./);
  });
});

describe("limits checker", () => {
  it("catches oversize sections, duplicate block ids and long titles", () => {
    assert.ok(
      messageProblems({ text: "t", blocks: [{ type: "section", text: { type: "mrkdwn", text: "x".repeat(3001) } }] })
        .length > 0,
    );
    assert.ok(
      messageProblems({
        text: "t",
        blocks: [
          { type: "divider", block_id: "a" },
          { type: "divider", block_id: "a" },
        ],
      }).length > 0,
    );
    assert.ok(
      modalProblems({
        type: "modal",
        title: { type: "plain_text", text: "x".repeat(25) },
        blocks: [{ type: "divider" }],
      }).length > 0,
    );
  });
});

describe("formatNote", () => {
  it("shows the bot's ISO times as Slack dates and escapes the rest", async () => {
    const { formatNote } = await import("../../src/slack/blocks/index.js");
    assert.equal(
      formatNote("Waiting for JumpCloud (<503>); next try at 2026-12-03T17:47:07.205Z.", 1000),
      "Waiting for JumpCloud (&lt;503&gt;); next try at <!date^1796320027^{date_short_pretty} {time}|2026-12-03T17:47:07.205Z>.",
    );
  });
});

describe("bulk requests: every message and modal stays within Slack's limits, whatever the size", () => {
  const hostile = `${CHANNEL} ${EVIL_LINK} `.repeat(300);
  const bulk = {
    users: 5000,
    fields: Array.from({ length: 60 }, (_, i) => `attributes.${hostile.slice(0, 200)}${i}`),
    skippedRows: 1234,
    identity: "email" as const,
    source: hostile,
  };
  const rows = Array.from({ length: 10 }, (_, i) => ({
    row: i + 2,
    userId: `jc-${i}`,
    label: hostile,
    changes: hostileChanges(60, 1024),
  }));
  const items: ItemRecord[] = Array.from({ length: 5000 }, (_, i) =>
    item({
      id: i + 1,
      userId: `jc-${i}`,
      label: hostile,
      row: i + 2,
      state: (["applied", "failed", "unknown", "queued", "submitted"] as const)[i % 5],
      jobId: i % 5 === 3 ? null : `job-${Math.floor(i / 100)}`,
      message: hostile,
      changes: hostileChanges(3, 1024),
    }),
  );

  for (const state of REQUEST_STATES) {
    it(`approval message / ${state}`, () => {
      const message = buildApprovalMessage(
        decided(state, { kind: "bulk", bulk, reason: hostile, statusNote: hostile }),
        items,
        {
          firstRows: rows,
          batchMaxSize: 100,
        },
      );
      assert.deepEqual(messageProblems(message), []);
      assertNoRawUserMarkup(message.blocks, message.text);
    });
    for (const kind of ["receipt", "decision", "outcome"] as const) {
      it(`DM ${kind} / ${state}`, () => {
        const dm = buildRequestDm(kind, decided(state, { kind: "bulk", bulk, approvalChannel: "C0APPROVE" }), items);
        assert.deepEqual(messageProblems(dm), []);
        assertNoRawUserMarkup(dm.blocks, dm.text);
      });
    }
  }

  it("status <id> of a partly applied bulk request lists what was not applied and where the CSV is", () => {
    const message = buildStatusMessage([decided("partially_applied", { kind: "bulk", bulk })], items);
    assert.deepEqual(messageProblems(message), []);
    assertNoRawUserMarkup(message.blocks, message.text);
    assert.match(allText(message.blocks), /\*Not applied\*/);
    assert.match(allText(message.blocks), /as a CSV to fix and send again, are in the approval message's thread/);
  });

  it("progress counts calls sent, applied, failed and waiting", () => {
    const message = buildApprovalMessage(decided("submitted", { kind: "bulk", bulk }), items, {
      firstRows: rows,
      batchMaxSize: 100,
    });
    // 50 distinct jobs among the sent items; 1,000 queued items need 10 more calls of 100.
    assert.match(
      allText(message.blocks),
      /Calls sent: 50 of 60 · applied 1,000 · failed 2,000 · waiting 2,000 \(of 5,000 users\)/,
    );
  });

  it("the bulk form, its problems and the checking modal", () => {
    const problems = Array.from({ length: 5000 }, (_, i) => `Row ${i + 2}, column "x": ${hostile}`);
    for (const view of [
      buildBulkModal({
        draftId: "d",
        columns: ["department"],
        csv: "x".repeat(3000),
        reason: hostile,
        problems: { input: "csv", lines: problems },
      }),
      buildBulkModal({
        draftId: "d",
        columns: ["department"],
        csv: "x".repeat(3001),
        problems: { input: "file", lines: problems },
      }),
      buildCheckingModal("Checking 5,000 rows against JumpCloud…"),
      buildReceiptModal(decided("pending", { kind: "bulk", bulk })),
    ]) {
      assert.deepEqual(modalProblems(view), []);
    }
    assert.match(formatProblems(problems), /^:warning: \*5,000 problems\*: fix the CSV and send again\.\n• Row 2/);
    assert.match(formatProblems(problems), /…and 4,99\d more$/);
  });
});
