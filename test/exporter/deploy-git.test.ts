import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { deployBundle } from "../../exporter/deploy/deploy.js";
import { startPreviewServer } from "../../exporter/preview.js";
import { directoryReader } from "../../exporter/verify/dir-reader.js";
import { verifyBundle } from "../../exporter/verify/verify.js";
import { flipByte } from "../../fixtures/bundle-vectors.js";
import { cliEnv, killAll, runCli } from "../server/cli-process.js";
import { vectorWorkspace, zipDirectory } from "./bundles.js";
import { bareRepo, checkoutBranch, git, refs } from "./deploy-helpers.js";

/**
 * deploy --remote: a bundle published with git push into a real bare repository, cloned back and
 * verified; history kept or replaced; unverifiable bundles refused with nothing pushed; the deployed
 * site verified over HTTP, intact and tampered.
 */

let ws: Awaited<ReturnType<typeof vectorWorkspace>>;
beforeAll(async () => {
  ws = await vectorWorkspace("deploy-git");
});
afterAll(() => ws?.cleanup());
afterEach(killAll);

/** Every file below `dir`, relative, `/`-separated, sorted. */
function filesOf(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join("/"))
    .sort();
}

async function verifyDir(dir: string) {
  return verifyBundle(await directoryReader(dir));
}

