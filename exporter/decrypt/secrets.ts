import { readFile } from "node:fs/promises";
import { fail } from "../../engine/errors.js";

/**
 * The secrets `decrypt` accepts, read from files so they never appear in a process list or shell
 * history. Error messages name the file and line, never the secret.
 */

/**
 * The identities of an age identity file (as written by `age-keygen`): one `AGE-SECRET-KEY-1...` (or
 * post-quantum `AGE-SECRET-KEY-PQ-1...`) per line; blank lines and `#` comments are skipped. Throws
 * INVALID_ARGUMENT for any other line, or when there is no identity.
 */
export function parseIdentityFile(text: string, file: string): string[] {
  const identities: string[] = [];
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    if (!/^AGE-SECRET-KEY-(PQ-)?1[0-9A-Z]+$/.test(line)) {
      throw fail.invalid(
        `${file} line ${index + 1} is not an age identity (AGE-SECRET-KEY-1...); encrypted or plugin identity files are not supported.`,
      );
    }
    identities.push(line);
  }
  if (identities.length === 0) throw fail.invalid(`${file} holds no age identity (AGE-SECRET-KEY-1...).`);
  return identities;
}

/** Read and parse an age identity file. */
export async function readIdentityFile(file: string): Promise<string[]> {
  return parseIdentityFile(await readSecretFile(file, "identity"), file);
}

/** The passphrase in `file`: its content without one final newline. Throws INVALID_ARGUMENT when empty. */
export async function readPassphraseFile(file: string): Promise<string> {
  const passphrase = (await readSecretFile(file, "passphrase")).replace(/\r?\n$/, "");
  if (passphrase === "") throw fail.invalid(`${file} is empty; put the passphrase in it (one line).`);
  return passphrase;
}

async function readSecretFile(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT")
      throw fail.notFound(`No ${what} file at ${file}.`);
    throw error;
  }
}
