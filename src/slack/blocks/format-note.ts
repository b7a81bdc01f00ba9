import { escapeAndTruncate } from "./escape-and-truncate.js";
import { formatDate } from "./format-date.js";

const ISO_TIME = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z/g;

/**
 * A stored status note for people: escaped and shortened like any text, with the ISO times the
 * bot wrote into it ("next try at …") shown in each reader's time zone. Escaping leaves ISO
 * times intact (they hold no & < >), so they can be found after it.
 */
export function formatNote(note: string, max: number): string {
  return escapeAndTruncate(note, max).replace(ISO_TIME, (iso) => formatDate(iso));
}
