import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { fail } from "../../engine/errors.js";
import { writeFileAtomic } from "../atomic-file.js";

/** Where `deploy --write-workflow` writes unless given a path. */
export const DEFAULT_WORKFLOW_PATH = ".github/workflows/pigeonhole-pages.yml";

/** The schedule shown (commented out) in the workflow when none is chosen: Mondays 03:17 UTC. */
export const EXAMPLE_CRON = "17 3 * * 1";

export interface WorkflowOptions {
  /** The pigeonhole version CI installs (`npm install --global pigeonhole@VERSION`). */
  version: string;
  /** A cron schedule (UTC, five fields) to publish on, besides manual runs; none by default. */
  cron?: string;
}

/**
 * The GitHub Actions workflow that publishes a signed audit bundle to GitHub Pages. It runs on manual
 * dispatch (inputs: projects, scrub preset, mailbox directory) and, with `cron`, on a schedule. The
 * export job installs this pigeonhole version, checks that the mailbox is there, writes the
 * `PIGEONHOLE_SIGNING_KEY` secret to a mode-0600 file in the runner's temporary directory (deleted at
 * the end of the job whatever happened), exports with the preset (`standard` by default) and the key,
 * verifies the bundle (pinned to the `PIGEONHOLE_PUBLIC_KEY` repository variable when set), and uploads
 * it with the official Pages actions; the deploy job publishes it in the `github-pages` environment.
 * Inputs reach shell steps only through environment variables, never pasted into scripts, so an input
 * cannot inject commands. Throws INVALID_ARGUMENT for a cron that is not five plain fields.
 */
