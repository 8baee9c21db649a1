import { createHash } from "node:crypto";
import { isAbsolute, posix, win32 } from "node:path";
import { z } from "zod";
import { enqueueArchiveJob } from "./archive/jobs.js";
import { fail } from "./errors.js";
import { LIMITS } from "./limits.js";
import type { Mailbox } from "./mailbox.js";
import { parseInput } from "./validate.js";

/** A project as stored and as returned by `ensure_project`. */
export interface Project {
  id: number;
  slug: string;
  human_key: string;
  created_at: string;
}

export const EnsureProjectInput = z.object({
  human_key: z
    .string()
    .min(1, "human_key must not be empty")
    .max(LIMITS.humanKeyChars)
    .describe("Absolute path of the repository (or a plain project name)"),
});
export type EnsureProjectInput = z.input<typeof EnsureProjectInput>;

/**
 * Normalize a human key: absolute paths lose trailing separators and `.`/`..` segments; plain names stay
 * as they are. A relative path (`./x`, `a/b`, `~/x`, `..`) is refused, because the same directory would
 * get different keys from different working directories.
 */
export function normalizeHumanKey(humanKey: string): string {
  const key = humanKey.trim();
  if (key === "") throw fail.invalid("human_key must not be empty; use the absolute path of the repository");
  if (isAbsolute(key) || win32.isAbsolute(key)) {
    const path = key.startsWith("/") ? posix : win32;
    const normalized = path.normalize(key);
    // Trailing separators go, but never the root's own (`/`, `C:\`), which would make the key relative.
    const root = path.parse(normalized).root;
    return normalized.length > root.length ? normalized.replace(/[\\/]+$/, "") : normalized;
  }
  if (/[\\/]/.test(key) || key.startsWith(".") || key.startsWith("~")) {
    throw fail.invalid(
      `human_key ${JSON.stringify(key)} is a relative path; pass the absolute path (for example the output of \`pwd\` in the repository) or a plain name without slashes`,
      { human_key: key },
    );
  }
  return key;
}

/**
 * A URL- and file-safe slug: lower case, `a-z0-9` and single hyphens, at most `maxChars` chars, never
 * empty (`fallback` when nothing of `text` survives). Used for project slugs and archive file names.
 */
export function slugify(text: string, maxChars = 64, fallback = "project"): string {
  const slug = text
    .toLowerCase()
    .normalize("NFKD")
    // Accents decompose into a letter plus a combining mark; dropping the mark keeps `naïve` as `naive`.
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, maxChars)
    .replace(/-+$/, "");
  return slug === "" ? fallback : slug;
}

/**
 * The slug of `key`, or when taken, a variant with a hash suffix; a suffix that is itself taken (a key
 * can be named after another's hashed slug) is rehashed with a counter until free.
 */
function freeSlug(mb: Mailbox, key: string): string {
  const taken = (slug: string) =>
    mb.statement("SELECT 1 FROM projects WHERE slug = ?").get(slug) !== undefined;
  const base = slugify(key);
  let slug = base;
  for (let attempt = 0; taken(slug); attempt++) {
    const seed = attempt === 0 ? key : `${key}\0${attempt}`;
    slug = `${base.slice(0, 55).replace(/-+$/, "")}-${createHash("sha256").update(seed).digest("hex").slice(0, 8)}`;
  }
  return slug;
}

/**
 * Create the project for `human_key` if it does not exist; return it either way. Idempotent: the same key
 * always yields the same project. Two keys with the same slug get distinct slugs (a hash suffix).
 */
export function ensureProject(mb: Mailbox, input: EnsureProjectInput): Project {
  const { human_key } = parseInput(EnsureProjectInput, input);
  const key = normalizeHumanKey(human_key);
  const existing = mb.statement<Project>("SELECT * FROM projects WHERE human_key = ?").get(key);
  if (existing) return existing;
  return mb.write(() => {
    const raced = mb.statement<Project>("SELECT * FROM projects WHERE human_key = ?").get(key);
    if (raced) return raced;
    const slug = freeSlug(mb, key);
    const created_at = mb.now();
    const info = mb
      .statement("INSERT INTO projects (slug, human_key, created_at) VALUES (?, ?, ?)")
      .run(slug, key, created_at);
    const id = Number(info.lastInsertRowid);
    enqueueArchiveJob(mb, "project", id);
    return { id, slug, human_key: key, created_at };
  });
}

/**
 * Find a project by human key (a path is normalized first) or slug. The human key wins when a string is
 * both one project's human key and another's slug, so the key given to `ensure_project` always finds the
 * project it returned. Throws NOT_FOUND with a hint to call `ensure_project` when there is none.
 */
export function resolveProject(mb: Mailbox, projectKey: string): Project {
  let key = projectKey;
  try {
    key = normalizeHumanKey(projectKey);
  } catch {
    // A key that is not a valid human key can still be a slug, or else only not found.
  }
  const byKey = mb.statement<Project>("SELECT * FROM projects WHERE human_key = ?").get(key);
  if (byKey) return byKey;
  const bySlug = mb.statement<Project>("SELECT * FROM projects WHERE slug = ?").get(projectKey);
  if (bySlug) return bySlug;
  throw fail.notFound(
    `Project ${JSON.stringify(projectKey)} not found. Call ensure_project with its absolute path first, or pass an existing slug.`,
    { project_key: projectKey },
  );
}

/** Every project, oldest first. */
export function listProjects(mb: Mailbox): Project[] {
  return mb.statement<Project>("SELECT * FROM projects ORDER BY id").all();
}
