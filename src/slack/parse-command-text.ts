/** What `/jc-update <text>` asks for (SPEC §2). */
export type CommandIntent =
  | { kind: "self" }
  | { kind: "target"; ref: TargetRef }
  | { kind: "help" }
  | { kind: "status"; requestId?: number }
  | { kind: "bulk" }
  | { kind: "invalid"; text: string };

export type TargetRef =
  | { kind: "slack"; userId: string }
  | { kind: "email"; email: string }
  | { kind: "username"; username: string };

const MENTION = /^<@([UW][A-Z0-9]+)(\|[^>]*)?>$/;
const EMAIL = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;
const MAILTO = /^<mailto:([^|>]+)(\|[^>]*)?>$/; // Slack links emails typed in commands
const USERNAME = /^[A-Za-z][A-Za-z0-9._-]{0,29}$/;

export function parseCommandText(raw: string): CommandIntent {
  const text = raw.trim();
  if (text === "") return { kind: "self" };
  const [head = "", ...rest] = text.split(/\s+/);
  const word = head.toLowerCase();
  if (word === "help") return rest.length === 0 ? { kind: "help" } : { kind: "invalid", text };
  if (word === "bulk") return rest.length === 0 ? { kind: "bulk" } : { kind: "invalid", text };
  if (word === "status") {
    if (rest.length === 0) return { kind: "status" };
    const id = /^#?(\d{1,9})$/.exec(rest[0] ?? "");
    return rest.length === 1 && id ? { kind: "status", requestId: Number(id[1]) } : { kind: "invalid", text };
  }
  if (rest.length > 0) return { kind: "invalid", text };
  const mention = MENTION.exec(head);
  if (mention?.[1]) return { kind: "target", ref: { kind: "slack", userId: mention[1] } };
  const mailto = MAILTO.exec(head);
  if (mailto?.[1]) return { kind: "target", ref: { kind: "email", email: mailto[1] } };
  if (EMAIL.test(head)) return { kind: "target", ref: { kind: "email", email: head } };
  // A bare @name is not resolvable without escaping: the manifest turns escaping on.
  if (USERNAME.test(head)) return { kind: "target", ref: { kind: "username", username: head } };
  return { kind: "invalid", text };
}
