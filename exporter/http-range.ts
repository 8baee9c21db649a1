/** A single byte range of a file, inclusive at both ends, as in `Content-Range: bytes start-end/size`. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Interpret a `Range` header against a file of `size` bytes (RFC 9110 section 14): a range to send
 * (206), `"unsatisfiable"` (416), or null to send the whole file (200): no header, another unit, a
 * malformed value, or several ranges (which a server may ignore; a bundle reader never asks for them).
 */
export function parseRange(header: string | undefined, size: number): ByteRange | "unsatisfiable" | null {
  if (header === undefined) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return null;
  const [, first = "", last = ""] = match;
  if (first === "" && last === "") return null;
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  // `bytes=5-3` is malformed (ignored); `bytes=size-` asks for nothing that exists (416).
  if (last !== "" && Number(last) < start) return null;
  if (start >= size) return "unsatisfiable";
  return { start, end: last === "" ? size - 1 : Math.min(Number(last), size - 1) };
}
