import { generateKeyFiles } from "../../exporter/keys.js";
import type { CliCommand } from "./command.js";

/** `pigeonhole keygen`: a new Ed25519 bundle-signing key in three files. */
export const keygenCommand: CliCommand = {
  name: "keygen",
  summary: "create an Ed25519 key for signing bundles (FILE, FILE.pub, FILE.minisign.pub)",
  define(cmd) {
    cmd
      .requiredOption(
        "--out <file>",
        "secret key file to create (mode 0600); FILE.pub and FILE.minisign.pub go next to it",
      )
      .option("--force", "replace an existing key at FILE (the old key is lost)")
      .action(async (options: { out: string; force?: boolean }) => {
        const key = await generateKeyFiles(options.out, { force: options.force === true });
        process.stdout.write(
          `secret key:   ${key.files.secret} (mode 0600; keep it private)\n` +
            `public key:   ${key.publicKey}\n` +
            `fingerprint:  ${key.fingerprint}\n` +
            `written:      ${key.files.public}, ${key.files.minisign} (minisign key id ${key.keyId})\n`,
        );
      });
  },
};
