/**
 * The deliveries that expire: `LIVE_DELIVERY_SQL` drops one of them once the clock reaches its
 * `m.expires_ts`. Not `must_read` (must-read mail stays until acknowledged), and not read before it
 * expired (reading it late does not bring it back).
 */
export const EXPIRING_DELIVERY_SQL =
  "m.expires_ts IS NOT NULL AND m.must_read = 0 AND (r.read_ts IS NULL OR r.read_ts >= m.expires_ts)";

/**
 * The one definition of which deliveries an inbox shows, as SQL over `m` (messages) and `r`
 * (message_recipients) with the current time bound as `@now`. Expired mail disappears lazily, without a
 * timer: an expiring delivery (above) past its `expires_ts`.
 */
export const LIVE_DELIVERY_SQL = `NOT (m.expires_ts <= @now AND ${EXPIRING_DELIVERY_SQL})`;

/**
 * Which BCC names a viewer may see on a message: all of them for the sender, only their own for a BCC
 * recipient, none for anyone else.
 */
export function visibleBcc(
  bccNames: readonly string[],
  senderName: string,
  viewerName: string | null,
): string[] {
  if (viewerName === null) return [];
  if (viewerName.toLowerCase() === senderName.toLowerCase()) return [...bccNames];
  return bccNames.filter((name) => name.toLowerCase() === viewerName.toLowerCase());
}
