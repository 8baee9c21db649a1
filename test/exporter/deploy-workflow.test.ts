import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { DEFAULT_WORKFLOW_PATH, renderWorkflow, writeWorkflow } from "../../exporter/deploy/workflow.js";
import { CLI, cliEnv, runCli } from "../server/cli-process.js";

/** deploy --write-workflow: the GitHub Actions workflow that exports, signs, verifies and publishes to Pages. */

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  needs?: string;
  permissions?: Record<string, string>;
  environment?: { name: string; url: string };
  env?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  name: string;
  on: {
    workflow_dispatch: { inputs: Record<string, { default: string; type: string; options?: string[] }> };
    schedule?: { cron: string }[];
  };
  permissions: Record<string, string>;
  concurrency: { group: string; "cancel-in-progress": boolean };
  jobs: { export: Job; deploy: Job };
}

const root = mkdtempSync(join(tmpdir(), "pigeonhole-workflow-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const workflow = (cron?: string) =>
  parse(renderWorkflow({ version: "1.2.3", ...(cron ? { cron } : {}) })) as Workflow;

describe("the generated workflow", () => {
  it("parses as YAML, runs on demand with projects, preset and mailbox inputs, and documents a schedule", () => {
    const text = renderWorkflow({ version: "1.2.3" });
    const w = parse(text) as Workflow;
    const inputs = w.on.workflow_dispatch.inputs;
    expect(inputs.preset).toMatchObject({
      type: "choice",
      default: "standard",
      options: ["standard", "strict", "archive"],
    });
    expect(inputs.projects).toMatchObject({ type: "string", default: "" });
    expect(inputs.mailbox).toMatchObject({ default: ".pigeonhole" });
    expect(w.on.schedule).toBeUndefined();
    expect(text).toContain('#   - cron: "17 3 * * 1"');
    expect(workflow("0 6 * * *").on.schedule).toEqual([{ cron: "0 6 * * *" }]);
  });

  it("grants least privilege: contents read to export, pages and id-token write only to deploy, in github-pages", () => {
    const w = workflow();
    expect(w.permissions).toEqual({ contents: "read" });
    expect(w.jobs.export.permissions).toEqual({ contents: "read", pages: "read" });
    expect(w.jobs.deploy.permissions).toEqual({ pages: "write", "id-token": "write" });
    expect(w.jobs.deploy.needs).toBe("export");
    expect(w.jobs.deploy.environment).toEqual({
      name: "github-pages",
      url: "${{ steps.deployment.outputs.page_url }}",
    });
    expect(w.concurrency).toEqual({ group: "pages", "cancel-in-progress": false });
  });

  it("installs this version, signs with the key from the repository secret, verifies, and uses the official Pages actions", () => {
    const { export: job, deploy } = workflow().jobs;
    const uses = job.steps.map((s) => s.uses).filter(Boolean);
    expect(uses).toEqual([
      "actions/checkout@v6",
      "actions/setup-node@v6",
      "actions/configure-pages@v6",
      "actions/upload-pages-artifact@v5",
    ]);
    expect(deploy.steps).toEqual([
      { name: "Deploy to GitHub Pages", id: "deployment", uses: "actions/deploy-pages@v5" },
    ]);
    const step = (name: string) => {
      const found = job.steps.find((s) => s.name === name);
      if (!found) throw new Error(`no step ${name}`);
      return found;
    };
    expect(step("Install pigeonhole").run).toBe("npm install --global pigeonhole@1.2.3");
    const key = step("Write the signing key");
    expect(key.env).toEqual({ SIGNING_KEY: "${{ secrets.PIGEONHOLE_SIGNING_KEY }}" });
    expect(key.run).toContain("umask 077");
    expect(key.run).toContain('chmod 600 "$RUNNER_TEMP/pigeonhole-signing.key"');
    const exported = step("Export the signed bundle").run ?? "";
    expect(exported).toMatch(
      /pigeonhole export --home "\$MAILBOX" --out "\$RUNNER_TEMP\/pigeonhole-bundle" --scrub "\$PRESET"/,
    );
    expect(exported).toContain('--sign-key "$RUNNER_TEMP/pigeonhole-signing.key"');
    expect(exported).toContain('--project "$project"');
    expect(job.env).toMatchObject({
      PRESET: "${{ inputs.preset || 'standard' }}",
      PROJECTS: "${{ inputs.projects }}",
    });
    expect(step("Remove the signing key")).toMatchObject({ if: "always()" });
    expect(step("Verify the bundle").run).toContain(
      'pigeonhole verify "$RUNNER_TEMP/pigeonhole-bundle" --public-key "$PUBLIC_KEY"',
    );
    expect(step("Upload the bundle").with).toEqual({
      path: "${{ runner.temp }}/pigeonhole-bundle",
      "include-hidden-files": true,
    });
    // Order: the key is removed before anything else runs, and nothing is uploaded unverified.
    const order = job.steps.map((s) => s.name);
    expect(order.indexOf("Write the signing key")).toBeLessThan(order.indexOf("Export the signed bundle"));
    expect(order.indexOf("Export the signed bundle")).toBeLessThan(order.indexOf("Remove the signing key"));
    expect(order.indexOf("Verify the bundle")).toBeLessThan(order.indexOf("Upload the bundle"));
  });

  it("never pastes an expression into a shell script (inputs arrive as environment variables)", () => {
    for (const job of Object.values(workflow("5 4 * * 0").jobs)) {
      for (const step of job.steps) expect(step.run ?? "").not.toContain("${{");
    }
  });

  it("refuses a cron that is not five plain fields", () => {
    for (const bad of ["* * * *", "0 6 * * * *", '0 6 * * 1"\n  evil: x', "@daily"]) {
      expect(() => renderWorkflow({ version: "1.0.0", cron: bad })).toThrow(/five-field cron/);
    }
  });

  it("is written once; replacing it needs force", async () => {
    const file = join(root, "nested", "pages.yml");
    await writeWorkflow(file, { version: "1.0.0" });
    expect(parse(readFileSync(file, "utf8"))).toHaveProperty("jobs.deploy");
    writeFileSync(file, "mine\n");
    await expect(writeWorkflow(file, { version: "1.0.0" })).rejects.toMatchObject({ code: "CONFLICT" });
    expect(readFileSync(file, "utf8")).toBe("mine\n");
    await writeWorkflow(file, { version: "1.0.0", force: true });
    expect(readFileSync(file, "utf8")).toContain("name: Pigeonhole audit bundle");
  });
});

describe("pigeonhole deploy --write-workflow", () => {
  it("writes the default path in the current directory, then refuses to overwrite without --force", () => {
    const cwd = mkdtempSync(join(root, "repo-"));
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [CLI, "deploy", ...args], {
        cwd,
        env: cliEnv(),
        encoding: "utf8",
        timeout: 30_000,
      });
    const first = run("--write-workflow", "--cron", "30 2 * * 1");
    expect(first.stderr).toBe("");
    expect(first.status).toBe(0);
    expect(first.stdout).toContain(`workflow: ${DEFAULT_WORKFLOW_PATH}`);
    const written = parse(readFileSync(join(cwd, DEFAULT_WORKFLOW_PATH), "utf8")) as Workflow;
    expect(written.on.schedule).toEqual([{ cron: "30 2 * * 1" }]);
    const again = run("--write-workflow");
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/already exists; pass --force/);
    expect(run("--write-workflow", "--force").status).toBe(0);
  });

  it("takes a path, and refuses publishing options next to it", async () => {
    const file = join(root, "custom.yml");
    const ok = await runCli(["deploy", "--write-workflow", file]);
    expect(ok.code).toBe(0);
    expect(existsSync(file)).toBe(true);
    const mixed = await runCli(["deploy", "--write-workflow", join(root, "other.yml"), "--orphan"]);
    expect(mixed.code).toBe(1);
    expect(mixed.stderr).toMatch(/--orphan cannot be used with --write-workflow/);
    const cronAlone = await runCli(["deploy", "bundle", "--remote", "x.git", "--cron", "0 0 * * *"]);
    expect(cronAlone.stderr).toMatch(/--cron cannot be used when publishing/);
  });
});
