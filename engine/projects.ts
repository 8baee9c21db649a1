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
    const normalized = key.startsWith("/") ? posix.normalize(key) : win32.normalize(key);
    return normalized.length > 1 ? normalized.replace(/[\\/]+$/, "") : normalized;
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
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, maxChars)
    .replace(/-+$/, "");
  return slug === "" ? fallback : slug;
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
    let slug = slugify(key);
    if (mb.statement("SELECT 1 FROM projects WHERE slug = ?").get(slug)) {
      slug = `${slug.slice(0, 55)}-${createHash("sha256").update(key).digest("hex").slice(0, 8)}`;
    }
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
 * Find a project by slug or human key (a path is normalized first). Throws NOT_FOUND with a hint to call
 * `ensure_project` when there is none.
 */
export function resolveProject(mb: Mailbox, projectKey: string): Project {
  const bySlug = mb.statement<Project>("SELECT * FROM projects WHERE slug = ?").get(projectKey);
  if (bySlug) return bySlug;
  let key = projectKey;
  try {
    key = normalizeHumanKey(projectKey);
  } catch {
    // A key that is not a valid human key can still only be not found.
  }
  const byKey = mb.statement<Project>("SELECT * FROM projects WHERE human_key = ?").get(key);
  if (byKey) return byKey;
  throw fail.notFound(
    `Project ${JSON.stringify(projectKey)} not found. Call ensure_project with its absolute path first, or pass an existing slug.`,
    { project_key: projectKey },
  );
}

/** Every project, oldest first. */
export function listProjects(mb: Mailbox): Project[] {
  return mb.statement<Project>("SELECT * FROM projects ORDER BY id").all();
}
