// One semantics, two engines: random RV64 instruction streams (ALU, M, Zba,
// Zbb, Zbs, loads, stores and AMOs — aligned, misaligned and out of RAM —,
// LR/SC, forward branches and jumps, counted loops, CSR accesses (sstatus too), ECALL and illegal
// instructions that trap) over registers and data full of corner values run on
// the interpreter and on the translator in lockstep, block by block, and
// every architectural register, pc, instret, trap CSR and the data memory
// must agree. At least 10^6 random instructions per run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Hart } from "../../src/cpu/riscv/hart.js";
import { Priv } from "../../src/cpu/riscv/priv.js";
import { GuestMemory } from "../../src/memory/guestMemory.js";
import { Bus } from "../../src/devices/bus.js";
import { updatePmpRanges } from "../../src/cpu/riscv/pmp.js";
import { interpreter, translator, type ExecutionEngine } from "../../src/cpu/riscv/translate/engine.js";
import { translatedInstructions } from "../support/hart.js";

const RAM = 0x8000_0000;
const CODE_INSNS = 1000;
const DATA = RAM + 0x8_0000;
const HANDLER = RAM + 0x7_0000;
/**
 * x31 holds the data base, x30 is the trap handler's scratch and x29 points
 * 2 KiB into the code (so `jalr rd, imm(x29)` reaches every instruction):
 * streams never write them. x28 holds the address of an AMO, LR or SC, and
 * only the ADDI before one writes it: always in the data area, so that an
 * AMO entered by a branch past its ADDI cannot change the code (the first,
 * translating run would leave the lockstep run other code).
 */
const BASE = 31;
const SCRATCH = 30; // written only by the trap handler below
const CODE_REG = 29;
const AMO_REG = 28;
/**
 * x27 counts the turns of a loop (loopAt): only a loop's first instruction
 * sets it (to 2-5) and only its decrement writes it otherwise, so that every
 * loop ends, also one entered by a branch past its first instruction.
 */
const LOOP_REG = 27;

let seed = 0x1234_5678;
function rnd(n: number): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % n;
}
const reg = (): number => rnd(Math.min(LOOP_REG, AMO_REG, CODE_REG, SCRATCH, BASE)); // x0..x26
const src = (): number => (rnd(8) === 0 ? BASE : reg());

