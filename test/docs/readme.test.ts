import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "../../engine/errors.js";
import { LIMITS } from "../../engine/limits.js";
import { buildProgram } from "../../server/program.js";

/**
 * The README is part of the interface: these tests fail when a command, option, limit, error code or
 * environment variable exists in the code but not in the README, or the README lists one that no longer
 * exists.
 */

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const README = readFileSync(join(ROOT, "README.md"), "utf8");

/** The text under the first heading of `level` whose title contains `title`, up to the next heading at that level or above. */
function section(markdown: string, title: string, level = 2): string {
  const lines = markdown.split("\n");
  const isHeading = (line: string, max: number) => (/^(#+) /.exec(line)?.[1]?.length ?? 99) <= max;
  const start = lines.findIndex((line) => line.startsWith(`${"#".repeat(level)} `) && line.includes(title));
  expect(start, `README has a ${"#".repeat(level)} heading containing "${title}"`).toBeGreaterThanOrEqual(0);
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((line) => isHeading(line, level));
  return (end === -1 ? rest : rest.slice(0, end)).join("\n");
}

/** Rows of the Markdown tables in `text` (header and separator rows left out), as trimmed cells. */
function tableRows(text: string): string[][] {
  const rows = text
    .split("\n")
    .filter((line) => line.startsWith("|"))
    .map((line) =>
      line
        .slice(1, line.endsWith("|") ? -1 : undefined)
        .split("|")
        .map((cell) => cell.trim()),
    );
  const isSeparator = (cells: string[] | undefined) => cells?.every((c) => /^:?-+:?$/.test(c)) === true;
  return rows.filter((cells, i) => !isSeparator(cells) && !isSeparator(rows[i + 1]));
}

/** The first-column keys of the tables in `text`, written as `key`. */
function tableKeys(text: string): string[] {
  return tableRows(text)
    .map((cells) => /^`([^`]+)`$/.exec(cells[0] ?? "")?.[1])
    .filter((key): key is string => key !== undefined);
}

/** Every `PIGEONHOLE_*` name in the TypeScript sources of the package. */
function envVarsInSource(): string[] {
  const names = new Set<string>();
  for (const dir of ["engine", "server", "exporter", "fixtures", "bench"]) {
    const root = join(ROOT, dir);
    if (!existsSync(root)) continue;
    for (const file of readdirSync(root, { recursive: true, encoding: "utf8" })) {
      if (!file.endsWith(".ts")) continue;
      for (const match of readFileSync(join(root, file), "utf8").matchAll(/PIGEONHOLE_[A-Z][A-Z0-9_]*/g)) {
        names.add(match[0]);
      }
    }
  }
  return [...names].sort();
}

describe("README", () => {
  it("opens with exactly the set-up, main-job and test commands", () => {
    expect(README.split("\n").slice(0, 5)).toEqual(["```sh", "npm install", "npm start", "npm test", "```"]);
  });

  it("documents every CLI command, each with all of its options", () => {
    const commandLine = section(README, "Command line");
    const commands = buildProgram().commands;
    expect(commands.length).toBeGreaterThan(0);
    for (const command of commands) {
      const name = command.name();
      expect(README).toContain(`pigeonhole ${name}`);
      const own = section(commandLine, `pigeonhole ${name}\``, 3);
      for (const option of command.options) {
        if (option.long && option.long !== "--help") {
          expect(own, `README section for pigeonhole ${name} mentions ${option.long}`).toContain(option.long);
        }
      }
    }
  });

  it("lists every limit with its value in the Limits table, and no other", () => {
    const limits = section(README, "Limits");
    expect(tableKeys(limits).sort()).toEqual(Object.keys(LIMITS).sort());
    for (const cells of tableRows(limits)) {
      const key = /^`([^`]+)`$/.exec(cells[0] ?? "")?.[1] as keyof typeof LIMITS;
      const value = Number(/^[\d,]+/.exec(cells[1] ?? "")?.[0]?.replaceAll(",", ""));
      expect(value, `README value of ${key}`).toBe(LIMITS[key]);
    }
  });

  it("lists every error code with its recoverability in the Errors table, and no other", () => {
    const errors = section(README, "Errors");
    expect(tableKeys(errors).sort()).toEqual(Object.keys(ERROR_CODES).sort());
    for (const cells of tableRows(errors)) {
      const code = /^`([^`]+)`$/.exec(cells[0] ?? "")?.[1] as keyof typeof ERROR_CODES;
      expect(cells[1], `README recoverability of ${code}`).toBe(ERROR_CODES[code].recoverable ? "yes" : "no");
    }
  });

  it("lists every PIGEONHOLE_* environment variable the code reads in Configuration, and no other", () => {
    const found = envVarsInSource();
    expect(found).toContain("PIGEONHOLE_HOME");
    expect(tableKeys(section(README, "Configuration")).sort()).toEqual(found);
  });
});
