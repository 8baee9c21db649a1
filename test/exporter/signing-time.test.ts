import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { minisignSignatureFile, minisignTrustedTimestamp } from "../../exporter/minisign.js";
import { loadSigningKey } from "../../exporter/signing.js";
import { directoryReader } from "../../exporter/verify/dir-reader.js";
import { verifyBundle } from "../../exporter/verify/verify.js";
import { killAll, runCli } from "../server/cli-process.js";
import { vectorWorkspace } from "./bundles.js";

/**
 * manifest.sig.json's `generated_at` is outside every signature; the signed signing time is the
 * `timestamp:` of the minisign trusted comment. verify reports the signed one and fails a bundle whose
 * unsigned field says otherwise, so an auditor never reads an unsigned time as a signed one.
 */

// The vectors are signed at their fixed generated_at.
const SIGNED_AT = "2025-01-01T00:00:00.000Z";

let ws: Awaited<ReturnType<typeof vectorWorkspace>>;
beforeAll(async () => {
  ws = await vectorWorkspace("signing-time");
});
afterAll(() => ws?.cleanup());
afterEach(killAll);

function editSignatureFile(dir: string, edit: (sig: Record<string, unknown>) => void): void {
  const path = join(dir, "manifest.sig.json");
  const sig = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  edit(sig);
  writeFileSync(path, `${JSON.stringify(sig, null, 2)}\n`);
}

async function verifyDir(dir: string) {
  return verifyBundle(await directoryReader(dir));
}

describe("the signing time", () => {
  it("is reported from the signed minisign trusted comment", async () => {
    const result = await verifyDir(ws.copy("good-signed"));
    expect(result.problems).toEqual([]);
    expect(result.signed_at).toBe(SIGNED_AT);
  });

  it("is null for an unsigned bundle", async () => {
    const result = await verifyBundle(await directoryReader(ws.copy("good-unsigned")), {
      allowUnsigned: true,
    });
    expect(result.ok).toBe(true);
    expect(result.signed_at).toBeNull();
  });

  it("a generated_at moved to another second fails verification, naming manifest.sig.json", async () => {
    for (const moved of ["2024-12-31T23:59:59.999Z", "2025-01-01T00:00:01.000Z", "2030-06-01T12:00:00Z"]) {
      const dir = ws.copy("good-signed");
      editSignatureFile(dir, (sig) => {
        sig.generated_at = moved;
      });
      const result = await verifyDir(dir);
      expect(result.ok, moved).toBe(false);
      expect(result.problems, moved).toEqual([
        {
          path: "manifest.sig.json",
          problem: `generated_at ${moved} disagrees with the signed time ${SIGNED_AT} in the trusted comment of manifest.json.minisig: the field is not signed and was changed after signing`,
        },
      ]);
      // The signed time is still the one reported.
      expect(result.signed_at).toBe(SIGNED_AT);
    }
  });

  it("a generated_at that is missing or not a time fails verification", async () => {
    for (const value of [undefined, "yesterday", 1735689600000]) {
      const dir = ws.copy("good-signed");
      editSignatureFile(dir, (sig) => {
        if (value === undefined) delete sig.generated_at;
        else sig.generated_at = value;
      });
      const result = await verifyDir(dir);
      expect(result.problems, String(value)).toEqual([
        {
          path: "manifest.sig.json",
          problem: expect.stringMatching(/^generated_at .* is not an ISO-8601 time/),
        },
      ]);
    }
  });

  it("milliseconds within the signed second are accepted (minisign counts whole seconds)", async () => {
    const dir = ws.copy("good-signed");
    editSignatureFile(dir, (sig) => {
      sig.generated_at = "2025-01-01T00:00:00.999Z";
    });
    const result = await verifyDir(dir);
    expect(result.problems).toEqual([]);
    expect(result.signed_at).toBe(SIGNED_AT);
  });

  it("a validly signed minisign file without a timestamp: field fails: the time cannot be checked", async () => {
    const dir = ws.copy("good-signed");
    const key = await loadSigningKey(ws.vectors.keys.signing.file);
    const manifest = new Uint8Array(readFileSync(join(dir, "manifest.json")));
    const minisig = await minisignSignatureFile(manifest, key.keyId, (m) => key.sign(m), {
      untrusted: "no time",
      trusted: "file:manifest.json",
    });
    writeFileSync(join(dir, "manifest.json.minisig"), minisig);
    const result = await verifyDir(dir);
    expect(result.problems).toEqual([
      { path: "manifest.json.minisig", problem: expect.stringMatching(/no timestamp: field/) },
    ]);
    expect(result.signed_at).toBeNull();
  });

  it("pigeonhole verify prints the signed time, and the disagreement when generated_at was edited", async () => {
    const good = await runCli(["verify", ws.copy("good-signed")]);
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toContain(`  signed at ${SIGNED_AT} (signed timestamp of manifest.json.minisig)\n`);
    const dir = ws.copy("good-signed");
    editSignatureFile(dir, (sig) => {
      sig.generated_at = "2030-06-01T12:00:00.000Z";
    });
    const run = await runCli(["verify", dir, "--json"]);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report.signed_at).toBe(SIGNED_AT);
    expect(report.problems).toEqual([
      { path: "manifest.sig.json", problem: expect.stringMatching(/disagrees with the signed time/) },
    ]);
  });
});

describe("minisignTrustedTimestamp", () => {
  it("reads the timestamp field wherever it sits in the trusted comment", () => {
    const file = (trusted: string) => `untrusted comment: x\nAAAA\ntrusted comment: ${trusted}\nBBBB\n`;
    expect(minisignTrustedTimestamp(file("timestamp:1735689600\tfile:manifest.json"))?.toISOString()).toBe(
      SIGNED_AT,
    );
    expect(
      minisignTrustedTimestamp(file("file:manifest.json\ttimestamp:1735689600\thashed"))?.getTime(),
    ).toBe(1735689600000);
    expect(minisignTrustedTimestamp(file("file:manifest.json"))).toBeNull();
    expect(minisignTrustedTimestamp(file("timestamp:soon"))).toBeNull();
    expect(minisignTrustedTimestamp(file("timestamp:9999999999999"))).toBeNull();
    expect(minisignTrustedTimestamp("not a minisign file")).toBeNull();
  });
});
