#!/usr/bin/env node
// npm 11 leaves optional per-platform binaries out of package-lock.json when the registry cannot serve
// them (the registry reachable here lacks many darwin/win32/musl builds), and `npm ci` then rejects the
// lock as out of sync. This adds the missing entries with the os/cpu/libc their names declare, so npm ci
// skips them on every other platform and never downloads them. Run after `npm install` changes the lock:
//   node scripts/lock-foreign-binaries.mjs
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";

const OS = [
  "android",
  "darwin",
  "freebsd",
  "linux",
  "openbsd",
  "netbsd",
  "sunos",
  "win32",
  "aix",
  "openharmony",
];
const CPU = {
  x64: "x64",
  arm64: "arm64",
  arm: "arm",
  ia32: "ia32",
  loong64: "loong64",
  ppc64: "ppc64",
  riscv64: "riscv64",
  s390x: "s390x",
  mips64el: "mips64el",
  x86_64: "x64",
  aarch64: "arm64",
};

function missing() {
  try {
    execFileSync("npm", ["ci", "--dry-run", "--ignore-scripts"], { stdio: "pipe" });
    return [];
  } catch (error) {
    const out = `${error.stdout}${error.stderr}`;
    return [...out.matchAll(/Missing: (@?[^@\s]+)@\S* from lock file/g)].map((m) => m[1]);
  }
}

const names = missing();
if (names.length === 0) {
  console.log("package-lock.json: nothing missing");
  process.exit(0);
}
const lock = JSON.parse(readFileSync("package-lock.json", "utf8"));
for (const name of names) {
  const parent = Object.entries(lock.packages).find(([, p]) => p.optionalDependencies?.[name]);
  if (!parent) throw new Error(`no package in the lock lists ${name} as optional`);
  const parts = name.split("/").pop().split("-");
  const os =
    parts.find((p) => OS.includes(p)) ??
    (parts.includes("windows") || parts.includes("msvc") ? "win32" : undefined);
  const cpu = parts.map((p) => CPU[p]).find(Boolean);
  const entry = { version: parent[1].optionalDependencies[name], optional: true };
  if (parent[1].dev) entry.dev = true;
  if (os) entry.os = [os];
  if (cpu) entry.cpu = [cpu];
  if (parts.includes("musl") || parts.includes("musleabihf")) entry.libc = ["musl"];
  else if (os === "linux" && (parts.includes("gnu") || parts.includes("gnueabihf"))) entry.libc = ["glibc"];
  lock.packages[`node_modules/${name}`] = entry;
  console.log(
    `added ${name}@${entry.version} (${[entry.os, entry.cpu, entry.libc].flat().filter(Boolean).join(" ")})`,
  );
}
lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))),
);
writeFileSync("package-lock.json", `${JSON.stringify(lock, null, 2)}\n`);
const left = missing();
if (left.length > 0) throw new Error(`still missing: ${left.join(", ")}`);
console.log("package-lock.json: npm ci accepts it now");
