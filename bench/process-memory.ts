import { readdirSync, readFileSync, writeFileSync } from "node:fs";

/**
 * Peak memory of processes, for the benchmark's memory table: the kernel's high-water mark of resident
 * memory (`VmHWM` in /proc/<pid>/status), which sees every allocation, native and WebAssembly included,
 * unlike a JS heap figure. Linux only: elsewhere every reading is null and the table says so.
 */

/** Peak resident set size of process `pid` (or this one) in bytes; null where /proc can't tell. */
export function peakRss(pid: number | "self" = "self"): number | null {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * Reset this process's peak resident set size to its current size (Linux ≥ 4.0, `clear_refs` 5), so
 * the next `peakRss()` is the peak since now: what one bench module needed rather than the largest of
 * all so far. Returns false where that is not possible; the peak then keeps counting from the start.
 */
export function resetPeakRss(): boolean {
  try {
    writeFileSync("/proc/self/clear_refs", "5");
    return true;
  } catch {
    return false;
  }
}

/** A live process under another: its id, its command line (arguments joined by spaces) and its peak RSS. */
export interface DescendantProcess {
  pid: number;
  command: string;
  peak_bytes: number | null;
}

/** Every live process descended from `root` (children, their children, ...), read from /proc. */
export function descendants(root: number = process.pid): DescendantProcess[] {
  const children = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  for (const name of entries) {
    try {
      // The parent id follows the command name, which may itself contain ") ".
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const parent = Number(stat.slice(stat.lastIndexOf(") ") + 2).split(" ")[1]);
      const list = children.get(parent) ?? [];
      list.push(Number(name));
      children.set(parent, list);
    } catch {
      // Exited while we looked.
    }
  }
  const found: DescendantProcess[] = [];
  const queue = [...(children.get(root) ?? [])];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    queue.push(...(children.get(pid) ?? []));
    let command = "";
    try {
      command = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
    } catch {
      continue;
    }
    found.push({ pid, command, peak_bytes: peakRss(pid) });
  }
  return found;
}
