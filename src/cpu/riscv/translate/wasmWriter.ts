/**
 * A minimal WebAssembly binary writer (WebAssembly Core Specification §5,
 * "Binary Format"): just what the translator emits — one imported shared
 * memory, imported host functions, functions with typed locals, exports.
 */

export const Val = {
  I32: 0x7f,
  I64: 0x7e,
  F64: 0x7c,
} as const;
export type Val = (typeof Val)[keyof typeof Val];

/** Opcodes used by the translator (§5.4). */
export const Op = {
  Unreachable: 0x00,
  Block: 0x02,
  Loop: 0x03,
  If: 0x04,
  Else: 0x05,
  End: 0x0b,
  Br: 0x0c,
  BrIf: 0x0d,
  BrTable: 0x0e,
  Return: 0x0f,
  Call: 0x10,
  CallIndirect: 0x11,
  ReturnCall: 0x12,
  Drop: 0x1a,
  Select: 0x1b,
  LocalGet: 0x20,
  LocalSet: 0x21,
  LocalTee: 0x22,
  I32Load: 0x28,
  I64Load: 0x29,
  F64Load: 0x2b,
  I64Load8S: 0x30,
  I64Load8U: 0x31,
  I64Load16S: 0x32,
  I64Load16U: 0x33,
  I64Load32S: 0x34,
  I64Load32U: 0x35,
  I32Store: 0x36,
  I64Store: 0x37,
  I64Store8: 0x3c,
  I64Store16: 0x3d,
  I64Store32: 0x3e,
  I32Const: 0x41,
  I64Const: 0x42,
  F64Const: 0x44,
  I32Eqz: 0x45,
  I32Eq: 0x46,
  I32Ne: 0x47,
  I32LtS: 0x48,
  I32LtU: 0x49,
  I32GtS: 0x4a,
  I32GtU: 0x4b,
  I32GeU: 0x4f,
  I64Eqz: 0x50,
  I64Eq: 0x51,
  I64Ne: 0x52,
  I64LtS: 0x53,
  I64LtU: 0x54,
  I64GtS: 0x55,
  I64GtU: 0x56,
  I64GeS: 0x59,
  I64GeU: 0x5a,
  F64Eq: 0x61,
  F64Ne: 0x62,
  F64Add: 0xa0,
  I32Clz: 0x67,
  I32Ctz: 0x68,
  I32Popcnt: 0x69,
  I32Add: 0x6a,
  I32Sub: 0x6b,
  I32Mul: 0x6c,
  I32And: 0x71,
  I32Or: 0x72,
  I32Xor: 0x73,
  I32Shl: 0x74,
  I32ShrS: 0x75,
  I32ShrU: 0x76,
  I32Rotl: 0x77,
  I32Rotr: 0x78,
  I64Clz: 0x79,
  I64Ctz: 0x7a,
  I64Popcnt: 0x7b,
  I64Add: 0x7c,
  I64Sub: 0x7d,
  I64Mul: 0x7e,
  I64DivS: 0x7f,
  I64DivU: 0x80,
  I64RemS: 0x81,
  I64RemU: 0x82,
  I64And: 0x83,
  I64Or: 0x84,
  I64Xor: 0x85,
  I64Shl: 0x86,
  I64ShrS: 0x87,
  I64ShrU: 0x88,
  I64Rotl: 0x89,
  I64Rotr: 0x8a,
  I32WrapI64: 0xa7,
  I32Extend8S: 0xc0,
  I32Extend16S: 0xc1,
  I64Extend8S: 0xc2,
  I64Extend16S: 0xc3,
  /** Prefix of the "misc" opcodes (Misc below). */
  MiscPrefix: 0xfc,
  /** Prefix of the atomic memory opcodes (Atomic below). */
  AtomicPrefix: 0xfe,
  I64ExtendI32S: 0xac,
  I64ExtendI32U: 0xad,
  F64ConvertI32S: 0xb7,
  F64ConvertI32U: 0xb8,
  F64ConvertI64S: 0xb9,
} as const;
export type Op = (typeof Op)[keyof typeof Op];

