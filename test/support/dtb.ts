/** A DTB reader for tests: the inverse of src/devices/fdt.ts (Devicetree Specification v0.4 ch. 5). */
export interface DtNode {
  name: string;
  props: Map<string, Uint8Array>;
  children: DtNode[];
}

export interface Dtb {
  header: { magic: number; totalsize: number; offStruct: number; offStrings: number; offRsvmap: number; version: number; lastComp: number; sizeStrings: number; sizeStruct: number };
  root: DtNode;
  strings: string[];
}

export function readDtb(b: Uint8Array): Dtb {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u = (o: number): number => dv.getUint32(o);
  const header = { magic: u(0), totalsize: u(4), offStruct: u(8), offStrings: u(12), offRsvmap: u(16), version: u(20), lastComp: u(24), sizeStrings: u(32), sizeStruct: u(36) };
  const str = (o: number): string => {
    let e = o;
    while (b[e] !== 0) e++;
    return new TextDecoder().decode(b.subarray(o, e));
  };
  const stack: DtNode[] = [];
  let root: DtNode | undefined;
  let p = header.offStruct;
  for (;;) {
    const tok = u(p);
    p += 4;
    if (tok === 1) {
      const name = str(p);
      p += (name.length + 4) & ~3;
      const n: DtNode = { name, props: new Map(), children: [] };
      if (stack.length > 0) stack[stack.length - 1].children.push(n);
      else root = n;
      stack.push(n);
    } else if (tok === 3) {
      const len = u(p);
      const nameoff = u(p + 4);
      p += 8;
      stack[stack.length - 1].props.set(str(header.offStrings + nameoff), b.slice(p, p + len));
      p += (len + 3) & ~3;
    } else if (tok === 2) stack.pop();
    else if (tok === 4) continue;
    else if (tok === 9) break;
    else throw new Error(`bad FDT token ${tok} at ${p - 4}`);
  }
  const strings = new TextDecoder().decode(b.subarray(header.offStrings, header.offStrings + header.sizeStrings)).split("\0").slice(0, -1);
  if (root === undefined) throw new Error("no root node");
  return { header, root, strings };
}

export function find(root: DtNode, path: string): DtNode | undefined {
  let n: DtNode | undefined = root;
  for (const part of path.split("/").filter((s) => s !== "")) n = n?.children.find((c) => c.name === part);
  return n;
}

export const cells = (v: Uint8Array): number[] => {
  const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
  return Array.from({ length: v.length / 4 }, (_, k) => dv.getUint32(4 * k));
};
export const strs = (v: Uint8Array): string[] => new TextDecoder().decode(v).split("\0").slice(0, -1);
