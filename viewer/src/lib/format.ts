/** How times, sizes and spans read in the viewer. Times are shown in UTC, as stored, so every reader of a bundle sees the same text. */

/** `2026-01-05 08:00` from an ISO timestamp (UTC); the input unchanged when it is not ISO-like. */
export function shortTime(ts: string | null | undefined): string {
  if (!ts) return "";
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(ts);
  return m ? `${m[1]} ${m[2]}` : ts;
}

/** The date part (`2026-01-05`) of an ISO timestamp. */
export function day(ts: string | null | undefined): string {
  return ts ? ts.slice(0, 10) : "";
}

/** `1.2 MB`-style size. */
export function byteSize(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/** `1 h 30 min`-style length of the span between two ISO times; empty when either is missing. */
export function span(from: string | null, to: string | null): string {
  if (!from || !to) return "";
  const ms = Date.parse(to) - Date.parse(from);
  if (!Number.isFinite(ms)) return "";
  const minutes = Math.round(Math.abs(ms) / 60_000);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  return `${Math.round(hours / 24)} d`;
}

/** `1,234` with a thin grouping, independent of the browser's locale. */
export function count(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}
