import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Decrypter, generateX25519Identity, identityToRecipient } from "age-encryption";
import { afterAll, describe, expect, it } from "vitest";
import { ageHeader, encryptPayload, SCRYPT_LOG_N } from "../../exporter/pipeline/age-stream.js";
import { encryptedBytes } from "../../exporter/pipeline/encrypt.js";

/**
 * The native age payload (age-stream.ts) against both real decrypters, the `age` binary and
 * age-encryption's Decrypter, at the sizes where STREAM chunking has edges: empty, one byte, exactly one
 * and two 64 KiB chunks, and one byte over.
 */

const dir = mkdtempSync(join(tmpdir(), "pigeonhole-age-stream-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SIZES = [0, 1, 65_535, 65_536, 65_537, 131_072, 200_000];

async function encrypt(
  target: { recipients: string[] } | { passphrase: string },
  plain: Uint8Array,
  pieceSize = 10_000,
) {
  const { header, fileKey } = await ageHeader(target);
  const pieces = function* () {
    // A reused buffer, as fileBytes hands out: the encrypter must copy what it keeps.
    const buffer = new Uint8Array(pieceSize);
    for (let at = 0; at < plain.length; at += pieceSize) {
      const piece = plain.subarray(at, at + pieceSize);
      buffer.set(piece);
      yield buffer.subarray(0, piece.length);
      buffer.fill(0xee);
    }
  };
  return Buffer.concat([header, ...[...encryptPayload(fileKey, pieces())].map((b) => Buffer.from(b))]);
}

describe("native age payload", () => {
  it("decrypts with the age binary and with age-encryption at every chunk edge (X25519)", async () => {
    const identity = await generateX25519Identity();
    const recipient = await identityToRecipient(identity);
    writeFileSync(join(dir, "key.txt"), `${identity}\n`, { mode: 0o600 });
    const decrypter = new Decrypter();
    decrypter.addIdentity(identity);
    for (const size of SIZES) {
      const plain = randomBytes(size);
      const cipher = await encrypt({ recipients: [recipient] }, plain);
      const file = join(dir, `x-${size}.age`);
      writeFileSync(file, cipher);
      const run = spawnSync("age", ["-d", "-i", join(dir, "key.txt"), file]);
      expect(run.status, `${size}: ${run.stderr}`).toBe(0);
      expect(Buffer.compare(run.stdout, plain), String(size)).toBe(0);
      expect(Buffer.compare(Buffer.from(await decrypter.decrypt(cipher)), plain), String(size)).toBe(0);
    }
  });

  it("has one stanza per recipient and a fresh file key every time", async () => {
    const recipients = await Promise.all(
      [1, 2].map(async () => identityToRecipient(await generateX25519Identity())),
    );
    const a = await ageHeader({ recipients });
    const b = await ageHeader({ recipients });
    const text = Buffer.from(a.header).toString("latin1");
    expect(text.startsWith("age-encryption.org/v1\n")).toBe(true);
    expect(text.match(/^-> X25519 /gm)).toHaveLength(2);
    expect(text).toMatch(/\n--- [A-Za-z0-9+/]{43}\n$/);
    expect(Buffer.compare(Buffer.from(a.fileKey), Buffer.from(b.fileKey))).not.toBe(0);
  });

  it("a passphrase header is one scrypt stanza that age-encryption opens", async () => {
    const plain = randomBytes(70_000);
    const cipher = await encrypt({ passphrase: "correct horse battery staple" }, plain);
    const header = cipher.subarray(0, cipher.indexOf("\n---")).toString("latin1");
    expect(header.match(/^-> /gm)).toHaveLength(1);
    expect(header).toMatch(new RegExp(`^-> scrypt [A-Za-z0-9+/]{22} ${SCRYPT_LOG_N}$`, "m"));
    const good = new Decrypter();
    good.addPassphrase("correct horse battery staple");
    expect(Buffer.compare(Buffer.from(await good.decrypt(cipher)), plain)).toBe(0);
  }, 60_000);

  it("a flipped ciphertext byte or a dropped last chunk is refused by age", async () => {
    const identity = await generateX25519Identity();
    writeFileSync(join(dir, "key2.txt"), `${identity}\n`, { mode: 0o600 });
    const plain = randomBytes(150_000);
    const cipher = await encrypt({ recipients: [await identityToRecipient(identity)] }, plain);
    const flipped = Buffer.from(cipher);
    flipped[flipped.length - 100] = (flipped[flipped.length - 100] ?? 0) ^ 1;
    const chunkBytes = 65_536 + 16;
    // Header, 16-byte nonce, then two full chunks: the flagged last chunk is gone.
    const payload = cipher.indexOf("\n", cipher.indexOf("\n---") + 1) + 1 + 16;
    const truncated = cipher.subarray(0, payload + 2 * chunkBytes);
    for (const [name, bytes] of [
      ["flipped", flipped],
      ["truncated", truncated],
    ] as const) {
      writeFileSync(join(dir, `${name}.age`), bytes);
      const run = spawnSync("age", ["-d", "-i", join(dir, "key2.txt"), join(dir, `${name}.age`)]);
      expect(run.status, name).not.toBe(0);
    }
  });

  it("encryptedBytes streams a file's encryption that age decrypts", async () => {
    const identity = await generateX25519Identity();
    writeFileSync(join(dir, "key3.txt"), `${identity}\n`, { mode: 0o600 });
    const plain = randomBytes(5 * 1024 * 1024 + 17);
    writeFileSync(join(dir, "plain.bin"), plain);
    const pieces: Buffer[] = [];
    const spec = { mode: "x25519" as const, recipients: [await identityToRecipient(identity)] };
    for (const piece of await encryptedBytes(join(dir, "plain.bin"), spec)) pieces.push(Buffer.from(piece));
    writeFileSync(join(dir, "file.age"), Buffer.concat(pieces));
    const run = spawnSync("age", ["-d", "-i", join(dir, "key3.txt"), join(dir, "file.age")], {
      maxBuffer: 64 << 20,
    });
    expect(run.status, String(run.stderr)).toBe(0);
    expect(Buffer.compare(run.stdout, plain)).toBe(0);
  });
});
