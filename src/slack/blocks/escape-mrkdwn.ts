/**
 * Escapes the three characters Slack mrkdwn treats as control characters, so user text such as
 * `<!channel>` or `<http://evil|docs>` pings nobody and links nowhere.
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
