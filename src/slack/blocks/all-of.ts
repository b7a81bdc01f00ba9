import { plural } from "./plural.js";

/** "1 user", "both users", "all 5,000 users": the whole of a count, as people say it. */
export function allOf(count: number, one: string, many = `${one}s`): string {
  if (count === 1) return plural(count, one, many);
  if (count === 2) return `both ${many}`;
  return `all ${plural(count, one, many)}`;
}
