import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { base64ToBytes, bytesToBase64 } from "../../exporter/base64.js";
import {
  isSafeBundlePath,
  listedFiles,
  type Manifest,
  manifestProblems,
  publicKeyFingerprint,
} from "../../exporter/bundle-format.js";
import { vectorWorkspace } from "./bundles.js";

/** The shared format module: the rules the exporter, verify and the viewer all apply. */

let ws: Awaited<ReturnType<typeof vectorWorkspace>>;
let good: Manifest;
beforeAll(async () => {
  ws = await vectorWorkspace("format");
  good = JSON.parse(readFileSync(join(ws.vector("good-signed").dir, "manifest.json"), "utf8"));
});
afterAll(() => ws?.cleanup());

const edited = (change: (m: Manifest) => void): Manifest => {
  const copy = structuredClone(good);
  change(copy);
  return copy;
};

describe("bundle format", () => {
  it("the fingerprint is the first 8 bytes of sha256(public key), hex in four groups", async () => {
    const key = base64ToBytes(ws.vectors.keys.signing.publicKey) as Uint8Array;
    const hex = createHash("sha256").update(key).digest("hex").slice(0, 16);
    expect(await publicKeyFingerprint(key)).toBe(hex.match(/.{4}/g)?.join(":"));
    expect(await publicKeyFingerprint(new Uint8Array(32))).toBe("66687aadf862bd77".match(/.{4}/g)?.join(":"));
  });

  it("base64 is strict: one spelling per value", () => {
    expect(bytesToBase64(new Uint8Array([1, 2, 3, 250]))).toBe("AQID+g==");
    expect(base64ToBytes("AQID+g==")).toEqual(new Uint8Array([1, 2, 3, 250]));
    for (const bad of ["AQID+g", "AQID+g=", "AQID-g==", " AQID+g==", "AQID+h==", "A==="]) {
      expect(base64ToBytes(bad), bad).toBeNull();
    }
  });

  it("accepts only safe relative paths", () => {
    for (const path of ["index.html", "db/chunk-00000", "attachments/ab/x.webp", ".nojekyll", "a b/c"]) {
      expect(isSafeBundlePath(path), path).toBe(true);
    }
    for (const path of [
      "",
      "/abs",
      "../x",
      "a/../b",
      "a//b",
      "./a",
      "a/",
      "a\\b",
      "a\u0000b",
      "x\n",
      "a".repeat(1025),
    ]) {
      expect(isSafeBundlePath(path), JSON.stringify(path)).toBe(false);
    }
  });

  it("the vectors' manifests have no problems", () => {
    expect(manifestProblems(good)).toEqual([]);
    const encrypted = JSON.parse(
      readFileSync(join(ws.vector("encrypted-x25519").dir, "manifest.json"), "utf8"),
    );
    expect(manifestProblems(encrypted)).toEqual([]);
  });

  it("finds database fields that disagree with each other or with the chunks", () => {
    const cases: [string, (m: Manifest) => void, RegExp][] = [
      [
        "no chunk_size",
        (m) => Reflect.deleteProperty(m.database, "chunk_size"),
        /chunk_size is not a positive/,
      ],
      [
        "zero chunk_size",
        (m) => Object.assign(m.database, { chunk_size: 0 }),
        /chunk_size is not a positive/,
      ],
      ["bad sha256", (m) => Object.assign(m.database, { sha256: "XYZ" }), /bad database\.sha256/],
      ["encrypted flag", (m) => Object.assign(m.database, { encrypted: true }), /disagrees with encryption/],
      [
        "odd encryption",
        (m) => Object.assign(m, { encryption: { format: "gpg", mode: "x25519", recipients: 1 } }),
        /neither null nor an age/,
      ],
      [
        "short middle chunk",
        (m) => Object.assign(m.database.chunks[0] as object, { size: 10 }),
        /chunk-00000 is 10 bytes/,
      ],
      ["bad path", (m) => Object.assign(m.files[0] as object, { path: "../x" }), /unsafe path/],
      ["version", (m) => Object.assign(m, { format_version: 2 }), /format_version 2 is not supported/],
    ];
    for (const [label, change, problem] of cases) {
      expect(manifestProblems(edited(change)).join("; "), label).toMatch(problem);
    }
    expect(manifestProblems(null)).toEqual(["manifest is not a JSON object"]);
  });

  it("lists files and chunks together and reports a path listed twice with different content", () => {
    const { files, conflicts } = listedFiles(good);
    expect(files.size).toBe(good.files.length);
    expect(conflicts).toEqual([]);
    const clash = edited((m) =>
      Object.assign(m.files.find((f) => f.path === "db/chunk-00000") as object, { size: 1 }),
    );
    expect(listedFiles(clash).conflicts).toEqual(["db/chunk-00000"]);
  });
});
