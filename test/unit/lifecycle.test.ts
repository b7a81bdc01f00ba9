import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  canTransition,
  isDecided,
  isFinal,
  isItemFinal,
  nextState,
  type RequestEvent,
  requestEventForItems,
  TransitionError,
} from "../../src/requests/lifecycle.js";
import { ITEM_STATES, type ItemState, REQUEST_STATES, type RequestState } from "../../src/requests/types.js";

const EVENTS: readonly RequestEvent[] = [
  "approve",
  "deny",
  "cancel",
  "expire",
  "queue",
  "submit",
  "apply",
  "partially_apply",
  "fail",
];

/** Every transition the lifecycle allows: SPEC §4 plus the dispatcher's detours. */
const ALLOWED: readonly [RequestState, RequestEvent, RequestState][] = [
  ["pending", "approve", "approved"],
  ["pending", "deny", "denied"],
  ["pending", "cancel", "cancelled"],
  ["pending", "expire", "expired"],
  ["approved", "queue", "queued"],
  ["approved", "fail", "failed"],
  ["queued", "submit", "submitted"],
  ["queued", "apply", "applied"],
  ["queued", "partially_apply", "partially_applied"],
  ["queued", "fail", "failed"],
  ["submitted", "queue", "queued"],
  ["submitted", "apply", "applied"],
  ["submitted", "partially_apply", "partially_applied"],
  ["submitted", "fail", "failed"],
];

function allowedTo(from: RequestState, event: RequestEvent): RequestState | undefined {
  return ALLOWED.find(([f, e]) => f === from && e === event)?.[2];
}

function items(...states: ItemState[]): { state: ItemState }[] {
  return states.map((state) => ({ state }));
}

describe("lifecycle: allowed transitions", () => {
  for (const [from, event, to] of ALLOWED) {
    it(`${from} --${event}--> ${to}`, () => {
      assert.equal(nextState(from, event), to);
      assert.equal(canTransition(from, event), true);
    });
  }

  it("the SPEC §4 happy path reaches applied", () => {
    let state: RequestState = "pending";
    for (const event of ["approve", "queue", "submit", "apply"] as const) state = nextState(state, event);
    assert.equal(state, "applied");
  });
});

describe("lifecycle: disallowed transitions throw TransitionError", () => {
  const named: [RequestState, RequestEvent][] = [
    ["denied", "approve"],
    ["approved", "deny"],
    ["pending", "apply"],
    ["pending", "submit"],
    ["pending", "queue"],
    ["approved", "approve"],
    ["queued", "approve"],
    ["queued", "deny"],
    ["applied", "fail"],
    ["expired", "approve"],
    ["cancelled", "deny"],
    ["submitted", "submit"],
  ];
  for (const [from, event] of named) {
    it(`${from} cannot ${event}`, () => {
      assert.throws(
        () => nextState(from, event),
        (error: unknown) =>
          error instanceof TransitionError &&
          error.from === from &&
          error.event === event &&
          error.code === "invalid_transition",
      );
      assert.equal(canTransition(from, event), false);
    });
  }

  it("the error message names the state and the event in words", () => {
    assert.throws(() => nextState("denied", "partially_apply"), {
      message: 'A request in state "denied" cannot partially apply.',
    });
  });

  it("every state/event pair not in the table is refused (exhaustive)", () => {
    for (const from of REQUEST_STATES) {
      for (const event of EVENTS) {
        const to = allowedTo(from, event);
        assert.equal(canTransition(from, event), to !== undefined, `${from} + ${event}`);
        if (to === undefined) assert.throws(() => nextState(from, event), TransitionError, `${from} + ${event}`);
        else assert.equal(nextState(from, event), to);
      }
    }
  });
});

describe("lifecycle: state predicates", () => {
  it("isFinal is true exactly for applied, partially_applied, failed, denied, cancelled, expired", () => {
    const finals = REQUEST_STATES.filter((s) => isFinal(s));
    assert.deepEqual(finals, ["applied", "partially_applied", "failed", "denied", "cancelled", "expired"]);
  });

  it("isDecided is false only for pending", () => {
    assert.deepEqual(
      REQUEST_STATES.filter((s) => !isDecided(s)),
      ["pending"],
    );
  });

  it("isItemFinal is true exactly for applied, failed, unknown", () => {
    assert.deepEqual(
      ITEM_STATES.filter((s) => isItemFinal(s)),
      ["applied", "failed", "unknown"],
    );
  });
});

describe("requestEventForItems", () => {
  it("no items → undefined", () => {
    assert.equal(requestEventForItems([]), undefined);
  });
  it("all applied → apply", () => {
    assert.equal(requestEventForItems(items("applied")), "apply");
    assert.equal(requestEventForItems(items("applied", "applied", "applied")), "apply");
  });
  it("none applied (all failed) → fail", () => {
    assert.equal(requestEventForItems(items("failed")), "fail");
    assert.equal(requestEventForItems(items("failed", "failed")), "fail");
  });
  it("mixed applied and failed → partially_apply", () => {
    assert.equal(requestEventForItems(items("applied", "failed")), "partially_apply");
    assert.equal(requestEventForItems(items("failed", "applied", "applied")), "partially_apply");
  });
  it("some unknown with some applied → partially_apply", () => {
    assert.equal(requestEventForItems(items("applied", "unknown")), "partially_apply");
  });
  it("only unknown (or unknown and failed) → fail", () => {
    assert.equal(requestEventForItems(items("unknown")), "fail");
    assert.equal(requestEventForItems(items("unknown", "failed")), "fail");
  });
  it("still in flight, nothing sent yet → undefined", () => {
    assert.equal(requestEventForItems(items("queued")), undefined);
    assert.equal(requestEventForItems(items("queued", "sending")), undefined);
    assert.equal(requestEventForItems(items("sending")), undefined);
  });
  it("still in flight with some submitted or finished → submit", () => {
    assert.equal(requestEventForItems(items("submitted")), "submit");
    assert.equal(requestEventForItems(items("submitted", "queued")), "submit");
    assert.equal(requestEventForItems(items("applied", "queued")), "submit");
    assert.equal(requestEventForItems(items("failed", "sending")), "submit");
    assert.equal(requestEventForItems(items("applied", "submitted")), "submit");
  });
});
