import { readdirSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type DeployOptions, deployBundle } from "../../exporter/deploy/deploy.js";
import { retryWait } from "../../exporter/deploy/github-client.js";
import { directoryReader } from "../../exporter/verify/dir-reader.js";
import { verifyBundle } from "../../exporter/verify/verify.js";
import { cliEnv, killAll, runCli } from "../server/cli-process.js";
import { vectorWorkspace } from "./bundles.js";
import { type FakeGitHub, startFakeGitHub } from "./github-fake.js";

/**
 * deploy --github against a local stand-in for the GitHub REST API: the request sequence, incremental
 * uploads, history kept or replaced, Pages enabled once, the retry after a 429, and one-line errors
 * for a bad token, missing permissions and an invisible repository.
 */

const TOKEN = "ghp_testtoken0123456789abcdefABCDEF";
let ws: Awaited<ReturnType<typeof vectorWorkspace>>;
let gh: FakeGitHub;
let repoCounter = 0;

beforeAll(async () => {
  ws = await vectorWorkspace("deploy-github");
  gh = await startFakeGitHub([TOKEN]);
});
afterAll(async () => {
  await gh?.close();
  ws?.cleanup();
});
afterEach(killAll);

/** A fresh repository in the fake, and the request log cleared. */
function freshRepo(options: { empty?: boolean } = {}): string {
  const name = `octo-org/audit-${++repoCounter}`;
  gh.addRepo(name, options);
  gh.requests.length = 0;
  return name;
}

function target(repo: string, extra: Partial<Extract<DeployOptions["target"], { kind: "github" }>> = {}) {
  return {
    kind: "github" as const,
    repo,
    token: TOKEN,
    tokenEnv: "GITHUB_TOKEN",
    apiUrl: gh.url,
    userAgent: "pigeonhole-test",
    ...extra,
  };
}

/** Collapse runs of the same route: `POST blobs ×N` reads better than N entries. */
function sequence(routes: string[]): string[] {
  const out: string[] = [];
  for (const route of routes) if (out.at(-1) !== route) out.push(route);
  return out;
}

async function verifyCheckout(repo: string, branch = "gh-pages") {
  const dir = ws.path("checkout");
  gh.checkout(repo, branch, dir);
  return verifyBundle(await directoryReader(dir));
}

