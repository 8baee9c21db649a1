/**
 * The fingerprint shown for an Ed25519 public key: the first 8 bytes of sha256(public key) as lower-case
 * hex in four groups (`3f2a:91bc:04de:7711`), the same string `pigeonhole keygen` and `verify` print.
 * A display aid only: pinning compares the whole key.
 */
export async function keyFingerprint(publicKey: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", publicKey as Uint8Array<ArrayBuffer>));
  const hex = Array.from(digest.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
  return hex.match(/.{4}/g)?.join(":") ?? hex;
}
