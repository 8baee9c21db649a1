import { createHash } from "node:crypto";
import { describe, expect, test } from "vitest";
import {
  ensureProject,
  listProjects,
  normalizeHumanKey,
  resolveProject,
  slugify,
} from "../../engine/index.js";
import { countRows, expectFail, tempMailbox } from "./helpers.js";

describe("ensure_project", () => {
  test("creates a project with exactly the documented fields", () => {
    const { mb, clock } = tempMailbox();
    const p = ensureProject(mb, { human_key: "/home/dev/My Repo" });
    expect(Object.keys(p).sort()).toEqual(["created_at", "human_key", "id", "slug"]);
    expect(p).toEqual({
      id: p.id,
      slug: "home-dev-my-repo",
      human_key: "/home/dev/My Repo",
      created_at: clock.iso(),
    });
  });

  test("is idempotent: the same key returns the same project and creates nothing", () => {
    const { mb, clock } = tempMailbox();
    const first = ensureProject(mb, { human_key: "/a/b" });
    clock.advance(60);
    const again = ensureProject(mb, { human_key: "/a/b" });
    expect(again).toEqual(first);
    expect(countRows(mb, "projects")).toBe(1);
  });

  test("a trailing slash, doubled slashes and . / .. segments name the same project", () => {
    const { mb } = tempMailbox();
    const p = ensureProject(mb, { human_key: "/a/b" });
    for (const variant of ["/a/b/", "/a//b", "/a/./b", "/a/c/../b", "/a/b///", " /a/b "]) {
      expect(ensureProject(mb, { human_key: variant }).id).toBe(p.id);
    }
    expect(countRows(mb, "projects")).toBe(1);
  });

  test.each(["./x", "a/b", "~/x", "..", ".", "x/", "../up", "~"])("refuses the relative path %j", (key) => {
    const { mb } = tempMailbox();
    const error = expectFail(() => ensureProject(mb, { human_key: key }), "INVALID_ARGUMENT");
    expect(error.message).toMatch(/relative path/);
    expect(error.message).toMatch(/absolute path/);
    expect(countRows(mb, "projects")).toBe(0);
  });

  test("allows plain names without slashes", () => {
    const { mb } = tempMailbox();
    const p = ensureProject(mb, { human_key: "backend" });
    expect(p.human_key).toBe("backend");
    expect(p.slug).toBe("backend");
  });

  test("refuses an empty or blank key", () => {
    const { mb } = tempMailbox();
    expect(expectFail(() => ensureProject(mb, { human_key: "" }), "INVALID_ARGUMENT").message).toMatch(
      /human_key/,
    );
    expect(expectFail(() => ensureProject(mb, { human_key: "   " }), "INVALID_ARGUMENT").message).toMatch(
      /human_key/,
    );
  });

  test("refuses a human key over the limit with TOO_LARGE", () => {
    const { mb } = tempMailbox();
    const error = expectFail(() => ensureProject(mb, { human_key: `/${"a".repeat(5000)}` }), "TOO_LARGE");
    expect(error.message).toMatch(/human_key/);
  });

  test("keys whose slugs collide get distinct slugs", () => {
    const { mb } = tempMailbox();
    const a = ensureProject(mb, { human_key: "/x/app" });
    const b = ensureProject(mb, { human_key: "/X/App" });
    const c = ensureProject(mb, { human_key: "x-app" });
    const slugs = [a.slug, b.slug, c.slug];
    expect(new Set(slugs).size).toBe(3);
    expect(a.slug).toBe("x-app");
    for (const s of slugs) expect(s).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    expect(resolveProject(mb, b.slug).id).toBe(b.id);
  });

  test("a hashed slug that is itself taken still yields a fresh slug (never a raw SQLite error)", () => {
    const { mb } = tempMailbox();
    ensureProject(mb, { human_key: "/x" });
    const hashed = `x-${createHash("sha256").update("x").digest("hex").slice(0, 8)}`;
    const squatter = ensureProject(mb, { human_key: hashed });
    expect(squatter.slug).toBe(hashed);
    const plain = ensureProject(mb, { human_key: "x" });
    expect(["x", hashed]).not.toContain(plain.slug);
    expect(resolveProject(mb, plain.slug).id).toBe(plain.id);
  });

  test("a key made only of symbols still gets a usable slug", () => {
    const { mb } = tempMailbox();
    expect(ensureProject(mb, { human_key: "/" }).slug).toBe("project");
    expect(ensureProject(mb, { human_key: "/%%%" }).slug).toMatch(/^project-[0-9a-f]{8}$/);
  });

  test("Windows absolute paths are accepted and keep their root", () => {
    expect(normalizeHumanKey("C:\\repo\\app\\")).toBe("C:\\repo\\app");
    expect(normalizeHumanKey("C:\\")).toBe("C:\\");
  });
});

describe("slugify", () => {
  test("lower-cases, joins words with single hyphens and caps the length at 64", () => {
    expect(slugify("/Users/Dev/My__Repo!!")).toBe("users-dev-my-repo");
    expect(slugify(`/${"abc/".repeat(40)}`).length).toBeLessThanOrEqual(64);
    expect(slugify(`/${"abc/".repeat(40)}`)).not.toMatch(/-$/);
  });

  test("drops accents instead of splitting words at them", () => {
    expect(slugify("/home/zoë/Naïve Café")).toBe("home-zoe-naive-cafe");
  });
});

describe("resolving a project_key", () => {
  test("by slug or by human key (normalized)", () => {
    const { mb } = tempMailbox();
    const p = ensureProject(mb, { human_key: "/srv/app" });
    expect(resolveProject(mb, p.slug)).toEqual(p);
    expect(resolveProject(mb, "/srv/app")).toEqual(p);
    expect(resolveProject(mb, "/srv/app/")).toEqual(p);
  });

  test("an exact human key wins over another project's slug, like ensure_project", () => {
    const { mb } = tempMailbox();
    const byPath = ensureProject(mb, { human_key: "/backend" });
    const byName = ensureProject(mb, { human_key: "backend" });
    expect(byPath.slug).toBe("backend");
    expect(resolveProject(mb, "backend").id).toBe(byName.id);
    expect(resolveProject(mb, "/backend").id).toBe(byPath.id);
  });

  test("unknown keys are NOT_FOUND with a hint to call ensure_project", () => {
    const { mb } = tempMailbox();
    ensureProject(mb, { human_key: "/srv/app" });
    for (const key of ["nope", "/srv/other", "./relative"]) {
      const error = expectFail(() => resolveProject(mb, key), "NOT_FOUND");
      expect(error.message).toMatch(/ensure_project/);
      expect(error.data).toEqual({ project_key: key });
    }
  });

  test("listProjects returns every project oldest first", () => {
    const { mb } = tempMailbox();
    const a = ensureProject(mb, { human_key: "/p/one" });
    const b = ensureProject(mb, { human_key: "/p/two" });
    expect(listProjects(mb)).toEqual([a, b]);
  });
});
