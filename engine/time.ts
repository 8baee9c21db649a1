import { fail } from "./errors.js";

/**
 * Timestamps are ISO-8601 UTC strings with millisecond precision (`2026-11-21T05:19:44.123Z`). One fixed
 * format means string comparison in SQL is time comparison.
 */
export type Timestamp = string;

/** Format a Date in the one stored timestamp format. */
export function toTimestamp(date: Date): Timestamp {
  return date.toISOString();
}

/**
 * Parse a caller-supplied ISO-8601 timestamp (any offset, with or without milliseconds) into the stored
 * format. Throws INVALID_ARGUMENT naming `field` when it does not parse.
 */
export function parseTimestamp(value: string, field: string): Timestamp {
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(ms) || !isCalendarDate(value.slice(0, 10))) {
    throw fail.invalid(
      `${field} must be an ISO-8601 timestamp such as 2026-01-31T12:00:00Z; got ${JSON.stringify(value)}`,
      {
        field,
      },
    );
  }
  return new Date(ms).toISOString();
}

/** True when `YYYY-MM-DD` names a real day (Date.parse rolls 2026-02-30 over into March). */
function isCalendarDate(ymd: string): boolean {
  const [year, month, day] = ymd.split("-").map(Number) as [number, number, number];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth;
}

/** `ts` shifted by `seconds`, in the stored format. */
export function addSeconds(ts: Timestamp, seconds: number): Timestamp {
  return new Date(Date.parse(ts) + seconds * 1000).toISOString();
}

/** The earlier of two stored timestamps (the format sorts as text). */
export function earlierOf(a: Timestamp, b: Timestamp): Timestamp {
  return a <= b ? a : b;
}

/** `parseTimestamp` for an optional input: null when absent (SQL filters bind null as "no bound"). */
export function parseOptionalTimestamp(value: string | undefined, field: string): Timestamp | null {
  return value === undefined ? null : parseTimestamp(value, field);
}
