import { readFileSync } from "node:fs";

/**
 * The package's name and version, read from package.json. The file sits one level above `server/` when
 * running from source and two above `dist/server/` when built, so both places are tried.
 */
function readPackage(): { name: string; version: string } {
  for (const relative of ["../package.json", "../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(relative, import.meta.url), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "pigeonhole" && pkg.version) return { name: pkg.name, version: pkg.version };
    } catch {
      // Not at this level; try the next.
    }
  }
  return { name: "pigeonhole", version: "0.0.0" };
}

/** The running release, for `--version`, the MCP server info and `/health`. */
export const PACKAGE = readPackage();
