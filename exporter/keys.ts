import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { getPublicKeyAsync, signAsync, utils } from "@noble/ed25519";
import { fail } from "../engine/index.js";
import { writeFileAtomic } from "./atomic-file.js";
import { base64ToBytes, bytesToBase64 } from "./base64.js";
import { publicKeyFingerprint } from "./bundle-format.js";
import {
  minisignKeyId,
  minisignKeyIdHex,
  minisignPublicKeyFile,
  parseMinisignPublicKey,
} from "./minisign.js";

/**
 * Ed25519 signing keys for bundles. A key is three files:
 *
 *   FILE               the secret key, mode 0600, JSON (`SecretKeyFile`)
 *   FILE.pub           the public key: one line of base64 (32 bytes), what `verify --public-key` takes
 *   FILE.minisign.pub  the public key in minisign's format, for `minisign -V -p FILE.minisign.pub`
 */

export const SECRET_KEY_FORMAT = "pigeonhole-ed25519-secret-key";

/** The secret key file. `secret_key` is the 32-byte Ed25519 seed (RFC 8032 private key), base64. */
export interface SecretKeyFile {
  format: typeof SECRET_KEY_FORMAT;
  algorithm: "ed25519";
  secret_key: string;
  public_key: string;
  /** The minisign key id, as minisign prints it. */
  key_id: string;
  fingerprint: string;
  created_at: string;
}

/** A loaded signing key. The secret stays inside `sign`; nothing else exposes it (or logs it). */
export interface SigningKey {
  readonly publicKey: Uint8Array;
  /** The 8-byte minisign key id (`minisignKeyId`). */
  readonly keyId: Uint8Array;
  /** `publicKeyFingerprint(publicKey)`. */
  readonly fingerprint: string;
  /** Ed25519 (RFC 8032, not prehashed) over `message`. */
  sign(message: Uint8Array): Promise<Uint8Array>;
}

/** What `generateKeyFiles` wrote. */
export interface GeneratedKey {
  publicKey: string;
  fingerprint: string;
  keyId: string;
  files: { secret: string; public: string; minisign: string };
}

/** The paths of the three files of the key at `file`. */
export function keyFilePaths(file: string): GeneratedKey["files"] {
  return { secret: file, public: `${file}.pub`, minisign: `${file}.minisign.pub` };
}

/**
 * Generate a new Ed25519 key and write its three files (`writeKeyFiles`). Refuses (CONFLICT, nothing
 * written) when any of them exists, unless `force`.
 */
export async function generateKeyFiles(
  file: string,
  options: { force?: boolean } = {},
): Promise<GeneratedKey> {
  const files = keyFilePaths(file);
  const existing = Object.values(files).filter((path) => existsSync(path));
  if (existing.length > 0 && !options.force) {
    throw fail.conflict(
      `${existing.join(", ")} already exists; choose another --out or pass --force to replace it.`,
      {
        paths: existing,
      },
    );
  }
  return writeKeyFiles(file, utils.randomSecretKey());
}

/**
 * Write the three files of the key with the 32-byte Ed25519 `seed`, each atomically, the secret with
 * mode 0600, replacing existing ones. For fixed test keys; `generateKeyFiles` is the normal way.
 */
export async function writeKeyFiles(file: string, seed: Uint8Array): Promise<GeneratedKey> {
  const files = keyFilePaths(file);
  const publicKey = await getPublicKeyAsync(seed);
  const keyId = await minisignKeyId(publicKey);
  const secret: SecretKeyFile = {
    format: SECRET_KEY_FORMAT,
    algorithm: "ed25519",
    secret_key: bytesToBase64(seed),
    public_key: bytesToBase64(publicKey),
    key_id: minisignKeyIdHex(keyId),
    fingerprint: await publicKeyFingerprint(publicKey),
    created_at: new Date().toISOString(),
  };
  await writeFileAtomic(files.secret, `${JSON.stringify(secret, null, 2)}\n`, 0o600);
  await writeFileAtomic(files.public, `${secret.public_key}\n`);
  await writeFileAtomic(files.minisign, minisignPublicKeyFile(publicKey, keyId));
  return { publicKey: secret.public_key, fingerprint: secret.fingerprint, keyId: secret.key_id, files };
}

/** The signing key with the 32-byte Ed25519 `seed`. */
export async function signingKeyFromSeed(seed: Uint8Array): Promise<SigningKey> {
  if (seed.length !== 32) throw fail.invalid("An Ed25519 seed is 32 bytes.");
  const secret = Uint8Array.from(seed);
  const publicKey = await getPublicKeyAsync(secret);
  const keyId = await minisignKeyId(publicKey);
  const fingerprint = await publicKeyFingerprint(publicKey);
  return { publicKey, keyId, fingerprint, sign: (message) => signAsync(message, secret) };
}

/**
 * Load the secret key file written by `generateKeyFiles` (or `pigeonhole keygen`). Throws
 * INVALID_ARGUMENT when the file is not such a key or its public key does not match its secret, and
 * NOT_FOUND when it does not exist.
 */
export async function loadSigningKey(file: string): Promise<SigningKey> {
  const text = await readKeyText(file, "signing key");
  let parsed: Partial<SecretKeyFile>;
  try {
    parsed = JSON.parse(text) as Partial<SecretKeyFile>;
  } catch {
    throw notAKey(file);
  }
  const seed = typeof parsed.secret_key === "string" ? base64ToBytes(parsed.secret_key) : null;
  if (parsed?.format !== SECRET_KEY_FORMAT || parsed.algorithm !== "ed25519" || seed?.length !== 32) {
    throw notAKey(file);
  }
  const key = await signingKeyFromSeed(seed);
  if (parsed.public_key !== bytesToBase64(key.publicKey)) {
    throw fail.invalid(`${file}: its public_key does not match its secret_key; the key file is damaged.`);
  }
  return key;
}

/**
 * Parse a public key given on the command line or in a file: base64 of the 32-byte key (as in
 * `FILE.pub`), or a minisign public key (`FILE.minisign.pub`). Throws INVALID_ARGUMENT otherwise.
 */
export function parsePublicKey(text: string, where: string): Uint8Array {
  const trimmed = text.trim();
  const raw = base64ToBytes(trimmed);
  if (raw?.length === 32) return raw;
  const minisign = parseMinisignPublicKey(trimmed);
  if (minisign) return minisign.publicKey;
  throw fail.invalid(
    `${where} is not an Ed25519 public key: give the base64 line of a FILE.pub written by pigeonhole keygen (32 bytes) or a minisign public key.`,
  );
}

/** Read a public key file (`FILE.pub` or `FILE.minisign.pub`). */
export async function readPublicKeyFile(file: string): Promise<Uint8Array> {
  return parsePublicKey(await readKeyText(file, "public key"), file);
}

async function readKeyText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw fail.notFound(
        `No ${what} file at ${file}; check the path (pigeonhole keygen --out FILE creates a key).`,
      );
    }
    throw error;
  }
}

function notAKey(file: string) {
  return fail.invalid(
    `${file} is not a Pigeonhole signing key (JSON with format "${SECRET_KEY_FORMAT}"); create one with pigeonhole keygen.`,
  );
}
