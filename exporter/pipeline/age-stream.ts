import { createCipheriv, hkdfSync, randomBytes, scrypt } from "node:crypto";
import { Encrypter, type Recipient, Stanza } from "age-encryption";

/**
 * An age file (https://age-encryption.org/v1) whose header comes from `age-encryption` and whose payload
 * is encrypted with Node's native ChaCha20-Poly1305. age-encryption encrypts the payload in JavaScript,
 * about ten times slower than OpenSSL on a database of tens of megabytes; the header (recipient stanzas,
 * header MAC) is cheap and stays the library's. The payload follows the spec's STREAM construction, so
 * `age -d` and age-encryption's Decrypter read the result like any age file.
 */

/** STREAM plaintext chunk size (age spec). */
const CHUNK = 64 * 1024;
const TAG_BYTES = 16;
/** An empty payload encrypts to its 16-byte nonce and one empty final chunk (a bare tag). */
const EMPTY_PAYLOAD_BYTES = 16 + TAG_BYTES;
/** scrypt work factor (log2 N), age's and age-encryption's default. */
export const SCRYPT_LOG_N = 18;
const SCRYPT_LABEL = "age-encryption.org/v1/scrypt";

/** Who can open the file: X25519 recipients (`age1...`), or one passphrase (scrypt). */
export type AgeTarget = { recipients: readonly string[] } | { passphrase: string };

/**
 * The header of a new age file for `target`, and the file key it wraps. Made by age-encryption's
 * Encrypter (so stanzas and header MAC are the library's), with one extra recipient that only reads the
 * file key and adds no stanza. A passphrase is wrapped by `NativeScryptRecipient`, the library's scrypt
 * stanza computed with Node's scrypt (age-encryption refuses other recipients beside its own passphrase
 * one). The file key must be used for one payload only (`encryptPayload`).
 */
export async function ageHeader(target: AgeTarget): Promise<{ header: Uint8Array; fileKey: Uint8Array }> {
  const encrypter = new Encrypter();
  let fileKey: Uint8Array | null = null;
  const capture: Recipient = {
    wrapFileKey(key) {
      fileKey = key;
      return [];
    },
  };
  if ("passphrase" in target) encrypter.addRecipient(new NativeScryptRecipient(target.passphrase));
  else for (const recipient of target.recipients) encrypter.addRecipient(recipient);
  encrypter.addRecipient(capture);
  // The library's own payload for an empty file is dropped: header, then nonce and one empty chunk.
  const whole = await encrypter.encrypt(new Uint8Array(0));
  if (fileKey === null || whole.length <= EMPTY_PAYLOAD_BYTES) throw new Error("age header: no file key");
  return { header: whole.subarray(0, whole.length - EMPTY_PAYLOAD_BYTES), fileKey };
}

/**
 * The age payload of `plaintext` under `fileKey`, in pieces: a fresh 16-byte nonce, then STREAM chunks of 64 KiB,
 * each ChaCha20-Poly1305 with the 11-byte big-endian chunk counter and a last-chunk flag as nonce. The
 * last chunk is empty only when the whole plaintext is. Pieces of `plaintext` may reuse one buffer: each
 * is consumed before the next is asked for.
 */
export function* encryptPayload(fileKey: Uint8Array, plaintext: Iterable<Uint8Array>): Generator<Uint8Array> {
  const nonce = randomBytes(16);
  const key = Buffer.from(hkdfSync("sha256", fileKey, nonce, "payload", 32));
  yield nonce;
  const chunkNonce = Buffer.alloc(12);
  let counter = 0n;
  // Ciphertext, then tag: the two pieces of one sealed chunk, in order.
  const seal = (chunk: Uint8Array, last: boolean): [Uint8Array, Uint8Array] => {
    chunkNonce.writeBigUInt64BE(counter >> 24n, 0);
    chunkNonce.writeUIntBE(Number(counter & 0xffffffn), 8, 3);
    chunkNonce[11] = last ? 1 : 0;
    counter++;
    const cipher = createCipheriv("chacha20-poly1305", key, chunkNonce, { authTagLength: TAG_BYTES });
    const body = cipher.update(chunk);
    cipher.final();
    return [body, cipher.getAuthTag()];
  };
  // One full chunk is held back until more data shows it is not the last.
  const buffer = Buffer.allocUnsafe(CHUNK);
  let used = 0;
  for (const piece of plaintext) {
    let offset = 0;
    while (offset < piece.length) {
      if (used === CHUNK) {
        yield* seal(buffer, false);
        used = 0;
      }
      const take = Math.min(CHUNK - used, piece.length - offset);
      buffer.set(piece.subarray(offset, offset + take), used);
      used += take;
      offset += take;
    }
  }
  yield* seal(buffer.subarray(0, used), true);
}

/**
 * The age scrypt recipient stanza (`-> scrypt <salt> <log2 N>`, the file key sealed with
 * ChaCha20-Poly1305 under scrypt(passphrase, label || salt), zero nonce), as age-encryption's
 * ScryptRecipient writes it, with Node's native scrypt.
 */
class NativeScryptRecipient implements Recipient {
  constructor(private readonly passphrase: string) {}

  async wrapFileKey(fileKey: Uint8Array): Promise<Stanza[]> {
    const salt = randomBytes(16);
    const n = 2 ** SCRYPT_LOG_N;
    const key = await new Promise<Buffer>((resolve, reject) =>
      scrypt(
        this.passphrase,
        Buffer.concat([Buffer.from(SCRYPT_LABEL), salt]),
        32,
        { N: n, r: 8, p: 1, maxmem: 256 * n * 8 },
        (error, derived) => (error ? reject(error) : resolve(derived)),
      ),
    );
    const cipher = createCipheriv("chacha20-poly1305", key, Buffer.alloc(12), { authTagLength: TAG_BYTES });
    const body = Buffer.concat([cipher.update(fileKey), cipher.final(), cipher.getAuthTag()]);
    const saltText = salt.toString("base64").replace(/=+$/, "");
    return [new Stanza(["scrypt", saltText, String(SCRYPT_LOG_N)], new Uint8Array(body))];
  }
}
