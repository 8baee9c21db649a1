import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { base64ToBytes } from "../../exporter/base64.js";
import { publicKeyFingerprint } from "../../exporter/bundle-format.js";
import { generateKeyFiles, loadSigningKey, SECRET_KEY_FORMAT } from "../../exporter/keys.js";
import { minisignKeyId, minisignProblem, parseMinisignPublicKey } from "../../exporter/minisign.js";
import { writeBundleSignatures } from "../../exporter/signing.js";
import { killAll, runCli } from "../server/cli-process.js";

/** Keys and signatures, checked by the real `openssl` and `minisign` binaries. */

const root = mkdtempSync(join(tmpdir(), "pigeonhole-signing-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(killAll);
let counter = 0;
const freshDir = () => {
  const dir = join(root, `case-${++counter}`);
  execFileSync("mkdir", ["-p", dir]);
  return dir;
};

/** A SubjectPublicKeyInfo PEM of a raw Ed25519 key, as openssl reads it. */
function publicKeyPem(raw: Uint8Array): string {
  const der = Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), raw]);
  return `-----BEGIN PUBLIC KEY-----\n${der.toString("base64")}\n-----END PUBLIC KEY-----\n`;
}

function opensslVerify(dir: string, publicKey: Uint8Array, signatureB64: string) {
  writeFileSync(join(dir, "pub.pem"), publicKeyPem(publicKey));
  writeFileSync(join(dir, "sig.bin"), Buffer.from(signatureB64, "base64"));
  return spawnSync(
    "openssl",
    [
      "pkeyutl",
      "-verify",
      "-pubin",
      "-inkey",
      "pub.pem",
      "-rawin",
      "-in",
      "manifest.json",
      "-sigfile",
      "sig.bin",
    ],
    { cwd: dir, encoding: "utf8" },
  );
}

function minisignVerify(dir: string, pubFile: string, extra: string[] = []) {
  return spawnSync("minisign", ["-V", ...extra, "-m", "manifest.json", "-p", pubFile], {
    cwd: dir,
    encoding: "utf8",
  });
}

async function signedDir(manifest = '{"format":"pigeonhole-bundle","hello":"world"}\n') {
  const dir = freshDir();
  const key = await generateKeyFiles(join(dir, "key"));
  writeFileSync(join(dir, "manifest.json"), manifest);
  const signature = await writeBundleSignatures(dir, await loadSigningKey(key.files.secret));
  return { dir, key, signature };
}

