import { verifyAsync } from "@noble/ed25519";
import { blake2b } from "@noble/hashes/blake2.js";
import { base64ToBytes, bytesToBase64 } from "./base64.js";

/**
 * The minisign file formats (https://jedisct1.github.io/minisign/), so that `minisign -V` checks a bundle
 * with no Pigeonhole code. Browser-safe.
 *
 * A signature file is four lines: an untrusted comment, base64 of algorithm (2 bytes) + key id (8) +
 * signature (64), a trusted comment, and base64 of the global signature over signature || trusted comment.
 * We write the legacy algorithm `Ed`: Ed25519 over the file's exact bytes, so the minisign signature is
 * the very signature of `manifest.sig.json` (minisign 0.11 accepts it unless `-H` is given). We also read
 * the prehashed `ED` form (Ed25519 over BLAKE2b-512 of the file), which minisign writes by default.
 */

const LEGACY = "Ed";
const PREHASHED = "ED";
const UNTRUSTED = "untrusted comment: ";
const TRUSTED = "trusted comment: ";
// RFC 8032 verification (as OpenSSL does), not ZIP-215: one accepted signature per message and key.
const STRICT = { zip215: false };

/** A signing function: Ed25519 over `message` with the key whose id is used in the file. */
export type Ed25519Sign = (message: Uint8Array) => Promise<Uint8Array>;

/**
 * The 8-byte minisign key id of a Pigeonhole key: the first 8 bytes of sha256(public key), so the id is
 * derived from the key and is the same bytes as its fingerprint.
 */
export async function minisignKeyId(publicKey: Uint8Array): Promise<Uint8Array> {
  const digest = await crypto.subtle.digest("SHA-256", publicKey as Uint8Array<ArrayBuffer>);
  return new Uint8Array(digest, 0, 8);
}

/** The key id as minisign prints it: the 8 bytes read as a little-endian integer, upper-case hex. */
export function minisignKeyIdHex(keyId: Uint8Array): string {
  return Array.from(keyId, (b) => b.toString(16).padStart(2, "0").toUpperCase())
    .reverse()
    .join("");
}

/** A minisign public key file (`minisign -p FILE`): comment line, then base64 of `Ed` + key id + key. */
export function minisignPublicKeyFile(publicKey: Uint8Array, keyId: Uint8Array): string {
  const body = concat(ascii(LEGACY), keyId, publicKey);
  return `${UNTRUSTED}minisign public key ${minisignKeyIdHex(keyId)}\n${bytesToBase64(body)}\n`;
}

/** Parse a minisign public key file or bare base64 key line; null when it is not one. */
export function parseMinisignPublicKey(text: string): { keyId: Uint8Array; publicKey: Uint8Array } | null {
  const lines = text.split(/\r?\n/).filter((line) => line !== "");
  const last = lines.at(-1);
  const bytes = last === undefined ? null : base64ToBytes(last);
  if (bytes?.length !== 42 || bytes[0] !== 0x45 || bytes[1] !== 0x64) return null;
  return { keyId: bytes.slice(2, 10), publicKey: bytes.slice(10) };
}

/**
 * A minisign signature file (legacy `Ed` form) for `message`. Both comments must be single lines;
 * `sign` must belong to the key `keyId` names.
 */
export async function minisignSignatureFile(
  message: Uint8Array,
  keyId: Uint8Array,
  sign: Ed25519Sign,
  comments: { untrusted: string; trusted: string },
): Promise<string> {
  for (const comment of [comments.untrusted, comments.trusted]) {
    if (/[\r\n]/.test(comment)) throw new Error("minisign comments must be one line");
  }
  const signature = await sign(message);
  const global = await sign(concat(signature, utf8(comments.trusted)));
  return (
    `${UNTRUSTED}${comments.untrusted}\n${bytesToBase64(concat(ascii(LEGACY), keyId, signature))}\n` +
    `${TRUSTED}${comments.trusted}\n${bytesToBase64(global)}\n`
  );
}

/**
 * Check a minisign signature file over `message` against `publicKey` (whose id must be `keyId`), as
 * `minisign -V` does: the file signature and the global signature over the trusted comment. Returns
 * null when valid, else one line saying what is wrong. Accepts the legacy and the prehashed forms.
 */
export async function minisignProblem(
  text: string,
  message: Uint8Array,
  publicKey: Uint8Array,
  keyId: Uint8Array,
): Promise<string | null> {
  const lines = text.replace(/\r?\n$/, "").split(/\r?\n/);
  const [untrusted, sigLine, trusted, globalLine] = lines;
  if (
    lines.length !== 4 ||
    !untrusted?.startsWith(UNTRUSTED) ||
    !trusted?.startsWith(TRUSTED) ||
    sigLine === undefined ||
    globalLine === undefined
  ) {
    return "not a minisign signature file (expected 4 lines: comment, signature, trusted comment, global signature)";
  }
  const sig = base64ToBytes(sigLine);
  const global = base64ToBytes(globalLine);
  if (sig?.length !== 74 || global?.length !== 64) return "malformed minisign signature";
  const algorithm = String.fromCharCode(sig[0] ?? 0, sig[1] ?? 0);
  if (algorithm !== LEGACY && algorithm !== PREHASHED) return `unknown minisign algorithm ${algorithm}`;
  if (!equalBytes(sig.subarray(2, 10), keyId)) {
    return `minisign signature is by key id ${minisignKeyIdHex(sig.subarray(2, 10))}, not ${minisignKeyIdHex(keyId)}`;
  }
  const signature = sig.subarray(10);
  const signed = algorithm === PREHASHED ? blake2b(message) : message;
  if (!(await verifyAsync(signature, signed, publicKey, STRICT))) {
    return "minisign signature does not verify over manifest.json";
  }
  const trustedComment = utf8(trusted.slice(TRUSTED.length));
  if (!(await verifyAsync(global, concat(signature, trustedComment), publicKey, STRICT))) {
    return "minisign trusted comment signature does not verify";
  }
  return null;
}

/**
 * The `timestamp:` of a minisign file's trusted comment, as a Date (minisign writes whole seconds since
 * the epoch); null when the file has no such field. Parses only: the value is trustworthy once
 * `minisignProblem` has accepted the same text, since the trusted comment is covered by the global
 * signature.
 */
export function minisignTrustedTimestamp(text: string): Date | null {
  const trusted = text.split(/\r?\n/)[2];
  if (!trusted?.startsWith(TRUSTED)) return null;
  for (const field of trusted.slice(TRUSTED.length).split("\t")) {
    const match = /^timestamp:(\d{1,12})$/.exec(field);
    const date = match ? new Date(Number(match[1]) * 1000) : null;
    if (date) return Number.isNaN(date.getTime()) ? null : date;
  }
  return null;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
