import { createHmac, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import type Database from "better-sqlite3";
import { fail } from "../../engine/errors.js";
import { rewriteAttachmentContents } from "./attachments.js";
import { countTextRows, rewriteTextFields } from "./text-fields.js";

export interface PseudonymizeInput {
  db: Database.Database;
  /** The HMAC key: from `loadPseudonymKey`, or random bytes for a one-off mapping. */
  key: Uint8Array;
  /** Work directory where rewritten attachment blobs are written. */
  workDir: string;
  onProgress?: (done: number, total: number) => void;
}

export interface PseudonymizeOutput {
  agents: number;
  rows_changed: number;
  attachments_rewritten: number;
  attachments_withheld: number;
}

/** The shortest key a `--pseudonym-key` file may hold. */
export const MIN_PSEUDONYM_KEY_BYTES = 16;

/**
 * Read a pseudonym key file. Trailing newlines are ignored (so `echo` and `printf` make the same key);
 * fewer than MIN_PSEUDONYM_KEY_BYTES bytes are refused (INVALID_ARGUMENT).
 */
export function loadPseudonymKey(file: string): Uint8Array {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    throw fail.notFound(
      `Cannot read the pseudonym key file ${file}; create one with: head -c 32 /dev/urandom | base64 > ${file}`,
    );
  }
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === 0x0a || bytes[end - 1] === 0x0d)) end--;
  if (end < MIN_PSEUDONYM_KEY_BYTES) {
    throw fail.invalid(
      `The pseudonym key file ${file} holds ${end} bytes; use at least ${MIN_PSEUDONYM_KEY_BYTES} random bytes, e.g. head -c 32 /dev/urandom | base64 > ${file}`,
    );
  }
  return bytes.subarray(0, end);
}

/** A fresh random key: pseudonyms then differ from one export to the next. */
export function randomPseudonymKey(): Uint8Array {
  return randomBytes(32);
}

const PREFIXES = ["Agent", "Anon", "Pseudonym", "Someone"];

/**
 * The pseudonym of every name in `names`, keyed by the lower-cased name: `<Prefix>-<hex>` where hex
 * starts with 8 digits of HMAC-SHA256(key, lower-cased name). The same key and name always give the same
 * pseudonym (unless two names collide, then the later one in sorted order takes more digits). No
 * pseudonym equals a name, and no word of a pseudonym is a name: the prefix is the first of PREFIXES that
 * is nobody's name, and a digit string that is somebody's name is lengthened.
 */
export function pseudonymMap(key: Uint8Array, names: readonly string[]): Map<string, string> {
  const lower = [...new Set(names.map((n) => n.toLowerCase()))].sort();
  const isName = new Set(lower);
  const prefix =
    PREFIXES.find((p) => !isName.has(p.toLowerCase())) ??
    `P${createHmac("sha256", key).digest("hex").slice(0, 6)}`;
  const used = new Set<string>();
  const map = new Map<string, string>();
  for (const name of lower) {
    const digest = createHmac("sha256", key).update(name).digest("hex");
    let length = 8;
    let hex = digest.slice(0, length);
    while ((used.has(hex) || isName.has(hex)) && length < digest.length) {
      length += 4;
      hex = digest.slice(0, length);
    }
    used.add(hex);
    map.set(name, `${prefix}-${hex}`);
  }
  return map;
}

const MARKER = String.raw`\[REDACTED:[a-z0-9-]+\]`;

/**
 * A function replacing every whole-word, case-insensitive occurrence of a mapped name by its pseudonym.
 * A word boundary is anything but a letter, digit or underscore, so `Bob`, `@Bob`, `Bob's`, `Bob-2`
 * (unless `Bob-2` is itself a name: longer names win) and `src/bob/x.ts` are replaced and `Bobby` or
 * `bob_x` are not. Redaction markers are left intact. One pass: a pseudonym is never rewritten again.
 */
export function nameReplacer(map: ReadonlyMap<string, string>): (text: string) => string {
  if (map.size === 0) return (text) => text;
  const names = [...map.keys()].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
  const alternatives = names.map((n) => n.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&")).join("|");
  const pattern = new RegExp(`(${MARKER})|(?<![A-Za-z0-9_])(?:${alternatives})(?![A-Za-z0-9_])`, "gi");
  return (text) =>
    text.replace(pattern, (match: string, marker: string | undefined) =>
      marker ? marker : (map.get(match.toLowerCase()) ?? match),
    );
}

/**
 * Replace every agent name by its pseudonym everywhere in the work copy: the agent rows themselves and
 * every free-text value (text-fields.ts: subjects, bodies, payloads, thread ids, topics, task
 * descriptions, reasons, project keys, attachment names), plus text attachments. Senders and recipients
 * are rows pointing at agents, so they follow. A binary attachment whose bytes contain a name as a
 * whole word is withheld. Guarantees: afterwards no name of the agents table occurs as a whole word in
 * any text of the copy.
 */
export async function applyPseudonyms(input: PseudonymizeInput): Promise<PseudonymizeOutput> {
  const { db } = input;
  const names = db.prepare("SELECT name FROM agents").pluck().all() as string[];
  const replace = nameReplacer(pseudonymMap(input.key, names));
  const transform = (texts: readonly string[]) => texts.map(replace);
  const total = countTextRows(db);
  let done = 0;
  const stats = await rewriteTextFields(db, transform, (rows) => {
    done += rows;
    input.onProgress?.(done, total);
  });
  const attachments = await rewriteAttachmentContents(
    db,
    input.workDir,
    transform,
    (latin1) => replace(latin1) !== latin1,
  );
  return {
    agents: names.length,
    rows_changed: stats.rows_changed,
    attachments_rewritten: attachments.rewritten,
    attachments_withheld: attachments.withheld,
  };
}
