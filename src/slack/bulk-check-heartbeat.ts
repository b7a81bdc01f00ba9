/** A running bulk check renews its record this often; one not renewed for 4 times as long was left. */
export const BULK_CHECK_HEARTBEAT_MS = 15_000;