/** Opcodes after Op.MiscPrefix. */
export const Misc = {
  /** Saturating: never traps, whatever the double (a guest-made pc cannot stop the host). */
  I64TruncSatF64S: 0x06,
} as const;
export type Misc = (typeof Misc)[keyof typeof Misc];

/**
 * Opcodes after Op.AtomicPrefix (threads proposal, "Atomic Memory Accesses"):
 * sequentially consistent, and their alignment immediate must be the natural one.
 */
export const Atomic = {
  I32Load: 0x10,
  I64Load: 0x11,
  I32RmwAdd: 0x1e,
  I64RmwAdd: 0x1f,
  I32RmwAnd: 0x2c,
  I64RmwAnd: 0x2d,
  I32RmwOr: 0x33,
  I64RmwOr: 0x34,
  I32RmwXor: 0x3a,
  I64RmwXor: 0x3b,
  I32RmwXchg: 0x41,
  I64RmwXchg: 0x42,
  I32RmwCmpxchg: 0x48,
  I64RmwCmpxchg: 0x49,
} as const;
export type Atomic = (typeof Atomic)[keyof typeof Atomic];

/** Block type of a structured instruction producing no value (§5.3.2). */
export const VOID = 0x40;

export interface FuncType {
  params: Val[];
  results: Val[];
}

/** A growable byte buffer (the writer's only allocation per function is its growth). */
export class Bytes {
  private buf = new Uint8Array(1024);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  push(b: number): void {
    if (this.length === this.buf.length) this.room(1);
    this.buf[this.length++] = b;
  }

  append(src: Bytes | Uint8Array): void {
    const bytes = src instanceof Bytes ? src.view() : src;
    this.room(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }

  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

/** Appends unsigned LEB128. */
function uleb(out: Bytes, v: number): void {
  do {
    let b = v % 128;
    v = Math.floor(v / 128);
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
}

/** Appends signed LEB128 of a BigInt (i64 immediates). */
function sleb(out: Bytes, v: bigint): void {
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    if ((v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)) {
      out.push(b);
      return;
    }
    out.push(b | 0x80);
  }
}

/** Appends signed LEB128 of an int32 (the common immediate; no BigInt). */
function sleb32(out: Bytes, v: number): void {
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return;
    }
    out.push(b | 0x80);
  }
}

const f64Scratch = new Float64Array(1);
const f64Bytes = new Uint8Array(f64Scratch.buffer);

/** A function body under construction. */
export class Code {
  readonly bytes = new Bytes();

  op(...ops: number[]): this {
    for (const o of ops) this.bytes.push(o);
    return this;
  }

  /** An instruction with one unsigned immediate (local index, function index, branch depth). */
  idx(op: Op, i: number): this {
    this.bytes.push(op);
    uleb(this.bytes, i);
    return this;
  }

  i32(v: number): this {
    this.bytes.push(Op.I32Const);
    sleb32(this.bytes, v | 0);
    return this;
  }

  i64(v: bigint | number): this {
    this.bytes.push(Op.I64Const);
    if (typeof v === "number" && (v | 0) === v) sleb32(this.bytes, v);
    else sleb(this.bytes, BigInt.asIntN(64, BigInt(v)));
    return this;
  }

  f64(v: number): this {
    this.bytes.push(Op.F64Const);
    f64Scratch[0] = v;
    this.bytes.append(f64Bytes);
    return this;
  }

  /** br_table: branch to labels[i], or to `otherwise` when i is out of range (§5.4.1). */
  brTable(labels: number[], otherwise: number): this {
    this.idx(Op.BrTable, labels.length);
    for (const l of labels) uleb(this.bytes, l);
    uleb(this.bytes, otherwise);
    return this;
  }

  /** A load or store with its memarg (alignment as log2, constant offset). */
  mem(op: Op, alignLog2: number, offset = 0): this {
    this.bytes.push(op);
    this.bytes.push(alignLog2);
    uleb(this.bytes, offset);
    return this;
  }