describe("deploy --github (REST API)", () => {
  it("creates blobs, a tree, a commit and the branch, then enables Pages; the branch verifies", async () => {
    const repo = freshRepo();
    const source = ws.vector("good-signed").dir;
    const uploads: number[] = [];
    const result = await deployBundle({
      source,
      target: target(repo, { onUpload: (done) => uploads.push(done) }),
    });
    expect(sequence(gh.routes())).toEqual([
      "GET ref",
      "GET repo",
      "POST blobs",
      "POST trees",
      "POST commits",
      "POST refs",
      "POST pages",
    ]);
    expect(gh.requests.every((r) => r.authorization === `token ${TOKEN}`)).toBe(true);
    const fileCount = readdirSync(source, { recursive: true, withFileTypes: true }).filter((e) =>
      e.isFile(),
    ).length;
    const blobPosts = gh.routes().filter((r) => r === "POST blobs").length;
    // .nojekyll is empty, like nothing else: every file has distinct content.
    expect(blobPosts).toBe(fileCount);
    expect(uploads).toEqual(Array.from({ length: fileCount }, (_, i) => i + 1));
    const blob = gh.requests.find((r) => r.route === "POST blobs")?.body as { encoding: string };
    expect(blob.encoding).toBe("base64");
    expect(gh.requests.find((r) => r.route === "POST commits")?.body).toMatchObject({ parents: [] });
    expect(gh.requests.find((r) => r.route === "POST refs")?.body).toMatchObject({
      ref: "refs/heads/gh-pages",
    });
    expect(gh.requests.find((r) => r.route === "POST pages")?.body).toEqual({
      build_type: "legacy",
      source: { branch: "gh-pages", path: "/" },
    });
    expect(result).toMatchObject({ kind: "github", status: "created", previous: null, uploaded: fileCount });
    expect(result.kind === "github" && result.pages).toEqual({
      state: "enabled",
      url: `https://octo-org.github.io/${repo.split("/")[1]}/`,
      warning: null,
    });
    expect((await verifyCheckout(repo)).ok).toBe(true);
  });

  it("keeps history, uploads only new content, skips an identical deploy, and --orphan makes a root commit", async () => {
    const repo = freshRepo();
    const first = await deployBundle({ source: ws.vector("good-signed").dir, target: target(repo) });
    gh.requests.length = 0;
    const second = await deployBundle({ source: ws.vector("encrypted-x25519").dir, target: target(repo) });
    expect(sequence(gh.routes())).toEqual([
      "GET ref",
      "GET commit",
      "GET tree",
      "POST blobs",
      "POST trees",
      "POST commits",
      "PATCH ref",
      "POST pages",
      "GET pages",
    ]);
    // The viewer files did not change: only the new chunks and manifest files were uploaded.
    const files = second.bundle.files.length;
    expect(second.kind === "github" && second.uploaded).toBeLessThan(files);
    expect(second.kind === "github" && second.uploaded).toBeGreaterThan(0);
    expect(gh.requests.find((r) => r.route === "POST commits")?.body).toMatchObject({
      parents: [first.commit],
    });
    expect(gh.requests.find((r) => r.route === "PATCH ref")?.body).toMatchObject({ force: false });
    expect(second).toMatchObject({ status: "updated", previous: first.commit });
    expect(second.kind === "github" && second.pages.state).toBe("already");
    expect((await verifyCheckout(repo)).ok).toBe(true);

    gh.requests.length = 0;
    const same = await deployBundle({ source: ws.vector("encrypted-x25519").dir, target: target(repo) });
    expect(same).toMatchObject({ status: "unchanged", commit: second.commit });
    expect(gh.routes()).toEqual(["GET ref", "GET commit", "GET tree", "POST pages", "GET pages"]);

    gh.requests.length = 0;
    const orphan = await deployBundle({
      source: ws.vector("encrypted-passphrase").dir,
      target: target(repo),
      orphan: true,
      message: "replace history",
    });
    expect(orphan).toMatchObject({ status: "replaced", previous: second.commit });
    expect(gh.requests.find((r) => r.route === "POST commits")?.body).toMatchObject({
      parents: [],
      message: "replace history",
    });
    expect(gh.requests.find((r) => r.route === "PATCH ref")?.body).toMatchObject({ force: true });
    expect(gh.repo(repo).refs.get("refs/heads/gh-pages")).toBe(orphan.commit);
    expect((await verifyCheckout(repo)).ok).toBe(true);
  });

  it("waits out a 429 with Retry-After and retries the same request", async () => {
    const repo = freshRepo();
    gh.fail({ route: "POST blobs", status: 429, headers: { "retry-after": "1" }, message: "slow down" });
    const waits: { ms: number; status: number; attempt: number }[] = [];
    const result = await deployBundle({
      source: ws.vector("good-signed").dir,
      target: target(repo, { retry: { onWait: (w) => waits.push(w) } }),
    });
    expect(waits).toEqual([expect.objectContaining({ ms: 1000, status: 429, attempt: 1 })]);
    const blobs = gh.requests.filter((r) => r.route === "POST blobs");
    expect(blobs[0]?.body).toEqual(blobs[1]?.body);
    expect(result.status).toBe("created");
    expect((await verifyCheckout(repo)).ok).toBe(true);
  });

  it("fails with one clear line on a bad token (401), without retrying and without printing the token", async () => {
    const repo = freshRepo();
    const attempt = deployBundle({
      source: ws.vector("good-signed").dir,
      target: target(repo, { token: "ghp_wrong_token_value", tokenEnv: "DEPLOY_TOKEN" }),
    });
    await expect(attempt).rejects.toMatchObject({ code: "UNAUTHENTICATED" });
    await expect(attempt).rejects.toThrow(
      /GitHub rejected the token in \$DEPLOY_TOKEN \(401 Bad credentials\)/,
    );
    await expect(attempt).rejects.not.toThrow(/ghp_wrong_token_value/);
    expect(gh.routes()).toEqual(["GET ref"]);
  });

  it("says which repository it cannot see (404), and what a 403 without rate-limit headers means", async () => {
    gh.requests.length = 0;
    const missing = deployBundle({
      source: ws.vector("good-signed").dir,
      target: target("octo-org/nowhere"),
    });
    await expect(missing).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(missing).rejects.toThrow(/octo-org\/nowhere.*token in \$GITHUB_TOKEN can see/);
    expect(gh.routes()).toEqual(["GET ref", "GET repo"]);

    const repo = freshRepo();
    gh.fail({
      route: "POST blobs",
      status: 403,
      message: "Resource not accessible by personal access token",
    });
    const denied = deployBundle({ source: ws.vector("good-signed").dir, target: target(repo) });
    await expect(denied).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
    await expect(denied).rejects.toThrow(/403 Resource not accessible.*Contents: read and write/);
    expect(gh.routes().filter((r) => r === "POST blobs")).toHaveLength(1);
    expect(gh.repo(repo).refs.size).toBe(0);
  });

  it("fails at once when a rate limit resets later than it will wait, and explains an empty repository", async () => {
    const repo = freshRepo();
    const reset = Math.floor(Date.now() / 1000) + 3600;
    gh.fail({
      route: "GET ref",
      status: 403,
      headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(reset) },
      message: "API rate limit exceeded",
    });
    await expect(
      deployBundle({
        source: ws.vector("good-signed").dir,
        target: target(repo, { retry: { maxWaitMs: 60_000 } }),
      }),
    ).rejects.toMatchObject({ code: "RATE_LIMITED", message: expect.stringMatching(/another 6\d minutes/) });

    const empty = freshRepo({ empty: true });
    await expect(
      deployBundle({ source: ws.vector("good-signed").dir, target: target(empty) }),
    ).rejects.toThrow(/repository is empty.*push any first commit/);
  });

  it("says when the branch was published but Pages could not be enabled, and when Pages serves something else", async () => {
    const repo = freshRepo();
    gh.fail({
      route: "POST pages",
      status: 403,
      message: "Resource not accessible by personal access token",
    });
    const attempt = deployBundle({ source: ws.vector("good-signed").dir, target: target(repo) });
    await expect(attempt).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
    await expect(attempt).rejects.toThrow(
      /^gh-pages now holds commit [0-9a-f]{40}, but: Cannot enable Pages .*Settings/,
    );
    expect(gh.repo(repo).refs.has("refs/heads/gh-pages")).toBe(true);

    gh.repo(repo).pages = {
      build_type: "workflow",
      source: { branch: "main", path: "/" },
      html_url: "https://octo-org.github.io/x/",
    };
    const result = await deployBundle({ source: ws.vector("encrypted-x25519").dir, target: target(repo) });
    expect(result.kind === "github" && result.pages).toMatchObject({
      state: "already",
      warning: expect.stringMatching(/GitHub Actions workflow, not from gh-pages/),
    });
  });

  it("refuses an unverifiable bundle before any request", async () => {
    freshRepo();
    await expect(
      deployBundle({ source: ws.vector("tampered-chunk").dir, target: target("octo-org/audit-1") }),
    ).rejects.toThrow(/Refusing to deploy/);
    expect(gh.requests).toEqual([]);
  });

  it("refuses an API URL that would send the token in clear, and a malformed OWNER/REPO", async () => {
    const source = ws.vector("good-signed").dir;
    await expect(
      deployBundle({ source, target: target("o/r", { apiUrl: "http://api.example.com" }) }),
    ).rejects.toThrow(/--api-url must be https/);
    await expect(deployBundle({ source, target: target("not-a-repo") })).rejects.toThrow(
      /is not OWNER\/REPO/,
    );
  });
});

