import type { Command } from "commander";
import { fail, PigeonholeError } from "../../engine/index.js";
import { DEFAULT_BRANCH, type DeployResult, deployBundle } from "../../exporter/deploy/deploy.js";
import { DEFAULT_API_URL } from "../../exporter/deploy/github-client.js";
import { DEFAULT_WORKFLOW_PATH, writeWorkflow } from "../../exporter/deploy/workflow.js";
import { PACKAGE } from "../version.js";
import type { CliCommand } from "./command.js";

interface DeployCliOptions {
  remote?: string;
  github?: string;
  branch: string;
  message?: string;
  orphan?: boolean;
  allowUnsigned?: boolean;
  tokenEnv: string;
  apiUrl: string;
  writeWorkflow?: string | true;
  cron?: string;
  force?: boolean;
}

/** Options that only make sense in one mode, by commander's attribute name and flag. */
const PUBLISH_ONLY = [
  ["branch", "--branch"],
  ["message", "--message"],
  ["orphan", "--orphan"],
  ["allowUnsigned", "--allow-unsigned"],
] as const;
const GITHUB_ONLY = [
  ["tokenEnv", "--token-env"],
  ["apiUrl", "--api-url"],
] as const;
const WORKFLOW_ONLY = [
  ["cron", "--cron"],
  ["force", "--force"],
] as const;

/** `pigeonhole deploy`: publish a verified bundle to a Git branch or GitHub Pages, or write the CI workflow. */
export const deployCommand: CliCommand = {
  name: "deploy",
  summary:
    "publish a verified bundle as a branch (git push or the GitHub API) or write the Pages CI workflow",
  define(cmd) {
    cmd
      .argument("[path]", "bundle directory or .zip to publish (verified first)")
      .option("--remote <git-url>", "publish with git push to this repository (any Git URL or a local path)")
      .option("--github <owner/repo>", "publish through the GitHub REST API and enable Pages on the branch")
      .option("--branch <name>", "branch to publish as", DEFAULT_BRANCH)
      .option("--message <text>", "commit message (default: the bundle's date, message count and key)")
      .option("--orphan", "replace the branch's history with one new root commit (force push)")
      .option("--allow-unsigned", "publish a bundle without a signature (its files are still verified)")
      .option("--token-env <name>", "with --github: environment variable holding the token", "GITHUB_TOKEN")
      .option("--api-url <url>", "with --github: the GitHub API base URL", DEFAULT_API_URL)
      .option(
        "--write-workflow [file]",
        `write a GitHub Actions workflow that exports, signs, verifies and publishes to Pages (default ${DEFAULT_WORKFLOW_PATH})`,
      )
      .option("--cron <schedule>", "with --write-workflow: also publish on this cron schedule (UTC)")
      .option("--force", "with --write-workflow: replace an existing workflow file")
      .action((path: string | undefined, options: DeployCliOptions, command: Command) =>
        deploy(path, options, command),
      );
  },
};

