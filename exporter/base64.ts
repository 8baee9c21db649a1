/**
 * Standard, padded base64 (RFC 4648 section 4), the encoding of every binary value in a bundle's
 * signature files and keys. Browser-safe: uses only `atob`/`btoa`, which Node 20 and browsers share.
 */

/** Encode bytes as standard padded base64. */
export function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/**
 * Decode standard padded base64, or return null when `text` is not exactly that (wrong alphabet, missing
 * padding, whitespace, non-canonical trailing bits), so one signed value has one spelling.
 */
export function base64ToBytes(text: string): Uint8Array | null {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return null;
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    return null;
  }
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return bytesToBase64(bytes) === text ? bytes : null;
}
