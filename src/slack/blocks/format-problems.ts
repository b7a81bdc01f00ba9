import { escapeAndTruncate } from "./escape-and-truncate.js";
import { fitLines } from "./fit-lines.js";

/** Sections of problems under the input: as many as fit (a hundred to a few hundred), then a count. */
const PROBLEM_SECTIONS = 5;
const SECTION_MAX = 2900;
/** Long enough for the unknown-column problem, which lists every allowed column. */
const LINE_MAX = 1200;

/** The problems as up to PROBLEM_SECTIONS section texts: a title, the first ones, the count left. */
export function problemSections(lines: readonly string[]): string[] {
  const title = problemsTitle(lines.length);
  const bullets = lines.map((l) => `• ${escapeAndTruncate(l, LINE_MAX)}`);
  const sections: string[] = [];
  let at = 0;
  while (at < bullets.length && sections.length < PROBLEM_SECTIONS) {
    const last = sections.length === PROBLEM_SECTIONS - 1;
    const room = SECTION_MAX - (sections.length === 0 ? title.length : 0);
    const kept: string[] = [];
    let length = 0;
    // Leave room for "…and N more" in the last section.
    const limit = last ? room - 40 : room;
    while (at < bullets.length && length + (bullets[at]?.length ?? 0) + 1 <= limit) {
      length += (bullets[at]?.length ?? 0) + 1;
      kept.push(bullets[at] ?? "");
      at++;
    }
    if (kept.length === 0) break;
    if (last && at < bullets.length) kept.push(`…and ${(bullets.length - at).toLocaleString("en-US")} more`);
    sections.push((sections.length === 0 ? title : "") + kept.join("\n"));
  }
  return sections.length > 0 ? sections : [title];
}

function problemsTitle(count: number): string {
  return `:warning: *${count === 1 ? "1 problem" : `${count.toLocaleString("en-US")} problems`}*: fix the CSV and send again.\n`;
}

/** `:warning: N problems…` and the first ones, escaped, within one section. */
export function formatProblems(lines: readonly string[], max = 2900): string {
  const title = problemsTitle(lines.length);
  return (
    title +
    fitLines(
      lines.map((l) => `• ${escapeAndTruncate(l, LINE_MAX)}`),
      max - title.length,
      (left) => `…and ${left.toLocaleString("en-US")} more`,
    )
  );
}
