import { constants, type Stats } from "node:fs";
import { open, realpath, stat } from "node:fs/promises";
import { basename, isAbsolute, relative, resolve, sep } from "node:path";
import { fail } from "../errors.js";
import { LIMITS } from "../limits.js";
import type { Mailbox } from "../mailbox.js";
import type { Project } from "../projects.js";

/**
 * Which files on disk `attachment_paths` may name, and how they are read. Paths come from agents,
 * possibly over HTTP, so nothing is opened until the path has passed every check: lexically inside an
 * allowed directory, then (after resolving symbolic links) still inside one, an existing regular file,
 * within the size limit.
 */

/** A file that passed every check and may be read with `readCheckedFile`. */
export interface CheckedFile {
  /** The path as the caller wrote it (for error messages). */
  requested: string;
  /** The fully resolved path (no symbolic links left) that will be read. */
  realPath: string;
  /** Display name: the sanitized basename of `requested`. */
  filename: string;
  /** Size in bytes at check time. */
  bytes: number;
  /** Identity at check time, so a file swapped between check and read is noticed. */
  dev: number;
  ino: number;
}

/** An allowed directory, as configured and with its symbolic links resolved. */
interface Root {
  given: string;
  real: string;
}

interface Roots {
  /** The project's own directory (relative paths resolve against it), or null when it has none. */
  project: Root | null;
  /** The project directory (if any) followed by `mb.options.attachmentRoots` that exist. */
  all: Root[];
}

/**
 * Check every path in `paths` (in order, failing on the first bad one) without reading any file.
 * Guarantees for each result: the real path lies inside the project's directory or an attachment root,
 * and was an existing regular file of at most `LIMITS.attachmentBytes` bytes when checked.
 * Throws INVALID_ARGUMENT (bad or disallowed path), NOT_FOUND (missing file) or TOO_LARGE.
 */
export async function checkAttachmentPaths(
  mb: Mailbox,
  project: Project,
  paths: readonly string[],
): Promise<CheckedFile[]> {
  const roots = await allowedRoots(mb, project);
  const checked: CheckedFile[] = [];
  for (const requested of paths) checked.push(await checkOne(requested, project, roots));
  return checked;
}

/**
 * Read a checked file through a descriptor that refuses symbolic links and verifies it is still the
 * same regular file that was checked. Returns at most the checked size: a file that grows meanwhile is
 * read as it was when checked.
 */
export async function readCheckedFile(file: CheckedFile): Promise<Buffer> {
  // O_NONBLOCK: if the path was swapped for a FIFO, open must not hang waiting for a writer.
  const flags = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file.realPath, flags);
  } catch (error) {
    // ELOOP here means the checked file was replaced by a symbolic link after the check.
    if ((error as { code?: unknown })?.code === "ELOOP") throw changed(file);
    throw fsError(error, file.requested);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile() || info.dev !== file.dev || info.ino !== file.ino) {
      throw changed(file);
    }
    const buffer = Buffer.alloc(Math.min(info.size, file.bytes));
    let filled = 0;
    while (filled < buffer.length) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled === buffer.length ? buffer : buffer.subarray(0, filled);
  } finally {
    await handle.close();
  }
}

/**
 * A display name for an attachment: the basename of the path as given, without separators, control
 * characters or bidirectional overrides (which can disguise an extension), at most 255 characters.
 */
export function sanitizeFilename(requested: string): string {
  const name = basename(requested)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point.
    .replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, "")
    .replace(/[\\/]/g, "_")
    .trim()
    .slice(0, 255);
  return name === "" || name === "." || name === ".." ? "attachment" : name;
}