async function deploy(path: string | undefined, options: DeployCliOptions, command: Command): Promise<void> {
  const given = (name: string) => command.getOptionValueSource(name) === "cli";
  const refuse = (list: readonly (readonly [string, string])[], mode: string) => {
    const wrong = list.filter(([name]) => given(name)).map(([, flag]) => flag);
    if (wrong.length > 0) throw fail.invalid(`${wrong.join(", ")} cannot be used ${mode}.`);
  };
  const modes = [options.remote, options.github, options.writeWorkflow].filter((m) => m !== undefined);
  if (modes.length !== 1) {
    throw fail.invalid(
      "Give exactly one of --remote GIT_URL, --github OWNER/REPO or --write-workflow [FILE] (see pigeonhole deploy --help).",
    );
  }
  if (options.writeWorkflow !== undefined) {
    if (path !== undefined) {
      throw fail.invalid(
        `--write-workflow takes the workflow file as its value (pigeonhole deploy --write-workflow ${path}); it publishes no bundle.`,
      );
    }
    refuse([...PUBLISH_ONLY, ...GITHUB_ONLY], "with --write-workflow");
    const file = options.writeWorkflow === true ? DEFAULT_WORKFLOW_PATH : options.writeWorkflow;
    await writeWorkflow(file, {
      version: PACKAGE.version,
      force: options.force === true,
      ...(options.cron === undefined ? {} : { cron: options.cron }),
    });
    process.stdout.write(
      `workflow: ${file}\n` +
        "  next: store the signing key as the repository secret PIGEONHOLE_SIGNING_KEY (see the comments at the top),\n" +
        "        set Settings > Pages > Source to GitHub Actions, then commit and push the workflow.\n",
    );
    return;
  }
  refuse(WORKFLOW_ONLY, "when publishing (they belong to --write-workflow)");
  if (path === undefined)
    throw fail.invalid("Give the bundle to publish: pigeonhole deploy PATH --remote GIT_URL.");
  const common = {
    source: path,
    branch: options.branch,
    orphan: options.orphan === true,
    allowUnsigned: options.allowUnsigned === true,
    ...(options.message === undefined ? {} : { message: options.message }),
  };
  let result: DeployResult;
  if (options.remote !== undefined) {
    refuse(GITHUB_ONLY, "with --remote (they belong to --github)");
    result = await deployBundle({ ...common, target: { kind: "git", remote: options.remote } });
  } else {
    const repo = options.github as string;
    const token = readToken(options.tokenEnv, repo);
    const progress = process.stderr.isTTY === true;
    result = await deployBundle({
      ...common,
      target: {
        kind: "github",
        repo,
        token,
        tokenEnv: options.tokenEnv,
        apiUrl: options.apiUrl,
        userAgent: `pigeonhole/${PACKAGE.version}`,
        retry: {
          onWait: (w) =>
            process.stderr.write(
              `github: ${w.reason} (HTTP ${w.status}); waiting ${Math.ceil(w.ms / 1000)} s before attempt ${w.attempt + 1} of ${w.attempts}\n`,
            ),
        },
        ...(progress
          ? {
              onUpload: (done: number, total: number) =>
                process.stderr.write(`\ruploading ${done}/${total} files`),
            }
          : {}),
      },
    });
    if (progress) process.stderr.write("\r\x1b[K");
  }
  process.stdout.write(
    describe(path, options.remote ?? `github.com/${options.github}`, options.branch, result),
  );
}

/** The token from `$name`. Never printed, logged, or put anywhere but the request header. */
function readToken(name: string, repo: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw fail.invalid(`--token-env ${JSON.stringify(name)} is not an environment variable name.`);
  }
  const token = process.env[name]?.trim();
  if (!token) {
    throw new PigeonholeError(
      "UNAUTHENTICATED",
      `$${name} is not set: export a GitHub token as ${name} (fine-grained: Contents and Pages read and write on ${repo}), or name another variable with --token-env.`,
    );
  }
  return token;
}

const STATUS_TEXT = {
  created: "created the branch",
  updated: "new commit, history kept",
  replaced: "new root commit, history replaced",
  unchanged: "already up to date; nothing pushed",
} as const;

function describe(source: string, where: string, branch: string, result: DeployResult): string {
  const { bundle } = result;
  const signer = bundle.verification.signed
    ? `signed by key ${bundle.verification.key_fingerprint}`
    : "unsigned";
  const lines = [
    `deployed: ${source} -> ${where} (branch ${branch})`,
    `  commit ${result.commit} (${STATUS_TEXT[result.status]}${result.previous && result.status === "updated" ? `, parent ${result.previous}` : ""})`,
    `  ${bundle.files.length} files, ${signer}${bundle.addedNojekyll ? "; .nojekyll added" : ""}`,
  ];
  if (result.kind === "github") {
    lines.push(`  ${result.uploaded} files uploaded (the rest were already on the branch)`);
    const pages = result.pages;
    lines.push(
      `  pages: ${pages.url ?? "(no address reported yet)"} (${pages.state === "enabled" ? "enabled now" : "already enabled"})`,
    );
    if (pages.warning) lines.push(`  warning: ${pages.warning}`);
  }
  return `${lines.join("\n")}\n`;
}
