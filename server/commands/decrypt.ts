import { fail } from "../../engine/index.js";
import { type DecryptSecret, decryptBundle } from "../../exporter/decrypt/decrypt.js";
import { readIdentityFile, readPassphraseFile } from "../../exporter/decrypt/secrets.js";
import { loadSigningKey } from "../../exporter/signing.js";
import { openBundle } from "../../exporter/verify/open.js";
import type { CliCommand } from "./command.js";

interface DecryptOptions {
  out: string;
  identity?: string;
  passphraseFile?: string;
  signKey?: string;
  force?: boolean;
}

/** `pigeonhole decrypt`: an encrypted bundle becomes a plain one, or nothing is written. */
export const decryptCommand: CliCommand = {
  name: "decrypt",
  summary: "turn an encrypted bundle into a plain one (verified first; nothing written on failure)",
  define(cmd) {
    cmd
      .argument("<path>", "encrypted bundle: directory, .zip or http(s) URL")
      .requiredOption("--out <dir>", "directory to create for the plain bundle")
      .option("--identity <file>", "age identity file (AGE-SECRET-KEY-1... lines, as age-keygen writes)")
      .option("--passphrase-file <file>", "file holding the passphrase (its first line)")
      .option("--sign-key <file>", "sign the plain bundle with this key (default: the result is unsigned)")
      .option("--force", "replace --out when it already holds a bundle")
      .action((source: string, options: DecryptOptions) => decrypt(source, options));
  },
};

async function decrypt(source: string, options: DecryptOptions): Promise<void> {
  if ((options.identity === undefined) === (options.passphraseFile === undefined)) {
    throw fail.invalid("Give exactly one of --identity FILE or --passphrase-file FILE.");
  }
  const secret: DecryptSecret =
    options.identity !== undefined
      ? { identities: await readIdentityFile(options.identity) }
      : { passphrase: await readPassphraseFile(options.passphraseFile as string) };
  const signKey = options.signKey !== undefined ? await loadSigningKey(options.signKey) : undefined;
  const reader = await openBundle(source);
  try {
    const result = await decryptBundle(reader, {
      out: options.out,
      secret,
      force: options.force === true,
      ...(signKey ? { signKey } : {}),
    });
    process.stdout.write(
      `decrypted: ${result.out} (database ${result.database.size} bytes in ${result.database.chunks} chunks, ` +
        `${result.attachments} attachments, ${result.files_copied} other files, ${result.signed ? `signed by key ${signKey?.fingerprint}` : "unsigned: verify it with --allow-unsigned"})\n`,
    );
  } finally {
    await reader.close();
  }
}