describe("retryWait", () => {
  const now = 1_700_000_000_000;
  const failure = (status: number, headers: Record<string, string> = {}, message = "") => ({
    status,
    message,
    response: { headers },
  });
  it("reads Retry-After, then the rate-limit reset, then backs off from a minute; 5xx back off from a second", () => {
    expect(retryWait(failure(429, { "retry-after": "7" }), 1, now)).toMatchObject({ ms: 7000 });
    expect(retryWait(failure(403, { "retry-after": "2" }), 1, now)).toMatchObject({ ms: 2000 });
    expect(
      retryWait(
        failure(403, { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(now / 1000 + 30) }),
        1,
        now,
      ),
    ).toMatchObject({ ms: 31_000 });
    expect(retryWait(failure(403, {}, "You have exceeded a secondary rate limit"), 2, now)).toMatchObject({
      ms: 120_000,
    });
    expect(retryWait(failure(502), 3, now)).toMatchObject({ ms: 4000 });
    expect(retryWait({ status: 500, message: "fetch failed" }, 1, now)).toMatchObject({ ms: 1000 });
  });
  it("does not retry what waiting cannot fix", () => {
    for (const status of [401, 404, 409, 422]) expect(retryWait(failure(status), 1, now)).toBeNull();
    expect(retryWait(failure(403, {}, "Resource not accessible by integration"), 1, now)).toBeNull();
  });
});

describe("pigeonhole deploy --github", () => {
  it("reads the token from --token-env, reports the Pages address, and never prints the token", async () => {
    const repo = freshRepo();
    const run = await runCli(
      [
        "deploy",
        ws.vector("good-signed").dir,
        "--github",
        repo,
        "--api-url",
        gh.url,
        "--token-env",
        "AUDIT_TOKEN",
      ],
      cliEnv({ AUDIT_TOKEN: TOKEN }),
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`-> github.com/${repo} (branch gh-pages)`);
    expect(run.stdout).toContain(`pages: https://octo-org.github.io/${repo.split("/")[1]}/ (enabled now)`);
    expect(run.stdout + run.stderr).not.toContain(TOKEN);
  });

  it("prints one line for a missing or rejected token", async () => {
    const repo = freshRepo();
    const args = ["deploy", ws.vector("good-signed").dir, "--github", repo, "--api-url", gh.url];
    const missing = await runCli(args, cliEnv({ GITHUB_TOKEN: "" }));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: \$GITHUB_TOKEN is not set: export a GitHub token/);
    const rejected = await runCli(args, cliEnv({ GITHUB_TOKEN: "ghp_not_valid_zzz" }));
    expect(rejected.code).toBe(1);
    expect(rejected.stderr.trim().split("\n")).toHaveLength(1);
    expect(rejected.stderr).toMatch(/^error: Cannot read the branch on .*401 Bad credentials/);
    expect(rejected.stdout + rejected.stderr).not.toContain("ghp_not_valid_zzz");
  });
});
