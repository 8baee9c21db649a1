/** A passphrase, or the text of an age identity file (`AGE-SECRET-KEY-1…`, comments allowed). */
export type Secret = { kind: "passphrase"; passphrase: string } | { kind: "identity"; identities: string[] };

/** Thrown when decryption fails; `message` is written for the person who typed the secret. */
export class DecryptError extends Error {
  constructor(
    message: string,
    /** True when the secret was wrong (as opposed to a damaged ciphertext). */
    readonly wrongSecret: boolean,
  ) {
    super(message);
  }
}

const IDENTITY_LINE = /^AGE-SECRET-KEY-(?:PQ-)?1[0-9A-Z]+$/;

/**
 * Read what the user typed: text starting with `AGE-SECRET-KEY-` is one or more identities separated by
 * white space; anything else is a passphrase, used exactly as typed.
 */
export function parseSecret(text: string): Secret {
  const trimmed = text.trim();
  if (trimmed.startsWith("AGE-SECRET-KEY-")) return { kind: "identity", identities: trimmed.split(/\s+/) };
  return { kind: "passphrase", passphrase: text };
}

/** The identities in the text of an age identity file (comment and blank lines skipped). */
export function identitiesInFile(text: string): Secret {
  const identities = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => IDENTITY_LINE.test(line));
  return { kind: "identity", identities };
}

/**
 * Decrypt an age ciphertext held in memory. `mode` is the manifest's encryption mode, used only to word
 * the error when the secret does not fit. `onProgress(done, total)` reports ciphertext bytes processed.
 */
export async function decryptAge(
  ciphertext: Uint8Array,
  secret: Secret,
  mode: "x25519" | "scrypt",
  onProgress?: (done: number, total: number) => void,
): Promise<Uint8Array> {
  // Loaded on demand: only encrypted bundles pay for the age code.
  const { Decrypter } = await import("age-encryption");
  const decrypter = new Decrypter();
  if (secret.kind === "passphrase") {
    if (mode === "x25519") {
      throw new DecryptError(
        "This bundle is encrypted to age recipients, not to a passphrase: paste the age identity (AGE-SECRET-KEY-1…) of one of its recipients.",
        true,
      );
    }
    decrypter.addPassphrase(secret.passphrase);
  } else {
    if (mode === "scrypt") {
      throw new DecryptError(
        "This bundle is encrypted with a passphrase, not to an age identity: type the passphrase.",
        true,
      );
    }
    try {
      if (secret.identities.length === 0) throw new Error("no identity");
      for (const identity of secret.identities) decrypter.addIdentity(identity);
    } catch {
      throw new DecryptError(
        "That is not a valid age identity: it should look like AGE-SECRET-KEY-1… (one line).",
        true,
      );
    }
  }

  const total = ciphertext.length;
  const slice = 1 << 20;
  let offset = 0;
  const input = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= total) {
        controller.close();
        return;
      }
      const end = Math.min(total, offset + slice);
      controller.enqueue(ciphertext.subarray(offset, end));
      offset = end;
      onProgress?.(offset, total);
    },
  });

  let output: ReadableStream<Uint8Array>;
  try {
    output = await decrypter.decrypt(input);
  } catch (error) {
    throw explain(error, mode);
  }
  const parts: Uint8Array[] = [];
  let size = 0;
  const reader = output.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      size += value.length;
    }
  } catch (error) {
    throw new DecryptError(`The encrypted database is damaged: ${(error as Error).message}.`, false);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function explain(error: unknown, mode: "x25519" | "scrypt"): DecryptError {
  const message = (error as Error).message ?? String(error);
  if (/no identity matched/.test(message)) {
    return new DecryptError(
      mode === "scrypt"
        ? "Wrong passphrase: it does not decrypt this bundle. Check it and try again."
        : "That identity is not one of this bundle's recipients: use the age identity the bundle was encrypted to.",
      true,
    );
  }
  return new DecryptError(`The bundle could not be decrypted: ${message}.`, false);
}