async function checkOne(requested: string, project: Project, roots: Roots): Promise<CheckedFile> {
  if (typeof requested !== "string" || requested.trim() === "") {
    throw fail.invalid("attachment_paths must not contain empty paths; pass the path of a file to attach");
  }
  if (requested.includes("\0")) {
    throw fail.invalid(`attachment path ${show(requested)} contains a NUL byte; pass a plain file path`, {
      path: requested,
    });
  }

  let lexical: string;
  if (isAbsolute(requested)) {
    lexical = resolve(requested);
    if (!roots.all.some((root) => isInside(root.given, lexical) || isInside(root.real, lexical))) {
      throw fail.invalid(
        `attachment path ${show(requested)} is outside the directories attachments may come from; ${allowedText(roots)}`,
        { path: requested },
      );
    }
  } else {
    if (!roots.project) {
      throw fail.invalid(
        `attachment path ${show(requested)} is relative, but project ${show(project.slug)} has no directory to resolve it against (its human_key is not an existing absolute directory); pass an absolute path. ${allowedText(roots)}`,
        { path: requested },
      );
    }
    lexical = resolve(roots.project.given, requested);
    if (!isInside(roots.project.given, lexical)) {
      throw fail.invalid(
        `attachment path ${show(requested)} escapes the project directory with ".."; relative paths must stay inside ${roots.project.given}`,
        { path: requested },
      );
    }
  }

  let real: string;
  let info: Stats;
  try {
    real = await realpath(lexical);
    info = await stat(real);
  } catch (error) {
    throw fsError(error, requested);
  }
  if (!roots.all.some((root) => isInside(root.real, real))) {
    throw fail.invalid(
      `attachment path ${show(requested)} resolves through a symbolic link to a file outside the allowed directories; ${allowedText(roots)}`,
      { path: requested },
    );
  }
  if (info.isDirectory()) {
    throw fail.invalid(`attachment path ${show(requested)} is a directory; attach individual files`, {
      path: requested,
    });
  }
  if (!info.isFile()) {
    throw fail.invalid(
      `attachment path ${show(requested)} is not a regular file (a device, FIFO or socket); attach regular files only`,
      { path: requested },
    );
  }
  if (info.size > LIMITS.attachmentBytes) {
    throw fail.tooLarge(
      `attachment ${show(requested)} is ${info.size} bytes; the limit is ${LIMITS.attachmentBytes} bytes (${LIMITS.attachmentBytes / 1024 / 1024} MiB) per file. Compress it or attach an excerpt.`,
      { path: requested, bytes: info.size, limit: LIMITS.attachmentBytes },
    );
  }
  return {
    requested,
    realPath: real,
    filename: sanitizeFilename(requested),
    bytes: info.size,
    dev: info.dev,
    ino: info.ino,
  };
}

/** The project's directory (when its human key is an existing absolute directory) and the configured roots. */
async function allowedRoots(mb: Mailbox, project: Project): Promise<Roots> {
  const projectRoot = isAbsolute(project.human_key) ? await directoryRoot(project.human_key) : null;
  const all: Root[] = projectRoot ? [projectRoot] : [];
  for (const dir of mb.options.attachmentRoots ?? []) {
    const root = await directoryRoot(resolve(dir));
    if (root) all.push(root);
  }
  return { project: projectRoot, all };
}

async function directoryRoot(dir: string): Promise<Root | null> {
  try {
    const real = await realpath(dir);
    return (await stat(real)).isDirectory() ? { given: resolve(dir), real } : null;
  } catch {
    // A root that does not exist (or cannot be resolved) allows nothing.
    return null;
  }
}

/** True when `target` is `root` or lies below it (both absolute and normalized). */
function isInside(root: string, target: string): boolean {
  const rel = relative(root, target);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

function allowedText(roots: Roots): string {
  if (roots.all.length === 0) {
    return "this mailbox allows none: the project's human_key is not an existing directory and no attachmentRoots are configured";
  }
  return `allowed: ${roots.all.map((root) => root.given).join(", ")}`;
}

/** Translate a filesystem error for `requested` into a typed error; rethrow what is not the caller's doing. */
function fsError(error: unknown, requested: string): unknown {
  const code = (error as { code?: unknown })?.code;
  const data = { path: requested };
  switch (code) {
    case "ENOENT":
    case "ENOTDIR":
      return fail.notFound(`attachment file ${show(requested)} does not exist; check the path`, data);
    case "EACCES":
    case "EPERM":
      return fail.invalid(`attachment file ${show(requested)} cannot be read (permission denied)`, data);
    case "ELOOP":
      return fail.invalid(`attachment path ${show(requested)} has too many levels of symbolic links`, data);
    case "ENAMETOOLONG":
      return fail.invalid(`attachment path ${show(requested).slice(0, 200)}... is too long`, data);
    default:
      return error;
  }
}

function changed(file: CheckedFile): Error {
  return fail.conflict(
    `attachment ${show(file.requested)} changed while it was being attached; send the message again`,
    { path: file.requested },
  );
}

function show(path: string): string {
  return JSON.stringify(path);
}
