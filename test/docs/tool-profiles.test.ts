import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { formatToolsListTable, measureToolsList } from "../../bench/tools-list-size.js";
import { toolsForProfile } from "../../server/mcp/catalog.js";

/**
 * The README's "Tool profiles" section states what `tools/list` costs per profile and which tools `core`
 * has. These tests keep it true: the figures may drift at most 10% from a fresh measurement (regenerate
 * with `node dist/bench/tools-list-size.js`), and the core list must be exactly the profile's tools.
 */

const README = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

function toolProfilesSection(): string {
  const start = README.indexOf("\n## Tool profiles\n");
  expect(start, "README has a ## Tool profiles section").toBeGreaterThanOrEqual(0);
  const end = README.indexOf("\n## ", start + 1);
  return README.slice(start, end === -1 ? undefined : end);
}

const number = (cell: string) => Number(cell.replaceAll(",", ""));

describe("README tool profiles", () => {
  it("states tools/list sizes within 10% of what the server sends", async () => {
    const measured = await measureToolsList();
    const rows = new Map(
      [
        ...toolProfilesSection().matchAll(
          /^\|\s*`(\w+)`\s*\|\s*([\d,]+)\s*\|\s*([\d,]+)\s*\|\s*([\d,]+)\s*\|$/gm,
        ),
      ].map((m) => [
        m[1],
        { tools: number(m[2] as string), chars: number(m[3] as string), tokens: number(m[4] as string) },
      ]),
    );
    const fresh = `measured now:\n${formatToolsListTable(measured)}`;
    expect([...rows.keys()], fresh).toEqual(measured.map((m) => m.profile));
    for (const m of measured) {
      const stated = rows.get(m.profile);
      expect(stated?.tools, fresh).toBe(m.tools);
      expect(Math.abs((stated?.chars ?? 0) - m.chars) / m.chars, fresh).toBeLessThanOrEqual(0.1);
      expect(Math.abs((stated?.tokens ?? 0) - m.approx_tokens) / m.approx_tokens, fresh).toBeLessThanOrEqual(
        0.1,
      );
      expect(m.approx_tokens).toBe(Math.round(m.chars / 4));
    }
    // The core profile exists to be small.
    const [core, full] = measured;
    expect(core?.chars).toBeLessThan(full?.chars ?? 0);
  });

  it("names exactly the tools of the core profile", () => {
    const sentence = /The core tools: ([^.]+)\./.exec(toolProfilesSection().replaceAll("\n", " "))?.[1] ?? "";
    const named = [...sentence.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]);
    expect(named).toEqual(toolsForProfile("core").map((t) => t.name));
  });
});
