import { AppError } from "../errors.js";

export interface SlackFileRef {
  name?: string;
  size?: number;
  url_private_download?: string;
  url_private?: string;
}

/** Larger than any 5,000-row CSV the bot accepts, far below Slack's 1 GB. */
export const MAX_CSV_BYTES = 5 * 1024 * 1024;

/**
 * Downloads a file a user uploaded in a modal (`file_input`) with the bot token, as UTF-8 text.
 * The token is only ever sent to Slack: the URL must be on slack.com (or the configured
 * SLACK_API_URL's host, for simulators).
 */
export async function downloadSlackFile(
  file: SlackFileRef,
  options: { token: string; apiUrl?: string | undefined; fetch?: typeof fetch },
): Promise<string> {
  const raw = file.url_private_download ?? file.url_private;
  if (!raw) throw new AppError("file_unreadable", "Slack gave no download link for this file; upload it again.");
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AppError("file_unreadable", "Slack gave an invalid download link for this file; upload it again.");
  }
  const slackHost = url.protocol === "https:" && (url.hostname === "slack.com" || url.hostname.endsWith(".slack.com"));
  const simulatorHost = options.apiUrl !== undefined && new URL(options.apiUrl).host === url.host;
  if (!slackHost && !simulatorHost) {
    throw new AppError("file_unreadable", "The file's link does not point to Slack; upload it again.");
  }
  if ((file.size ?? 0) > MAX_CSV_BYTES) throw tooBig();
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, {
      headers: { authorization: `Bearer ${options.token}` },
      signal: AbortSignal.timeout(30_000),
    });
  } catch {
    throw new AppError("file_unreadable", "Could not download the file from Slack; try again.");
  }
  if (!response.ok) {
    throw new AppError("file_unreadable", `Slack answered ${response.status} when downloading the file; try again.`);
  }
  if ((response.headers.get("content-type") ?? "").includes("text/html")) {
    // Slack answers its login page when the token may not read files.
    throw new AppError(
      "file_unreadable",
      "Slack did not hand over the file: the app needs the files:read scope (see the README).",
    );
  }
  if (Number(response.headers.get("content-length") ?? 0) > MAX_CSV_BYTES) throw tooBig();
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes.byteLength > MAX_CSV_BYTES) throw tooBig();
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new AppError(
      "file_not_utf8",
      'The file is not UTF-8 text. In your spreadsheet choose "CSV UTF-8" when saving, then upload it again.',
    );
  }
}

function tooBig(): AppError {
  return new AppError("file_too_big", `The file is larger than ${MAX_CSV_BYTES / 1024 / 1024} MB; split it.`);
}