describe("deploy --remote (git push)", () => {
  it("publishes the bundle as the whole branch: a clone verifies and holds exactly the bundle's files", async () => {
    const remote = bareRepo(ws.path("site.git"));
    const source = ws.vector("good-signed").dir;
    const result = await deployBundle({ source, target: { kind: "git", remote } });
    expect(result.status).toBe("created");
    expect(result.previous).toBeNull();
    expect(git(remote, "rev-parse", "refs/heads/gh-pages")).toBe(result.commit);

    const checkout = checkoutBranch(remote, "gh-pages", ws.path("checkout"));
    expect(filesOf(checkout)).toEqual(filesOf(source));
    expect(filesOf(checkout)).toContain(".nojekyll");
    const verified = await verifyDir(checkout);
    expect(verified.problems).toEqual([]);
    expect(verified.ok).toBe(true);
    expect(git(remote, "log", "-1", "--format=%an <%ae>%n%s", "gh-pages")).toMatch(
      /^Pigeonhole Deploy <deploy@pigeonhole\.invalid>\nPublish Pigeonhole bundle of 2025-01-01T00:00:00\.000Z: 3 messages, signed by key [0-9a-f:]{19}$/,
    );
  });

  it("keeps the branch's history by default, changes nothing when the bundle is the same, and --orphan replaces it", async () => {
    const remote = bareRepo(ws.path("history.git"));
    const first = await deployBundle({
      source: ws.vector("good-signed").dir,
      target: { kind: "git", remote },
    });
    const second = await deployBundle({
      source: ws.vector("encrypted-x25519").dir,
      target: { kind: "git", remote },
      message: "second deploy",
    });
    expect(second.status).toBe("updated");
    expect(second.previous).toBe(first.commit);
    expect(git(remote, "rev-list", "--count", "gh-pages")).toBe("2");
    expect(git(remote, "rev-parse", "gh-pages^")).toBe(first.commit);
    expect(git(remote, "log", "-1", "--format=%s", "gh-pages")).toBe("second deploy");
    // The whole content is replaced: the first bundle's attachment is gone.
    const checkout = checkoutBranch(remote, "gh-pages", ws.path("checkout"));
    expect(existsSync(join(checkout, "attachments"))).toBe(false);
    expect((await verifyDir(checkout)).ok).toBe(true);

    const again = await deployBundle({
      source: ws.vector("encrypted-x25519").dir,
      target: { kind: "git", remote },
    });
    expect(again.status).toBe("unchanged");
    expect(again.commit).toBe(second.commit);
    expect(git(remote, "rev-list", "--count", "gh-pages")).toBe("2");

    const orphan = await deployBundle({
      source: ws.vector("encrypted-passphrase").dir,
      target: { kind: "git", remote },
      orphan: true,
    });
    expect(orphan.status).toBe("replaced");
    expect(orphan.previous).toBe(second.commit);
    expect(git(remote, "rev-list", "--count", "gh-pages")).toBe("1");
    expect(git(remote, "rev-list", "--max-parents=0", "gh-pages")).toBe(orphan.commit);
    expect((await verifyDir(checkoutBranch(remote, "gh-pages", ws.path("checkout")))).ok).toBe(true);
  });

  it("publishes to another branch, from a zip, next to the repository's other branches", async () => {
    const remote = bareRepo(ws.path("zip.git"));
    await deployBundle({ source: ws.vector("good-signed").dir, target: { kind: "git", remote } });
    const zip = ws.path("bundle.zip");
    writeFileSync(zip, zipDirectory(ws.vector("good-signed").dir, "bundle/"));
    const result = await deployBundle({ source: zip, target: { kind: "git", remote }, branch: "site/audit" });
    expect(result.status).toBe("created");
    expect(git(remote, "for-each-ref", "--format=%(refname)")).toBe(
      "refs/heads/gh-pages\nrefs/heads/site/audit",
    );
    expect((await verifyDir(checkoutBranch(remote, "site/audit", ws.path("checkout")))).ok).toBe(true);
  });

  it("refuses a bundle that does not verify, naming the problem, and pushes nothing", async () => {
    const remote = bareRepo(ws.path("refuse.git"));
    await deployBundle({ source: ws.vector("good-signed").dir, target: { kind: "git", remote } });
    const before = refs(remote);
    for (const [name, path] of [
      ["tampered-chunk", "db/chunk-00001"],
      ["extra-unlisted-file", "extra.js"],
      ["tampered-manifest", "manifest.json"],
    ] as const) {
      const attempt = deployBundle({ source: ws.vector(name).dir, target: { kind: "git", remote } });
      await expect(attempt).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
      await expect(attempt).rejects.toThrow(new RegExp(`Refusing to deploy .*${path.replace(".", "\\.")}`));
    }
    // Changed after verify would be too late: the copy is what is verified and pushed.
    const copy = ws.copy("good-signed");
    await flipByte(join(copy, "_astro", "app.js"), 3);
    await expect(deployBundle({ source: copy, target: { kind: "git", remote } })).rejects.toThrow(
      /_astro\/app\.js/,
    );
    expect(refs(remote)).toBe(before);
  });

  it("refuses an unsigned bundle unless --allow-unsigned, which still checks every file", async () => {
    const remote = bareRepo(ws.path("unsigned.git"));
    const source = ws.vector("good-unsigned").dir;
    await expect(deployBundle({ source, target: { kind: "git", remote } })).rejects.toThrow(
      /unsigned.*--allow-unsigned/,
    );
    expect(refs(remote)).toBe("");
    const result = await deployBundle({ source, target: { kind: "git", remote }, allowUnsigned: true });
    expect(result.status).toBe("created");
    expect(git(remote, "log", "-1", "--format=%s", "gh-pages")).toMatch(/unsigned$/);
  });

  it("fails with one line naming the problem, never a credential", async () => {
    const source = ws.vector("good-signed").dir;
    await expect(
      deployBundle({ source, target: { kind: "git", remote: join(ws.root, "no-such.git") } }),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
    const withSecret = deployBundle({
      source,
      target: { kind: "git", remote: "http://deployer:s3cret-token@127.0.0.1:9/site.git" },
    });
    await expect(withSecret).rejects.toThrow(/\*\*\*@127\.0\.0\.1/);
    await expect(withSecret).rejects.not.toThrow(/s3cret/);
    await expect(
      deployBundle({ source, target: { kind: "git", remote: "--upload-pack=touch /tmp/x" } }),
    ).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(
      deployBundle({ source, target: { kind: "git", remote: ws.path("x.git") }, branch: "-bad" }),
    ).rejects.toThrow(/--branch/);
    await expect(
      deployBundle({ source: "https://example.invalid/bundle/", target: { kind: "git", remote: "x" } }),
    ).rejects.toThrow(/local bundle/);
  });
});

describe("pigeonhole deploy --remote, then verify over HTTP", () => {
  it("deploys with the CLI; verify https://… passes on the served checkout and fails once a file is tampered", async () => {
    const remote = bareRepo(ws.path("cli.git"));
    const source = ws.vector("good-signed").dir;
    const run = await runCli(["deploy", source, "--remote", remote, "--message", "from the CLI"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`deployed: ${source} -> ${remote} (branch gh-pages)`);
    expect(run.stdout).toMatch(/commit [0-9a-f]{40} \(created the branch\)/);

    const site = checkoutBranch(remote, "gh-pages", ws.path("site"));
    const server = await startPreviewServer({ root: site });
    try {
      const publicKey = ws.vectors.keys.signing.publicKey;
      const ok = await runCli(["verify", server.url, "--public-key", publicKey], cliEnv());
      expect(ok.stdout).toContain(`verified: ${server.url}`);
      expect(ok.code).toBe(0);

      await flipByte(join(site, "db", "chunk-00000"), 10);
      const bad = await runCli(["verify", server.url, "--public-key", publicKey], cliEnv());
      expect(bad.code).toBe(1);
      expect(bad.stdout).toContain("db/chunk-00000: sha256 does not match the manifest");
      expect(bad.stderr).toMatch(/^error: bundle verification failed: 1 problem/);
    } finally {
      await server.close();
    }
    expect(readFileSync(join(site, "manifest.json"), "utf8")).toContain("pigeonhole-bundle");
  });

  it("prints one line and exits 1 for a tampered bundle, pushing nothing", async () => {
    const remote = bareRepo(ws.path("cli-bad.git"));
    const run = await runCli(["deploy", ws.vector("truncated-chunk").dir, "--remote", remote]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toMatch(/^error: Refusing to deploy .*db\/chunk-\d+: .*truncated/);
    expect(refs(remote)).toBe("");
  });

  it("refuses conflicting or misplaced options", async () => {
    const source = ws.vector("good-signed").dir;
    const both = await runCli(["deploy", source, "--remote", "a.git", "--github", "o/r"]);
    expect(both.code).toBe(1);
    expect(both.stderr).toMatch(/exactly one of --remote/);
    const tokenWithGit = await runCli(["deploy", source, "--remote", "a.git", "--token-env", "X"]);
    expect(tokenWithGit.stderr).toMatch(/--token-env cannot be used with --remote/);
    const noPath = await runCli(["deploy", "--remote", "a.git"]);
    expect(noPath.stderr).toMatch(/Give the bundle to publish/);
  });
});