describe("keygen", () => {
  it("writes a 0600 JSON secret key, a base64 .pub and a minisign .pub that describe the same key", async () => {
    const dir = freshDir();
    const run = await runCli(["keygen", "--out", join(dir, "bundle.key")]);
    expect(run.code, run.stderr).toBe(0);
    const secretPath = join(dir, "bundle.key");
    expect(statSync(secretPath).mode & 0o777).toBe(0o600);
    const secret = JSON.parse(readFileSync(secretPath, "utf8"));
    expect(secret).toMatchObject({ format: SECRET_KEY_FORMAT, algorithm: "ed25519" });
    expect(base64ToBytes(secret.secret_key)?.length).toBe(32);
    const pub = readFileSync(`${secretPath}.pub`, "utf8");
    expect(pub).toMatch(/^[A-Za-z0-9+/]{43}=\n$/);
    expect(pub.trim()).toBe(secret.public_key);
    const raw = base64ToBytes(pub.trim()) as Uint8Array;
    const fingerprint = await publicKeyFingerprint(raw);
    expect(fingerprint).toMatch(/^[0-9a-f]{4}(:[0-9a-f]{4}){3}$/);
    expect(secret.fingerprint).toBe(fingerprint);
    const minisignPub = readFileSync(`${secretPath}.minisign.pub`, "utf8");
    expect(minisignPub).toMatch(
      /^untrusted comment: minisign public key [0-9A-F]{16}\n[A-Za-z0-9+/=]{56}\n$/,
    );
    const parsed = parseMinisignPublicKey(minisignPub);
    expect(Buffer.from(parsed?.publicKey ?? []).toString("base64")).toBe(secret.public_key);
    expect(parsed?.keyId).toEqual(await minisignKeyId(raw));
    // The command prints the public key and its fingerprint.
    expect(run.stdout).toContain(secret.public_key);
    expect(run.stdout).toContain(fingerprint);
    expect(run.stdout).not.toContain(secret.secret_key);
  });

  it("refuses to overwrite an existing key unless --force", async () => {
    const dir = freshDir();
    const out = join(dir, "k");
    expect((await runCli(["keygen", "--out", out])).code).toBe(0);
    const before = readFileSync(out, "utf8");
    const again = await runCli(["keygen", "--out", out]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error: .*already exists.*--force/);
    expect(readFileSync(out, "utf8")).toBe(before);
    const forced = await runCli(["keygen", "--out", out, "--force"]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(readFileSync(out, "utf8")).not.toBe(before);
    expect(statSync(out).mode & 0o777).toBe(0o600);
  });

  it("refuses to load a file that is not a key, or whose public key does not match its secret", async () => {
    const dir = freshDir();
    writeFileSync(join(dir, "junk"), "not json");
    await expect(loadSigningKey(join(dir, "junk"))).rejects.toThrow(/not a Pigeonhole signing key/);
    const key = await generateKeyFiles(join(dir, "k"));
    const other = await generateKeyFiles(join(dir, "other"));
    const file = JSON.parse(readFileSync(key.files.secret, "utf8"));
    writeFileSync(join(dir, "mixed"), JSON.stringify({ ...file, public_key: other.publicKey }));
    await expect(loadSigningKey(join(dir, "mixed"))).rejects.toThrow(/does not match/);
    await expect(loadSigningKey(join(dir, "absent"))).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});

describe("manifest signatures", () => {
  it("are accepted by openssl pkeyutl -rawin and by minisign -V (legacy Ed form; -H rejects it)", async () => {
    const { dir, key, signature } = await signedDir();
    const raw = base64ToBytes(key.publicKey) as Uint8Array;
    expect(signature.public_key).toBe(key.publicKey);
    const openssl = opensslVerify(dir, raw, signature.signature);
    expect(openssl.status, openssl.stderr + openssl.stdout).toBe(0);
    expect(openssl.stdout).toContain("Signature Verified Successfully");
    const minisign = minisignVerify(dir, key.files.minisign);
    expect(minisign.status, minisign.stderr).toBe(0);
    expect(minisign.stdout).toContain("Signature and comment signature verified");
    expect(minisign.stdout).toContain(`manifest_sha256:${signature.manifest_sha256}`);
    // Recorded interop fact: minisign 0.11 accepts the legacy form unless told to require prehashing.
    const prehashedOnly = minisignVerify(dir, key.files.minisign, ["-H"]);
    expect(prehashedOnly.status).not.toBe(0);
    expect(prehashedOnly.stderr).toMatch(/[Ll]egacy/);
    // The minisign file carries the same Ed25519 signature as manifest.sig.json.
    const minisig = readFileSync(join(dir, "manifest.json.minisig"), "utf8").split("\n");
    expect(
      Buffer.from(minisig[1] ?? "", "base64")
        .subarray(10)
        .toString("base64"),
    ).toBe(signature.signature);
    expect(
      await minisignProblem(
        minisig.join("\n"),
        readFileSync(join(dir, "manifest.json")),
        raw,
        await minisignKeyId(raw),
      ),
    ).toBeNull();
  });

  it("are rejected by openssl, minisign and our checker after one flipped byte of manifest.json", async () => {
    const { dir, key, signature } = await signedDir();
    const bytes = readFileSync(join(dir, "manifest.json"));
    bytes[5] = (bytes[5] ?? 0) ^ 0x01;
    writeFileSync(join(dir, "manifest.json"), bytes);
    const raw = base64ToBytes(key.publicKey) as Uint8Array;
    expect(opensslVerify(dir, raw, signature.signature).status).not.toBe(0);
    expect(minisignVerify(dir, key.files.minisign).status).not.toBe(0);
    const minisig = readFileSync(join(dir, "manifest.json.minisig"), "utf8");
    expect(await minisignProblem(minisig, bytes, raw, await minisignKeyId(raw))).toMatch(/does not verify/);
  });

  it("minisign rejects an edited trusted comment, and so does our checker", async () => {
    const { dir, key } = await signedDir();
    const path = join(dir, "manifest.json.minisig");
    const edited = readFileSync(path, "utf8").replace("file:manifest.json", "file:other.json");
    writeFileSync(path, edited);
    expect(minisignVerify(dir, key.files.minisign).status).not.toBe(0);
    const raw = base64ToBytes(key.publicKey) as Uint8Array;
    const problem = await minisignProblem(
      edited,
      readFileSync(join(dir, "manifest.json")),
      raw,
      await minisignKeyId(raw),
    );
    expect(problem).toMatch(/trusted comment/);
  });

  it("our checker accepts a prehashed (ED) signature made by the real minisign binary", async () => {
    const dir = freshDir();
    writeFileSync(join(dir, "manifest.json"), "{}\n");
    const gen = spawnSync("minisign", ["-G", "-W", "-p", "m.pub", "-s", "m.key"], {
      cwd: dir,
      encoding: "utf8",
    });
    expect(gen.status, gen.stderr).toBe(0);
    const sign = spawnSync("minisign", ["-S", "-s", "m.key", "-m", "manifest.json"], {
      cwd: dir,
      encoding: "utf8",
    });
    expect(sign.status, sign.stderr).toBe(0);
    const pub = parseMinisignPublicKey(readFileSync(join(dir, "m.pub"), "utf8"));
    const text = readFileSync(join(dir, "manifest.json.minisig"), "utf8");
    expect(
      Buffer.from(text.split("\n")[1] ?? "", "base64")
        .subarray(0, 2)
        .toString(),
    ).toBe("ED");
    expect(
      await minisignProblem(text, readFileSync(join(dir, "manifest.json")), pub!.publicKey, pub!.keyId),
    ).toBeNull();
    expect(
      await minisignProblem(text, new TextEncoder().encode("{ }\n"), pub!.publicKey, pub!.keyId),
    ).toMatch(/does not verify/);
  });

  it("writes both signature files atomically: no temporary file is left behind", async () => {
    const { dir } = await signedDir();
    const names = execFileSync("ls", ["-A", dir], { encoding: "utf8" }).trim().split("\n").sort();
    expect(names).toEqual(
      [
        "key",
        "key.minisign.pub",
        "key.pub",
        "manifest.json",
        "manifest.json.minisig",
        "manifest.sig.json",
      ].sort(),
    );
    const sig = JSON.parse(readFileSync(join(dir, "manifest.sig.json"), "utf8"));
    expect(Object.keys(sig).sort()).toEqual([
      "algorithm",
      "generated_at",
      "manifest_sha256",
      "public_key",
      "signature",
    ]);
  });
});
