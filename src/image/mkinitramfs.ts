/**
 * Builds the default guest's initramfs: busybox (static) as /bin/busybox and
 * /init (busybox init), its applet links, /etc/inittab, the start-up script
 * and the DHCP hook. Used by guest/build-default-guest.sh.
 *
 * usage: node dist/src/image/mkinitramfs.js BUSYBOX RCS UDHCPC_SCRIPT OUT.cpio
 */
import { readFileSync, writeFileSync } from "node:fs";
import { writeCpio, S_IFCHR, S_IFDIR, S_IFLNK, S_IFREG, type CpioEntry } from "./cpio.js";

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** busybox init's table: start-up script, a shell on the console, clean shutdown. */
const INITTAB = `::sysinit:/etc/rcS
::respawn:-/bin/cttyhack /bin/sh -l
::ctrlaltdel:/bin/reboot
::shutdown:/bin/sync
::shutdown:/bin/umount -a -r
`;

export function defaultInitramfs(busybox: Uint8Array, rcS: Uint8Array, udhcpc: Uint8Array, applets: string[]): Uint8Array {
  const dir = (name: string, mode = 0o755): CpioEntry => ({ name, mode: S_IFDIR | mode });
  const link = (name: string, target: string): CpioEntry => ({ name, mode: S_IFLNK | 0o777, data: text(target) });
  const entries: CpioEntry[] = [
    ...["bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "dev", "proc", "sys", "mnt", "root", "var", "run"].map((d) => dir(d)),
    dir("tmp", 0o1777),
    { name: "dev/console", mode: S_IFCHR | 0o600, rdev: { major: 5, minor: 1 } },
    { name: "bin/busybox", mode: S_IFREG | 0o755, data: busybox },
    link("init", "bin/busybox"),
    { name: "etc/inittab", mode: S_IFREG | 0o644, data: text(INITTAB) },
    { name: "etc/rcS", mode: S_IFREG | 0o755, data: rcS },
    { name: "etc/udhcpc.script", mode: S_IFREG | 0o755, data: udhcpc },
    { name: "etc/passwd", mode: S_IFREG | 0o644, data: text("root:x:0:0:root:/root:/bin/sh\n") },
    { name: "etc/group", mode: S_IFREG | 0o644, data: text("root:x:0:\n") },
    ...applets.filter((a) => a !== "busybox").map((a) => link(`bin/${a}`, "busybox")),
  ];
  return writeCpio(entries);
}

function main(argv: string[]): void {
  if (argv.length !== 4) {
    process.stderr.write("usage: mkinitramfs BUSYBOX RCS UDHCPC_SCRIPT OUT.cpio\n");
    process.exitCode = 2;
    return;
  }
  const [bb, rcs, udhcpc, out] = argv;
  const busybox = readFileSync(bb);
  // The applet list is in the binary: `busybox --list` cannot run on the (x86) build host.
  const applets = appletNames(busybox);
  writeFileSync(out, defaultInitramfs(busybox, readFileSync(rcs), readFileSync(udhcpc), applets));
}

/** Applets busybox would install, read from its NUL-separated name table (starts with "[\0[[\0"). */
export function appletNames(busybox: Uint8Array): string[] {
  const marker = text("[\0[[\0");
  const b = Buffer.from(busybox);
  const at = b.indexOf(Buffer.from(marker));
  if (at < 0) throw new Error("mkinitramfs: cannot find the applet table in busybox");
  const names: string[] = [];
  let p = at;
  while (p < b.length && b[p] !== 0) {
    const end = b.indexOf(0, p);
    names.push(b.subarray(p, end).toString("latin1"));
    p = end + 1;
  }
  return names.filter((n) => /^[a-z0-9_.[-]+$/.test(n) && n !== "[" && n !== "[[");
}

if (process.argv[1]?.endsWith("mkinitramfs.js")) main(process.argv.slice(2));
