import { fail } from "../../engine/index.js";
import { parsePublicKey, readPublicKeyFile } from "../../exporter/keys.js";
import { openBundle } from "../../exporter/verify/open.js";
import { type VerifyResult, verifyBundle } from "../../exporter/verify/verify.js";
import type { CliCommand } from "./command.js";

interface VerifyOptions {
  publicKey?: string;
  publicKeyFile?: string;
  allowUnsigned?: boolean;
  json?: boolean;
}

/** `pigeonhole verify`: check a bundle's signature and every file; exit 1 naming each bad file. */
export const verifyCommand: CliCommand = {
  name: "verify",
  summary: "check a bundle's signature and the size and sha256 of every file (directory, .zip or URL)",
  define(cmd) {
    cmd
      .argument("<path-or-url>", "bundle directory, bundle .zip, or http(s) URL of a published bundle")
      .option(
        "--public-key <base64>",
        "pin the signing key: base64 Ed25519 public key (the line of FILE.pub)",
      )
      .option("--public-key-file <file>", "pin the signing key from FILE.pub or FILE.minisign.pub")
      .option("--allow-unsigned", "accept a bundle with no signature (its files are still checked)")
      .option(
        "--json",
        "print {ok, signed, key_fingerprint, signed_at, pinned, problems, files_checked, unlisted_checked}",
      )
      .action((source: string, options: VerifyOptions) => verify(source, options));
  },
};

async function verify(source: string, options: VerifyOptions): Promise<void> {
  if (options.publicKey !== undefined && options.publicKeyFile !== undefined) {
    throw fail.invalid("Give --public-key or --public-key-file, not both.");
  }
  const publicKey =
    options.publicKey !== undefined
      ? parsePublicKey(options.publicKey, "--public-key")
      : options.publicKeyFile !== undefined
        ? await readPublicKeyFile(options.publicKeyFile)
        : undefined;
  const reader = await openBundle(source);
  let result: VerifyResult;
  try {
    result = await verifyBundle(reader, {
      ...(publicKey ? { publicKey } : {}),
      allowUnsigned: options.allowUnsigned === true,
      concurrency: /^https?:/i.test(source) ? 6 : 4,
    });
  } finally {
    await reader.close();
  }
  const { manifest: _manifest, ...report } = result;
  process.stdout.write(
    options.json ? `${JSON.stringify(report, null, 2)}\n` : describe(reader.source, result),
  );
  if (!result.ok) {
    throw fail.invalid(
      `bundle verification failed: ${result.problems.length} problem${result.problems.length === 1 ? "" : "s"} (listed on stdout).`,
    );
  }
}

function describe(source: string, result: VerifyResult): string {
  const lines: string[] = [];
  const signer = result.signed
    ? `signed by key ${result.key_fingerprint ?? "(unreadable)"}, ${result.pinned ? "pinned" : "unpinned (pass --public-key to require this key)"}`
    : "unsigned";
  lines.push(
    `${result.ok ? "verified" : "FAILED"}: ${source}`,
    `  ${signer}`,
    ...(result.signed_at
      ? [`  signed at ${result.signed_at} (signed timestamp of manifest.json.minisig)`]
      : []),
    `  ${result.files_checked} files checked`,
  );
  if (!result.unlisted_checked)
    lines.push("  note: a web server cannot be listed, so unlisted files were not looked for");
  for (const { path, problem } of result.problems) lines.push(`  ${path}: ${problem}`);
  return `${lines.join("\n")}\n`;
}
