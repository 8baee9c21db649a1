import { sha256 } from "@noble/hashes/sha2.js";
import { toBase64 } from "./encoding.js";

/**
 * The fingerprint shown for an Ed25519 signing key: `SHA256:` and the unpadded base64 of the sha256 of the
 * 32 raw key bytes (the OpenSSH style).
 */
export function keyFingerprint(publicKey: Uint8Array): string {
  return `SHA256:${toBase64(sha256(publicKey)).replace(/=+$/, "")}`;
}
