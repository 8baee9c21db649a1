import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { unzipSync, zipSync } from "fflate";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { verifyBundle } from "../../exporter/verify/verify.js";
import { zipReader } from "../../exporter/verify/zip-reader.js";
import { killAll, runCli } from "../server/cli-process.js";
import { vectorWorkspace, zipDirectory } from "./bundles.js";

/** Zips are untrusted input: unsafe names and zip bombs are refused before anything is unpacked. */

let ws: Awaited<ReturnType<typeof vectorWorkspace>>;
beforeAll(async () => {
  ws = await vectorWorkspace("zip");
});
afterAll(() => ws?.cleanup());
afterEach(killAll);

const text = (s: string) => new TextEncoder().encode(s);

/** Patch the central-directory uncompressed size of entry `name` (what unzipping trusts) to `size`. */
function lieAboutSize(zip: Uint8Array, name: string, size: number): Uint8Array {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  for (let i = 0; i + 46 < zip.length; i++) {
    if (view.getUint32(i, true) !== 0x02014b50) continue;
    const nameLength = view.getUint16(i + 28, true);
    if (new TextDecoder().decode(zip.subarray(i + 46, i + 46 + nameLength)) === name) {
      view.setUint32(i + 24, size, true);
      return zip;
    }
  }
  throw new Error(`no central directory entry ${name}`);
}

describe("zip bundles", () => {
  it.each(["../evil", "/etc/passwd", "a/../../evil", "a\\..\\evil", "db//x", "./manifest.json"])(
    "refuses a zip with the entry %j, naming it",
    (name) => {
      const zip = zipSync({ "manifest.json": text("{}"), [name]: text("evil") });
      expect(() => zipReader(zip, "evil.zip")).toThrow(
        expect.objectContaining({
          code: "INVALID_ARGUMENT",
          message: expect.stringContaining(JSON.stringify(name)),
        }),
      );
    },
  );

  it("pigeonhole verify refuses a zip with a ../evil entry with one line and exit 1", async () => {
    const path = join(ws.root, "evil.zip");
    const files: Record<string, Uint8Array> = { "../evil": text("x") };
    writeFileSync(path, zipSync(files));
    const run = await runCli(["verify", path]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: .*zip entry "\.\.\/evil" is not a safe relative path/);
  });

  it("refuses a repeated entry name", () => {
    const zip = zipSync({ "dup-one.txt": text("1"), "dup-two.txt": text("2") });
    const patched = new TextDecoder("latin1").decode(zip).replaceAll("dup-two", "dup-one");
    const bytes = Uint8Array.from(patched, (c) => c.charCodeAt(0));
    expect(() => zipReader(bytes, "dup.zip")).toThrow(/dup-one\.txt appears twice/);
  });

  it("refuses more entries, or more declared unpacked bytes, than its limits, before unpacking", () => {
    const many = zipSync(Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`f${i}`, text("x")])));
    expect(() => zipReader(many, "many.zip", { bytes: 1e6, entries: 10 })).toThrow(
      expect.objectContaining({
        code: "TOO_LARGE",
        message: expect.stringContaining("more than 10 zip entries"),
      }),
    );
    // 64 MiB of zeros deflates to a few dozen KiB: a small zip bomb.
    const bomb = zipSync({ "zeros.bin": new Uint8Array(64 * 1024 * 1024) }, { level: 9 });
    expect(bomb.length).toBeLessThan(1024 * 1024);
    expect(() => zipReader(bomb, "bomb.zip", { bytes: 16 * 1024 * 1024, entries: 10 })).toThrow(
      expect.objectContaining({ code: "TOO_LARGE", message: expect.stringContaining("bundleZipBytes") }),
    );
  });

  it("never unpacks more than an entry declares: a lying size is caught as a size mismatch", async () => {
    const dir = ws.vector("good-signed").dir;
    const zip = lieAboutSize(zipDirectory(dir), "index.html", 20);
    const result = await verifyBundle(zipReader(zip, "liar.zip"));
    expect(result.problems).toEqual([
      { path: "index.html", problem: expect.stringMatching(/^20 bytes, listed as \d+/) },
    ]);
  });

  it("reads a zipped directory from inside its single top-level folder", async () => {
    const reader = zipReader(zipDirectory(ws.vector("good-signed").dir, "my-bundle/"), "nested.zip");
    expect((await reader.list())?.[0]).not.toMatch(/^my-bundle\//);
    expect((await verifyBundle(reader)).ok).toBe(true);
  });

  it("a zip with an extra file fails like a directory", async () => {
    const dir = ws.vector("good-signed").dir;
    const extra = zipDirectory(dir);
    const withExtra = zipSync({ ...unzipSync(extra), "extra.txt": text("x") });
    expect((await verifyBundle(zipReader(withExtra, "x.zip"))).problems).toEqual([
      { path: "extra.txt", problem: "unlisted: not in the manifest" },
    ]);
  });
});