export function renderWorkflow(options: WorkflowOptions): string {
  const schedule =
    options.cron === undefined
      ? `  # Publish on a schedule as well (cron, UTC; this example runs Mondays at 03:17): uncomment.\n  # schedule:\n  #   - cron: "${EXAMPLE_CRON}"`
      : `  schedule:\n    - cron: "${checkCron(options.cron)}"`;
  if (!/^[0-9A-Za-z.+-]+$/.test(options.version)) throw fail.invalid(`bad version ${options.version}`);
  return `# Pigeonhole: publish a signed audit bundle of the mailbox to GitHub Pages.
# Written by \`pigeonhole deploy --write-workflow\` (pigeonhole ${options.version}); edit freely.
#
# Before the first run:
# 1. The signing key lives in a repository secret. Create a key on your machine and store it:
#      pigeonhole keygen --out pigeonhole-signing.key
#      gh secret set PIGEONHOLE_SIGNING_KEY < pigeonhole-signing.key
#      gh variable set PIGEONHOLE_PUBLIC_KEY < pigeonhole-signing.key.pub   # optional: verify pins it
#    Publish pigeonhole-signing.key.pub for readers; keep the secret key file offline or delete it.
# 2. Settings > Pages > Build and deployment > Source: GitHub Actions.
# 3. The mailbox: this workflow exports the mailbox directory at the \`mailbox\` input, in this
#    repository's checkout (default .pigeonhole: mailbox.sqlite3 plus attachments/). Commit a consistent
#    copy there (sqlite3 ~/.pigeonhole/mailbox.sqlite3 ".backup .pigeonhole/mailbox.sqlite3"; Git LFS
#    for a large one, with lfs: true on the checkout step), or replace the "Check the mailbox" step with
#    one that downloads it (an artifact, a release asset, object storage) into that directory. Keep such
#    a repository private: only the scrubbed, signed bundle is published.
#
# Readers check the published site with:
#   pigeonhole verify https://OWNER.github.io/REPO/ --public-key-file pigeonhole-signing.key.pub
#   (or minisign -Vm manifest.json -p pigeonhole-signing.key.minisign.pub, or the viewer's badge)

name: Pigeonhole audit bundle

on:
  workflow_dispatch:
    inputs:
      projects:
        description: "Projects to export: slugs or human keys separated by spaces (empty: all)"
        type: string
        required: false
        default: ""
      preset:
        description: "Scrub preset"
        type: choice
        options: [standard, strict, archive]
        default: standard
      mailbox:
        description: "Mailbox directory in this repository (holds mailbox.sqlite3)"
        type: string
        required: false
        default: .pigeonhole
${schedule}

permissions:
  contents: read

# One publication at a time; a run in progress is never cancelled half-way.
concurrency:
  group: pages
  cancel-in-progress: false

jobs:
  export:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      pages: read
    env:
      # Scheduled runs have no inputs: these defaults apply. Files go to $RUNNER_TEMP, outside the checkout.
      MAILBOX: \${{ inputs.mailbox || '.pigeonhole' }}
      PRESET: \${{ inputs.preset || 'standard' }}
      PROJECTS: \${{ inputs.projects }}
    steps:
      - name: Check out the repository
        uses: actions/checkout@v6
        with:
          persist-credentials: false

      - name: Set up Node.js
        uses: actions/setup-node@v6
        with:
          node-version: 22

      - name: Install pigeonhole
        run: npm install --global pigeonhole@${options.version}

      - name: Check the mailbox
        run: |
          if [ ! -f "$MAILBOX/mailbox.sqlite3" ]; then
            echo "::error::No mailbox at $MAILBOX/mailbox.sqlite3: commit one there or download it in this step (see the top of this workflow)."
            exit 1
          fi

      - name: Write the signing key
        env:
          SIGNING_KEY: \${{ secrets.PIGEONHOLE_SIGNING_KEY }}
        run: |
          if [ -z "$SIGNING_KEY" ]; then
            echo "::error::Set the repository secret PIGEONHOLE_SIGNING_KEY to a key file written by pigeonhole keygen."
            exit 1
          fi
          umask 077
          printf '%s\\n' "$SIGNING_KEY" > "$RUNNER_TEMP/pigeonhole-signing.key"
          chmod 600 "$RUNNER_TEMP/pigeonhole-signing.key"

      - name: Export the signed bundle
        run: |
          set --
          for project in $PROJECTS; do set -- "$@" --project "$project"; done
          pigeonhole export --home "$MAILBOX" --out "$RUNNER_TEMP/pigeonhole-bundle" --scrub "$PRESET" \\
            --sign-key "$RUNNER_TEMP/pigeonhole-signing.key" "$@"

      - name: Remove the signing key
        if: always()
        run: rm -f "$RUNNER_TEMP/pigeonhole-signing.key"

      - name: Verify the bundle
        env:
          PUBLIC_KEY: \${{ vars.PIGEONHOLE_PUBLIC_KEY }}
        run: |
          if [ -n "$PUBLIC_KEY" ]; then
            pigeonhole verify "$RUNNER_TEMP/pigeonhole-bundle" --public-key "$PUBLIC_KEY"
          else
            pigeonhole verify "$RUNNER_TEMP/pigeonhole-bundle"
          fi

      - name: Configure Pages
        uses: actions/configure-pages@v6

      - name: Upload the bundle
        uses: actions/upload-pages-artifact@v5
        with:
          path: \${{ runner.temp }}/pigeonhole-bundle
          # .nojekyll is one of the bundle's signed files: without it, verify of the site fails.
          include-hidden-files: true

  deploy:
    needs: export
    runs-on: ubuntu-latest
    permissions:
      pages: write
      id-token: write
    environment:
      name: github-pages
      url: \${{ steps.deployment.outputs.page_url }}
    steps:
      - name: Deploy to GitHub Pages
        id: deployment
        uses: actions/deploy-pages@v5
`;
}

/**
 * Write the workflow to `path` (directories created; written atomically). Refuses (CONFLICT, nothing
 * written) when the file exists, unless `force`.
 */
export async function writeWorkflow(
  path: string,
  options: WorkflowOptions & { force?: boolean },
): Promise<string> {
  const text = renderWorkflow(options);
  if (existsSync(path) && !options.force) {
    throw fail.conflict(`${path} already exists; pass --force to replace it, or give another path.`);
  }
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, text);
  return text;
}

/** Five whitespace-separated cron fields of digits, names and `* , - /`; returned normalized. */
function checkCron(cron: string): string {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5 || !fields.every((field) => /^[0-9A-Za-z*,/-]+$/.test(field))) {
    throw fail.invalid(
      `--cron ${JSON.stringify(cron)} is not a five-field cron schedule (minute hour day month weekday, UTC), e.g. "${EXAMPLE_CRON}".`,
    );
  }
  return fields.join(" ");
}
