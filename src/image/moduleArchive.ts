/**
 * Builds a cpio archive of kernel modules to append to an initramfs (Linux
 * unpacks concatenated archives in order, Documentation/driver-api/
 * early-userspace/buffer-format.rst): the named modules of an unpacked Debian
 * kernel package and everything they depend on (from each module's
 * .modinfo `depends=`, since the package ships no modules.dep),
 * decompressed (busybox modprobe loads plain .ko files), a modules.dep for
 * them, and /etc/modules, which the default guest's /etc/rcS loads.
 *
 * usage: node dist/src/image/moduleArchive.js ROOT OUT.cpio MODULE...
 *   ROOT  a directory holding usr/lib/modules/VERSION or lib/modules/VERSION
 *         (e.g. a kernel package unpacked by scripts/debian-riscv64.sh)
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { writeCpio, S_IFDIR, S_IFREG, type CpioEntry } from "./cpio.js";

export class ModuleArchiveError extends Error {
  override name = "ModuleArchiveError";
}

const moduleName = (path: string): string => (path.split("/").pop() ?? "").replace(/\.ko(\.xz|\.zst|\.gz)?$/, "").replace(/-/g, "_");
const plain = (path: string): string => path.replace(/\.ko\.(xz|zst|gz)$/, ".ko");

/** The modules a module needs: the `depends=` entry of its .modinfo section. */
export function modinfoDepends(ko: Uint8Array): string[] {
  const text = Buffer.from(ko.buffer, ko.byteOffset, ko.byteLength);
  const at = text.indexOf("\0depends=");
  if (at < 0) return [];
  const end = text.indexOf(0, at + 1);
  return text.subarray(at + 9, end < 0 ? undefined : end).toString("latin1").split(",").filter(Boolean);
}

/** Every module file under `dir` by module name (`-` and `_` are the same). */
function indexModules(dir: string): Map<string, string> {
  const index = new Map<string, string>();
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile() && /\.ko(\.xz|\.zst|\.gz)?$/.test(e.name)) index.set(moduleName(e.name), relative(dir, join(e.parentPath, e.name)));
  }
  return index;
}

function decompress(path: string): Uint8Array {
  if (path.endsWith(".xz")) return execFileSync("xz", ["-dc", path], { maxBuffer: 1 << 28 });
  if (path.endsWith(".zst")) return execFileSync("zstd", ["-dc", path], { maxBuffer: 1 << 28 });
  if (path.endsWith(".gz")) return execFileSync("gzip", ["-dc", path], { maxBuffer: 1 << 28 });
  return readFileSync(path);
}

export function moduleArchive(root: string, names: string[]): Uint8Array {
  // Debian merges /lib into /usr/lib; the guest's busybox looks in /lib/modules.
  const from = ["usr/lib/modules", "lib/modules"].map((d) => join(root, d)).find((d) => existsSync(d));
  if (from === undefined) throw new ModuleArchiveError(`no lib/modules or usr/lib/modules under ${root}`);
  const versions = readdirSync(from);
  if (versions.length !== 1) throw new ModuleArchiveError(`expected one kernel under ${from}, found ${versions.length}`);
  const src = join(from, versions[0]);
  const base = join("lib", "modules", versions[0]);
  const index = indexModules(src);
  // Depth-first over depends=, dependencies before the modules that need them.
  const order: { path: string; name: string; data: Uint8Array; deps: string[] }[] = [];
  const seen = new Set<string>();
  const visit = (name: string, wanted: string): void => {
    const key = name.replace(/-/g, "_");
    if (seen.has(key)) return;
    seen.add(key);
    const path = index.get(key);
    if (path === undefined) throw new ModuleArchiveError(`module '${name}' (needed by ${wanted}) is not under ${src}`);
    const data = decompress(join(src, path));
    const deps = modinfoDepends(data);
    for (const d of deps) visit(d, key);
    order.push({ path: plain(path), name: key, data, deps: deps.map((d) => plain(index.get(d.replace(/-/g, "_")) ?? d)) });
  };
  for (const n of names) visit(n, "the command line");
  const dirs = new Set<string>(["etc"]);
  for (const m of order) {
    const parts = join(base, m.path).split("/");
    for (let k = 1; k < parts.length; k++) dirs.add(parts.slice(0, k).join("/"));
  }
  const entries: CpioEntry[] = [...dirs].sort().map((d) => ({ name: d, mode: S_IFDIR | 0o755 }));
  for (const m of order) entries.push({ name: join(base, m.path), mode: S_IFREG | 0o644, data: m.data });
  // modules.dep lists a module's dependencies transitively (modules.dep(5)).
  const closure = (m: (typeof order)[number], acc: string[] = []): string[] => {
    for (const d of m.deps) {
      if (acc.includes(d)) continue;
      acc.push(d);
      const dm = order.find((o) => o.path === d);
      if (dm !== undefined) closure(dm, acc);
    }
    return acc;
  };
  const dep = order.map((m) => `${m.path}: ${closure(m).join(" ")}`.trimEnd()).join("\n") + "\n";
  entries.push({ name: join(base, "modules.dep"), mode: S_IFREG | 0o644, data: new TextEncoder().encode(dep) });
  entries.push({ name: "etc/modules", mode: S_IFREG | 0o644, data: new TextEncoder().encode(names.join("\n") + "\n") });
  return writeCpio(entries);
}

function main(argv: string[]): void {
  if (argv.length < 3) {
    process.stderr.write("usage: moduleArchive ROOT OUT.cpio MODULE...\n");
    process.exitCode = 2;
    return;
  }
  const [root, out, ...names] = argv;
  try {
    writeFileSync(out, moduleArchive(root, names));
  } catch (e) {
    process.stderr.write(`moduleArchive: ${(e as Error).message.split("\n")[0]}\n`);
    process.exitCode = 1;
  }
}

if (process.argv[1]?.endsWith("moduleArchive.js")) main(process.argv.slice(2));
