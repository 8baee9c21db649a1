import { closeSync, openSync, readFileSync, readSync } from "node:fs";
import { Encrypter } from "age-encryption";
import { fail } from "../../engine/errors.js";
import type { ManifestEncryption } from "../bundle-format.js";
import { ageHeader, encryptPayload } from "./age-stream.js";

/** How to encrypt: to X25519 recipients, or to a passphrase. */
export type EncryptionSpec =
  | { mode: "x25519"; recipients: string[] }
  | { mode: "scrypt"; passphrase: string };

/** An age X25519 recipient: `age1` and 58 bech32 characters (post-quantum and tag recipients are not used). */
const X25519_RECIPIENT = /^age1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{58}$/;

/**
 * The encryption an export asks for, checked before any work starts: recipients must be X25519 age
 * public keys that age-encryption accepts, a passphrase file must be readable and non-empty (its
 * trailing newlines are ignored), and the two cannot be combined (INVALID_ARGUMENT). Null: no encryption.
 */
export function encryptionSpec(
  recipients: readonly string[],
  passphraseFile?: string,
): EncryptionSpec | null {
  if (recipients.length > 0 && passphraseFile !== undefined) {
    throw fail.invalid(
      "Pass --recipient or --passphrase-file, not both: an age file is encrypted to one or the other.",
    );
  }
  if (passphraseFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(passphraseFile, "utf8");
    } catch {
      throw fail.notFound(`Cannot read the passphrase file ${passphraseFile}.`);
    }
    const passphrase = text.replace(/[\r\n]+$/, "");
    if (passphrase === "") throw fail.invalid(`The passphrase file ${passphraseFile} is empty.`);
    return { mode: "scrypt", passphrase };
  }
  if (recipients.length === 0) return null;
  for (const recipient of recipients) {
    let ok = X25519_RECIPIENT.test(recipient);
    if (ok) {
      try {
        new Encrypter().addRecipient(recipient);
      } catch {
        ok = false;
      }
    }
    if (!ok) {
      throw fail.invalid(
        `--recipient ${JSON.stringify(recipient)} is not an age X25519 public key (age1 followed by 58 characters, as printed by age-keygen -y).`,
      );
    }
  }
  return { mode: "x25519", recipients: [...recipients] };
}

/** What the manifest says about an encryption (no key, no passphrase). */
export function manifestEncryption(spec: EncryptionSpec): ManifestEncryption {
  return { format: "age", mode: spec.mode, recipients: spec.mode === "x25519" ? spec.recipients.length : 0 };
}

/** The bytes of `file`, read synchronously in 4 MiB pieces (one buffer, reused: consume each before the next). */
export function* fileBytes(file: string): Iterable<Uint8Array> {
  const fd = openSync(file, "r");
  try {
    const buffer = Buffer.allocUnsafe(4 << 20);
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) return;
      yield buffer.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * The age encryption of `file` as one stream (header, then the STREAM payload), produced as it is read
 * (age-stream.ts): memory stays bounded whatever the database size. Decrypts with `age -d` and with
 * age-encryption's Decrypter. Pieces may reuse buffers: consume each before asking for the next.
 */
export async function encryptedBytes(file: string, spec: EncryptionSpec): Promise<Iterable<Uint8Array>> {
  const { header, fileKey } = await ageHeader(
    spec.mode === "scrypt" ? { passphrase: spec.passphrase } : { recipients: spec.recipients },
  );
  return (function* () {
    try {
      yield header;
      yield* encryptPayload(fileKey, fileBytes(file));
    } finally {
      fileKey.fill(0);
    }
  })();
}
