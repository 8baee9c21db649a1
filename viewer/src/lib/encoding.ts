/** Byte encodings used by the bundle format: lower-case hex and standard base64 (base64url accepted on input). */

/** Lower-case hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

/** Standard padded base64 of `bytes`: the exporter's encoder (import-free, browser-safe). */
export { bytesToBase64 as toBase64 } from "../../../exporter/base64.js";

/**
 * Decode base64 (standard or URL-safe alphabet, padding optional). Returns null for anything else, so a
 * bad pinned key or signature is reported rather than thrown.
 */
export function fromBase64(text: string): Uint8Array | null {
  const normalized = text.trim().replaceAll("-", "+").replaceAll("_", "/").replace(/=+$/, "");
  if (!/^[A-Za-z0-9+/]*$/.test(normalized) || normalized.length % 4 === 1) return null;
  const padded = normalized + "=".repeat((4 - (normalized.length % 4)) % 4);
  const binary = atob(padded);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** Constant-shape comparison of two byte arrays. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

/** Lower-case hex sha256 of `bytes`, computed by WebCrypto. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>)));
}
