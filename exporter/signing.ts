import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "./atomic-file.js";
import { bytesToBase64 } from "./base64.js";
import { BUNDLE_FILES, type SignatureFile } from "./bundle-format.js";
import type { SigningKey } from "./keys.js";
import { minisignSignatureFile } from "./minisign.js";

export { loadSigningKey, type SigningKey } from "./keys.js";

/** Both signature files of one manifest, as written to the bundle. */
export interface ManifestSignatures {
  signature: SignatureFile;
  /** The text of `manifest.json.minisig`. */
  minisig: string;
}

/**
 * Sign the exact bytes of manifest.json (Ed25519, not prehashed): the result checks with
 * `openssl pkeyutl -verify -rawin` and, as the minisign file, with `minisign -V`. Ed25519 is
 * deterministic, so both files carry the same signature. `now` is the signature's `generated_at` and the
 * minisign timestamp.
 */
export async function signManifest(
  manifest: Uint8Array,
  key: SigningKey,
  now: Date = new Date(),
): Promise<ManifestSignatures> {
  const signature = await key.sign(manifest);
  const manifestSha256 = createHash("sha256").update(manifest).digest("hex");
  const minisig = await minisignSignatureFile(manifest, key.keyId, (message) => key.sign(message), {
    untrusted: `pigeonhole bundle manifest, signed by key ${key.fingerprint}`,
    trusted: `timestamp:${Math.floor(now.getTime() / 1000)}\tfile:${BUNDLE_FILES.manifest}\tmanifest_sha256:${manifestSha256}`,
  });
  return {
    signature: {
      algorithm: "ed25519",
      signature: bytesToBase64(signature),
      manifest_sha256: manifestSha256,
      public_key: bytesToBase64(key.publicKey),
      generated_at: now.toISOString(),
    },
    minisig,
  };
}

/**
 * Sign `dir/manifest.json` as it is on disk and write `manifest.sig.json` and `manifest.json.minisig` next
 * to it, each atomically (temporary file, then rename). The manifest must be final: any later change to
 * its bytes invalidates both signatures. Returns the signature file's content.
 */
export async function writeBundleSignatures(dir: string, key: SigningKey): Promise<SignatureFile> {
  const manifest = new Uint8Array(await readFile(join(dir, BUNDLE_FILES.manifest)));
  const { signature, minisig } = await signManifest(manifest, key);
  await writeFileAtomic(join(dir, BUNDLE_FILES.signature), `${JSON.stringify(signature, null, 2)}\n`);
  await writeFileAtomic(join(dir, BUNDLE_FILES.minisign), minisig);
  return signature;
}