  /** An atomic memory access at offset 0, naturally aligned (alignment as log2). */
  atomic(op: Atomic, alignLog2: number): this {
    this.bytes.push(Op.AtomicPrefix);
    return this.mem(op as number as Op, alignLog2);
  }
}

export interface FuncSpec {
  type: number;
  /** Declared locals after the parameters, in order. */
  locals: Val[];
  code: Code;
  /** Shown by profilers and debuggers (the "name" custom section, §7.4). */
  name?: string;
}

export interface ModuleSpec {
  types: FuncType[];
  /** Pages (64 KiB) of the imported shared memory "env"."memory". */
  memoryPages: number;
  /** Minimum size of the imported function table "env"."table", if the module uses one. */
  table?: number;
  /** Imported functions "env".name, by type index; they take function indices 0.. in order. */
  imports: { name: string; type: number }[];
  funcs: FuncSpec[];
  /** Exported functions by name and function index. */
  exports: { name: string; func: number }[];
}

function section(out: Bytes, id: number, body: Bytes): void {
  out.push(id);
  uleb(out, body.length);
  out.append(body);
}

function name(out: Bytes, s: string): void {
  uleb(out, s.length);
  for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i));
}

/** Encodes the module (§5.5). */
export function encodeModule(m: ModuleSpec): Uint8Array {
  const out = new Bytes();
  out.append(Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00));
  const types = new Bytes();
  uleb(types, m.types.length);
  for (const t of m.types) {
    types.push(0x60);
    uleb(types, t.params.length);
    for (const v of t.params) types.push(v);
    uleb(types, t.results.length);
    for (const v of t.results) types.push(v);
  }
  section(out, 1, types);

  const imports = new Bytes();
  uleb(imports, m.imports.length + 1 + (m.table !== undefined ? 1 : 0));
  name(imports, "env");
  name(imports, "memory");
  imports.push(0x02); // memory, limits: shared with maximum
  imports.push(0x03);
  uleb(imports, m.memoryPages);
  uleb(imports, m.memoryPages);
  if (m.table !== undefined) {
    name(imports, "env");
    name(imports, "table");
    imports.push(0x01); // table of funcref, limits: minimum only
    imports.push(0x70);
    imports.push(0x00);
    uleb(imports, m.table);
  }
  for (const f of m.imports) {
    name(imports, "env");
    name(imports, f.name);
    imports.push(0x00);
    uleb(imports, f.type);
  }
  section(out, 2, imports);

  const funcs = new Bytes();
  uleb(funcs, m.funcs.length);
  for (const f of m.funcs) uleb(funcs, f.type);
  section(out, 3, funcs);

  const exports = new Bytes();
  uleb(exports, m.exports.length);
  for (const e of m.exports) {
    name(exports, e.name);
    exports.push(0x00);
    uleb(exports, e.func);
  }
  section(out, 7, exports);

  const code = new Bytes();
  uleb(code, m.funcs.length);
  const body = new Bytes();
  for (const f of m.funcs) {
    body.length = 0;
    // Locals as runs of one type (§5.5.13).
    const runs: [number, Val][] = [];
    for (const l of f.locals) {
      const last = runs[runs.length - 1];
      if (last !== undefined && last[1] === l) last[0]++;
      else runs.push([1, l]);
    }
    uleb(body, runs.length);
    for (const [n, t] of runs) {
      uleb(body, n);
      body.push(t);
    }
    body.append(f.code.bytes);
    body.push(Op.End);
    uleb(code, body.length);
    code.append(body);
  }
  section(out, 10, code);

  if (m.funcs.some((f) => f.name !== undefined)) {
    const names = new Bytes();
    name(names, "name");
    const map = new Bytes();
    const named = m.funcs.map((f, i) => [m.imports.length + i, f.name] as const).filter(([, n]) => n !== undefined);
    uleb(map, named.length);
    for (const [i, n] of named) {
      uleb(map, i);
      name(map, n!);
    }
    names.push(1); // function names
    uleb(names, map.length);
    names.append(map);
    section(out, 0, names);
  }
  return out.view();
}
