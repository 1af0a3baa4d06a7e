/**
 * Flattened Device Tree writer (Devicetree Specification v0.4, ch. 5):
 * a tree of nodes with typed properties serialised to a version-17 DTB —
 * header, an empty memory reservation block, the structure block
 * (FDT_BEGIN_NODE / FDT_PROP / FDT_END_NODE / FDT_END, 4-byte aligned) and a
 * strings block holding each property name once. All values big-endian.
 */
const FDT_MAGIC = 0xd00dfeed;
const FDT_BEGIN_NODE = 1;
const FDT_END_NODE = 2;
const FDT_PROP = 3;
const FDT_END = 9;
const HEADER_SIZE = 40;
const RSVMAP_SIZE = 16; // one terminating (address 0, size 0) entry

export class FdtNode {
  readonly props: [string, Uint8Array][] = [];
  readonly children: FdtNode[] = [];

  constructor(readonly name: string) {}

  child(name: string): FdtNode {
    const n = new FdtNode(name);
    this.children.push(n);
    return n;
  }

  bytes(name: string, value: Uint8Array): this {
    this.props.push([name, value]);
    return this;
  }

  empty(name: string): this {
    return this.bytes(name, new Uint8Array(0));
  }

  /** One or more 32-bit cells. */
  cells(name: string, ...values: number[]): this {
    const b = new Uint8Array(4 * values.length);
    const dv = new DataView(b.buffer);
    values.forEach((v, k) => dv.setUint32(4 * k, v >>> 0));
    return this.bytes(name, b);
  }

  u32(name: string, value: number): this {
    return this.cells(name, value);
  }

  /** A 64-bit value as two cells (high first). */
  u64(name: string, value: number | bigint): this {
    const v = BigInt(value);
    return this.cells(name, Number(v >> 32n), Number(v & 0xffffffffn));
  }

  str(name: string, value: string): this {
    return this.strs(name, value);
  }

  /** A list of NUL-terminated strings. */
  strs(name: string, ...values: string[]): this {
    return this.bytes(name, new TextEncoder().encode(values.map((s) => s + "\0").join("")));
  }
}

/** Splits a 64-bit address or size into two cells (for #address-cells = #size-cells = 2). */
export function cells64(v: number): [number, number] {
  return [Math.floor(v / 4294967296), v % 4294967296];
}

class Writer {
  private buf = new Uint8Array(4096);
  length = 0;

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const b = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    b.set(this.buf);
    this.buf = b;
  }

  u32(v: number): void {
    this.ensure(4);
    new DataView(this.buf.buffer).setUint32(this.length, v >>> 0);
    this.length += 4;
  }

  raw(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  align4(): void {
    while (this.length % 4 !== 0) this.raw(Uint8Array.of(0));
  }

  bytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** Serialises the tree rooted at `root` (whose name must be "") to a DTB. */
export function writeDtb(root: FdtNode, bootCpuId = 0): Uint8Array {
  const strings = new Writer();
  const stringOffsets = new Map<string, number>();
  const nameOffset = (name: string): number => {
    let off = stringOffsets.get(name);
    if (off === undefined) {
      off = strings.length;
      strings.raw(new TextEncoder().encode(name + "\0"));
      stringOffsets.set(name, off);
    }
    return off;
  };
  const struct = new Writer();
  const emit = (node: FdtNode): void => {
    struct.u32(FDT_BEGIN_NODE);
    struct.raw(new TextEncoder().encode(node.name + "\0"));
    struct.align4();
    for (const [name, value] of node.props) {
      struct.u32(FDT_PROP);
      struct.u32(value.length);
      struct.u32(nameOffset(name));
      struct.raw(value);
      struct.align4();
    }
    for (const c of node.children) emit(c);
    struct.u32(FDT_END_NODE);
  };
  emit(root);
  struct.u32(FDT_END);

  const offStruct = HEADER_SIZE + RSVMAP_SIZE;
  const offStrings = offStruct + struct.length;
  const total = offStrings + strings.length;
  const out = new Uint8Array(Math.ceil(total / 8) * 8);
  const dv = new DataView(out.buffer);
  const header = [FDT_MAGIC, out.length, offStruct, offStrings, HEADER_SIZE, 17, 16, bootCpuId, strings.length, struct.length];
  header.forEach((v, k) => dv.setUint32(4 * k, v));
  out.set(struct.bytes(), offStruct);
  out.set(strings.bytes(), offStrings);
  return out;
}
