/**
 * Writer for the "newc" cpio format (SVR4, magic 070701) that Linux unpacks
 * as an initramfs (Documentation/driver-api/early-userspace/buffer-format.rst):
 * per entry a 110-byte ASCII header, the NUL-terminated name and the data,
 * each padded to 4 bytes, ending with the TRAILER!!! entry.
 */
export interface CpioEntry {
  /** Path inside the archive, without a leading '/'. */
  name: string;
  /** File type and permission bits, e.g. 0o100755 for an executable, 0o040755 for a directory. */
  mode: number;
  data?: Uint8Array;
  /** Device number for character/block device nodes. */
  rdev?: { major: number; minor: number };
}

export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
export const S_IFCHR = 0o020000;

const hex8 = (n: number): string => (n >>> 0).toString(16).padStart(8, "0");

export function writeCpio(entries: CpioEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let size = 0;
  const push = (b: Uint8Array): void => {
    parts.push(b);
    size += b.length;
    const pad = (4 - (size % 4)) % 4;
    if (pad > 0) {
      parts.push(new Uint8Array(pad));
      size += pad;
    }
  };
  const all = [...entries, { name: "TRAILER!!!", mode: 0 }];
  all.forEach((e, k) => {
    const data = e.data ?? new Uint8Array(0);
    const name = new TextEncoder().encode(e.name + "\0");
    const isDir = (e.mode & 0o170000) === S_IFDIR;
    const header =
      "070701" +
      [k + 1, e.mode, 0, 0, isDir ? 2 : 1, 0, data.length, 0, 0, e.rdev?.major ?? 0, e.rdev?.minor ?? 0, name.length, 0]
        .map(hex8)
        .join("");
    const h = new TextEncoder().encode(header);
    const hn = new Uint8Array(h.length + name.length);
    hn.set(h);
    hn.set(name, h.length);
    push(hn);
    if (data.length > 0) push(data);
  });
  const out = new Uint8Array(size);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