const R = (f7: number, f3: number, op: number): number => ((f7 << 25) | (src() << 20) | (src() << 15) | (f3 << 12) | (reg() << 7) | op) >>> 0;
const Iimm = (f3: number, op: number, imm: number, rs1 = src(), rd = reg()): number => (((imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op) >>> 0;
const Simm = (f3: number, imm: number, rs1: number): number =>
  ((((imm >> 5) & 0x7f) << 25) | (src() << 20) | (rs1 << 15) | (f3 << 12) | ((imm & 0x1f) << 7) | 0x23) >>> 0;
function B(f3: number, off: number): number {
  return (((((off >> 12) & 1) << 31) | (((off >> 5) & 0x3f) << 25) | (src() << 20) | (src() << 15) | (f3 << 12) | (((off >> 1) & 0xf) << 8) | (((off >> 11) & 1) << 7) | 0x63) >>> 0);
}
function J(off: number): number {
  return (((((off >> 20) & 1) << 31) | (((off >> 1) & 0x3ff) << 21) | (((off >> 11) & 1) << 20) | (((off >> 12) & 0xff) << 12) | (reg() << 7) | 0x6f) >>> 0);
}
/** Values at the edges of the operations: signs, word boundaries, all ones. */
const CORNERS = [0n, 1n, -1n, 1n << 63n, (1n << 63n) - 1n, 0x8000_0000n, 0xffff_ffffn, 0x7fff_ffffn, -0x8000_0000n, 0xffffn, 0x80n];
/** A register or data value: random, a corner value, or bytes half of which are zero (orc.b). */
function value(): bigint {
  switch (rnd(3)) {
    case 0: return BigInt.asUintN(64, CORNERS[rnd(CORNERS.length)]);
    case 1: {
      let v = 0n;
      for (let b = 0; b < 8; b++) v = (v << 8n) | BigInt(rnd(2) === 0 ? 0 : [1, 0x80, 0xff, rnd(256)][rnd(4)]);
      return v;
    }
    default: return (BigInt(rnd(2 ** 32)) << 32n) | BigInt(rnd(2 ** 32));
  }
}
const imm12 = (): number => [0, 1, -1, 2047, -2048, 0x7ff, rnd(4096) - 2048][rnd(7)];
/** A memory offset from x31: usually inside the data area, sometimes misaligned, sometimes far outside RAM. */
const memOff = (): number => (rnd(16) === 0 ? rnd(4096) - 2048 : rnd(256) * 8 + [0, 0, 0, 1, 2, 4, 3, 6][rnd(8)]);

/** Zba, Zbb and Zbs register-register instructions: funct7, funct3 and opcode (OP or OP-32). */
const BITMANIP_RR: [number, number, number][] = [
  [0x20, 4, 0x33], [0x20, 6, 0x33], [0x20, 7, 0x33], // xnor, orn, andn
  [0x10, 2, 0x33], [0x10, 4, 0x33], [0x10, 6, 0x33], // sh1add, sh2add, sh3add
  [0x05, 4, 0x33], [0x05, 5, 0x33], [0x05, 6, 0x33], [0x05, 7, 0x33], // min, minu, max, maxu
  [0x30, 1, 0x33], [0x30, 5, 0x33], // rol, ror
  [0x24, 1, 0x33], [0x24, 5, 0x33], [0x34, 1, 0x33], [0x14, 1, 0x33], // bclr, bext, binv, bset
  [0x04, 0, 0x3b], [0x10, 2, 0x3b], [0x10, 4, 0x3b], [0x10, 6, 0x3b], // add.uw, sh1add.uw, sh2add.uw, sh3add.uw
  [0x30, 1, 0x3b], [0x30, 5, 0x3b], // rolw, rorw
];

/** Zba, Zbb and Zbs instructions with an immediate field (funct12, or funct6 and shamt). */
function bitmanipImm(): number {
  const sh = rnd(64);
  const forms: [number, number, number][] = [
    [1, 0x13, 0x600 | [0, 1, 2, 4, 5][rnd(5)]], // clz, ctz, cpop, sext.b, sext.h
    [1, 0x13, [0x480, 0x680, 0x280][rnd(3)] | sh], // bclri, binvi, bseti
    [5, 0x13, [0x600, 0x480][rnd(2)] | sh], // rori, bexti
    [5, 0x13, [0x287, 0x6b8][rnd(2)]], // orc.b, rev8
    [1, 0x1b, 0x080 | sh], // slli.uw
    [1, 0x1b, 0x600 | rnd(3)], // clzw, ctzw, cpopw
    [5, 0x1b, 0x600 | (sh & 31)], // roriw
    [4, 0x3b, 0x080], // zext.h (OP-32, rs2 = 0)
  ];
  const [f3, op, imm] = forms[rnd(forms.length)];
  return Iimm(f3, op, imm);
}

/** AMO funct5 values: the nine AMOs, LR and SC. */
const AMO_F5 = [0x00, 0x01, 0x04, 0x08, 0x0c, 0x10, 0x14, 0x18, 0x1c, 0x02, 0x03];

/**
 * An AMO, LR or SC (.w or .d, random aq/rl) at x31 + an offset put in x28
 * by the ADDI before it: usually an aligned word of the data area, sometimes
 * one misaligned for its size, sometimes anywhere within 2 KiB.
 */
function amoPair(): number[] {
  const off = rnd(8) === 0 ? rnd(4096) - 2048 : rnd(256) * 8 + [0, 0, 0, 0, 4, 4, 1, 2][rnd(8)];
  const f5 = AMO_F5[rnd(AMO_F5.length)];
  const rs2 = f5 === 0x02 ? 0 : src();
  const amo = (f5 << 27) | (rnd(4) << 25) | (rs2 << 20) | (AMO_REG << 15) | ((2 + rnd(2)) << 12) | (reg() << 7) | 0x2f;
  return [Iimm(0, 0x13, off, BASE, AMO_REG), amo >>> 0];
}

/** The next instructions at index k of the stream: usually one, an address and an AMO, or an indirect jump forward. */
function randomInsns(k: number, limit: number): number[] {
  const kind = rnd(40);
  if (kind === 0) {
    // jalr rd, imm(x29) (x29 = code + 2048).
    const target = k + 1 + rnd(Math.min(12, limit - k));
    return [Iimm(0, 0x67, 4 * target - 2048, CODE_REG)];
  }
  return kind <= 3 ? amoPair() : [randomInsn(k, limit)];
}

/** One random instruction at index k of the stream (branches and jumps only forward, to index `limit` at most). */
function randomInsn(k: number, limit: number): number {
  const fwd = (): number => 4 * (1 + rnd(Math.max(1, Math.min(12, limit - k))));
  switch (rnd(28)) {
    case 0: case 1: case 2: {
      const ops: [number, number][] = [[0, 0], [0x20, 0], [0, 1], [0, 2], [0, 3], [0, 4], [0, 5], [0x20, 5], [0, 6], [0, 7], [1, 0], [1, 1], [1, 2], [1, 3], [1, 4], [1, 5], [1, 6], [1, 7]];
      const [f7, f3] = ops[rnd(ops.length)];
      return R(f7, f3, 0x33);
    }
    case 3: {
      const ops: [number, number][] = [[0, 0], [0x20, 0], [0, 1], [0, 5], [0x20, 5], [1, 0], [1, 4], [1, 5], [1, 6], [1, 7]];
      const [f7, f3] = ops[rnd(ops.length)];
      return R(f7, f3, 0x3b);
    }
    case 4: case 5: case 6: {
      const f3 = [0, 2, 3, 4, 6, 7][rnd(6)];
      return Iimm(f3, 0x13, imm12());
    }
    case 7: {
      const f3 = [1, 5][rnd(2)];
      const sh = rnd(64) | (f3 === 5 && rnd(2) ? 0x400 : 0);
      return Iimm(f3, 0x13, sh);
    }
    case 8: {
      const f3 = [0, 1, 5][rnd(3)];
      const imm = f3 === 0 ? imm12() : rnd(32) | (f3 === 5 && rnd(2) ? 0x400 : 0);
      return Iimm(f3, 0x1b, imm);
    }
    case 9: return ((rnd(1 << 20) << 12) | (reg() << 7) | [0x37, 0x17][rnd(2)]) >>> 0;
    case 10: case 11: case 12: case 13: return Iimm([0, 1, 2, 3, 4, 5, 6][rnd(7)], 0x03, memOff(), BASE);
    case 14: case 15: case 16: return Simm(rnd(4), memOff(), BASE);
    case 17: case 18: return B([0, 1, 4, 5, 6, 7][rnd(6)], fwd());
    case 19: return J(fwd());
    case 20: return Iimm([1, 2, 3][rnd(3)], 0x73, 0x340); // csrrw/csrrs/csrrc on mscratch
    case 21: return rnd(4) === 0 ? 0x00000073 : Iimm(2, 0x73, 0xc02, 0); // ecall, or csrr instret
    case 22: return rnd(2) === 0 ? 0xffffffff : 0x0000100f; // an illegal encoding, or fence.i
    case 23: case 24: {
      const [f7, f3, op] = BITMANIP_RR[rnd(BITMANIP_RR.length)];
      return R(f7, f3, op);
    }
    case 25: return bitmanipImm();
    case 26: {
      // sstatus: csrrs/csrrc (x0: a read) or csrrsi/csrrci, mostly on SIE alone (which translated code runs itself)
      const f3 = [2, 3, 6, 7][rnd(4)];
      const rs1 = f3 >= 6 ? [0, 2, 2, rnd(32)][rnd(4)] : rnd(4) === 0 ? 0 : src();
      return Iimm(f3, 0x73, 0x100, rs1);
    }
    default: return 0x00000013; // nop
  }
}

/**
 * A counted loop at index k: x27 = 2..5; head: a random body whose branches
 * and jumps stay in it (up to the decrement); x27 -= 1; bgt x27, zero, head.
 * Translated code runs such a body as one function (a region with a loop).
 */
function loopAt(k: number): number[] {
  const out = [Iimm(0, 0x13, 2 + rnd(4), 0, LOOP_REG)];
  const head = k + 1;
  const dec = head + 3 + rnd(14);
  while (k + out.length < dec) for (const w of randomInsns(k + out.length, dec)) if (k + out.length < dec) out.push(w);
  out.push(Iimm(0, 0x13, -1, LOOP_REG, LOOP_REG));
  const off = 4 * (head - (dec + 1));
  // blt zero, x27, head
  out.push(((((off >> 12) & 1) << 31) | (((off >> 5) & 0x3f) << 25) | (LOOP_REG << 20) | (0 << 15) | (4 << 12) | (((off >> 1) & 0xf) << 8) | (((off >> 11) & 1) << 7) | 0x63) >>> 0);
  return out;
}

function machine(engine: ExecutionEngine, code: Uint32Array, init: bigint[], data: Uint8Array): Hart {
  const mem = new GuestMemory(RAM, 1 << 20);
  const h = new Hart(0, mem, new Bus(), engine);
  mem.writeBytes(RAM, new Uint8Array(code.buffer));
  // Trap handler: skip the trapping instruction (mepc += 4), then mret.
  const handler = [0x34102f73, 0x004f0f13, 0x341f1073, 0x30200073];
  mem.writeBytes(HANDLER, new Uint8Array(Uint32Array.from(handler).buffer));
  reset(h, init, data);
  return h;
}

/** Puts the machine back in its initial state (code and translations stay). */
function reset(h: Hart, init: bigint[], data: Uint8Array): void {
  h.mem.writeBytes(DATA - 4096, new Uint8Array(12288)); // everything a stream can store to
  h.mem.writeBytes(DATA, data);
  for (let r = 1; r < 32; r++) h.setX(r, init[r]);
  h.setX(LOOP_REG, 0n); // a loop entered past its first instruction runs once
  h.setX(BASE, BigInt(DATA));
  h.setX(CODE_REG, BigInt(RAM + 2048));
  h.setX(AMO_REG, BigInt(DATA));
  h.priv = Priv.M;
  h.mtvec = BigInt(HANDLER);
  h.pmpaddr[0] = (1n << 54n) - 1n;
  h.pmpcfg[0] = 0x1f;
  updatePmpRanges(h);
  h.mstatus = 0;
  h.mscratch = 0n;
  h.mcause = 0n;
  h.mepc = 0n;
  h.mtval = 0n;
  h.instret = 0;
  h.reservation = -1;
  h.updateRegimes();
  h.pc = RAM;
}

function state(h: Hart): unknown {
  return { pc: h.pc, x: Array.from({ length: 32 }, (_, r) => h.getX(r).toString(16)), instret: h.instret, mcause: h.mcause, mepc: h.mepc, mtval: h.mtval, mscratch: h.mscratch, mstatus: h.mstatus };
}

/**
 * Runs random streams on the interpreter and on the translator with back end
 * `backend` in lockstep until at least `atLeast` instructions have run, and
 * checks that the translator ran most of them in translated code.
 */
function agree(backend: "wasm" | "js", atLeast: number): void {
  let total = 0;
  let translated = 0;
  let programs = 0;
  const end = RAM + 4 * CODE_INSNS;
  while (total < atLeast) {
    const code = new Uint32Array(CODE_INSNS + 1);
    for (let k = 0; k < CODE_INSNS; ) {
      for (const w of rnd(48) === 0 && k + 24 < CODE_INSNS ? loopAt(k) : randomInsns(k, CODE_INSNS)) if (k < CODE_INSNS) code[k++] = w;
    }
    code[CODE_INSNS] = 0x0000006f; // j .
    const init = Array.from({ length: 32 }, value);
    const data = new Uint8Array(BigUint64Array.from({ length: 512 }, value).buffer);
    const a = machine(interpreter, code, init, data);
    const b = machine(translator({ translateAfter: 1, backend }), code, init, data);
    // A first run finds the stream's blocks; they are compiled (in batches, as in a VM), and the
    // stream runs again from the start, now translated, in lockstep with the interpreter: the
    // translator runs one block, or (every other step) up to 2-62 instructions of whole blocks,
    // which lets a function run the blocks of its region; the interpreter catches up block by block.
    for (let step = 0; step < 4 * CODE_INSNS && b.pc !== end; step++) b.run(1);
    b.finishTranslations();
    reset(b, init, data);
    const before = translatedInstructions(b);
    for (let step = 0; step < 4 * CODE_INSNS && a.pc !== end; step++) {
      b.run(step % 2 === 0 ? 1 : 2 + (step % 61));
      for (let blocks = 0; a.instret < b.instret && blocks < 64; blocks++) a.run(1);
      assert.deepEqual(state(b), state(a), `program ${programs} (seed state ${seed}), block at step ${step}`);
    }
    assert.equal(a.pc, end, "the stream ran to its end");
    assert.deepEqual(b.mem.readBytes(DATA - 4096, 12288), a.mem.readBytes(DATA - 4096, 12288), `program ${programs}: data memory`);
    assert.deepEqual(a.stats, { jsBlocks: 0, wasmBlocks: 0, jsInstructions: 0, wasmInstructions: 0 }, "the interpreter translated code");
    const other = backend === "js" ? b.stats.wasmInstructions : b.stats.jsInstructions;
    if (backend === "js") assert.equal(other, 0, "WebAssembly blocks ran on the JavaScript back end");
    total += a.instret;
    translated += translatedInstructions(b) - before;
    programs++;
  }
  assert.ok(total >= atLeast);
  // Traps, monitor instructions and slow paths are interpreted; the rest runs translated.
  assert.ok(translated >= total / 2, `${translated} of ${total} instructions ran translated (${backend})`);
}

test("interpreter and translator agree on 10^6 random instructions", { timeout: 600_000 }, () => agree("wasm", 1_000_000));

test("interpreter and the translator's JavaScript back end agree on 2 * 10^5 random instructions", { timeout: 600_000 }, () =>
  agree("js", 200_000));
