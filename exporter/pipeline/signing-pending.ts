import { fail } from "../../engine/errors.js";

/**
 * Stand-in for `exporter/signing.ts`, which is being written alongside this pipeline: same names, so
 * switching export.ts to the real module is a one-line import change. Until then `--sign-key` is
 * refused before any work starts, rather than producing a bundle that silently lacks its signature.
 */

export type PendingSigningKey = never;

/** Always rejects with INVALID_ARGUMENT: signing is not in this build yet. */
export async function loadSigningKey(file: string): Promise<PendingSigningKey> {
  throw fail.invalid(
    `Cannot sign with ${file}: bundle signing is not available in this build yet; export without --sign-key.`,
  );
}

/** Unreachable until `loadSigningKey` returns a key. */
export async function writeBundleSignatures(_dir: string, _key: PendingSigningKey): Promise<void> {
  throw fail.invalid("bundle signing is not available in this build yet");
}
