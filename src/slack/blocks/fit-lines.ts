/**
 * Joins `lines` with newlines into at most `max` characters. When not all fit, keeps the first
 * lines that do and ends with `more(k)` (k = lines left out). Each line should already be short
 * enough; a single line longer than the room is left out too.
 */
export function fitLines(lines: readonly string[], max: number, more: (left: number) => string): string {
  const all = lines.join("\n");
  if (all.length <= max) return all;
  const kept: string[] = [];
  let length = 0;
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i] ?? "";
    const left = lines.length - i - 1;
    const next = length + (kept.length > 0 ? 1 : 0) + line.length;
    const tail = left > 0 ? 1 + more(left).length : 0;
    if (next + tail > max) break;
    kept.push(line);
    length = next;
  }
  const tail = more(lines.length - kept.length);
  return [...kept, tail].join("\n").slice(0, max);
}
