// A hart's saved state (cpu/riscv/hartSavedState.ts): every architectural
// field survives saveHart -> JSON -> restoreHart into a fresh hart, the
// restored hart then executes exactly as the original continues, and a bad
// record is a StateError naming its field that leaves the hart as it was.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Hart } from "../../src/cpu/riscv/hart.js";
import { interpreter } from "../../src/cpu/riscv/translate/engine.js";
import { Priv } from "../../src/cpu/riscv/priv.js";
import { restoreHart, saveHart } from "../../src/cpu/riscv/hartSavedState.js";
import { GuestMemory } from "../../src/memory/guestMemory.js";
import { Bus } from "../../src/devices/bus.js";
import { updatePmpRanges } from "../../src/cpu/riscv/pmp.js";
import { StateError, type Saved } from "../../src/state/savedState.js";
import { MSTATUS_FS, MSTATUS_SIE } from "../../src/cpu/riscv/csr.js";
import { MIP_SSIP } from "../../src/cpu/riscv/trap.js";

const RAM = 0x8000_0000;
const SIZE = 4 << 20;

/** A hart as it comes out of reset: no PMP entries, no paging, nothing set. */
function freshHart(mem = new GuestMemory(RAM, SIZE)): Hart {
  return new Hart(0, mem, new Bus(), interpreter);
}

/** Sets f[r] to a 64-bit pattern, bit for bit (no double conversion that could quiet a NaN). */
function setF(h: Hart, r: number, bits: bigint): void {
  h.fw[2 * r] = Number(BigInt.asIntN(32, bits));
  h.fw[2 * r + 1] = Number(BigInt.asIntN(32, bits >> 32n));
}

/** A single NaN-boxed in a 64-bit register (upper 32 bits all ones). */
const boxed = (single: number): bigint => 0xffff_ffff_0000_0000n | BigInt(single >>> 0);
const F32 = (x: number): number => new Uint32Array(new Float32Array([x]).buffer)[0];
const F64 = (x: number): bigint => new BigUint64Array(new Float64Array([x]).buffer)[0];

/** Every field of saveHart's record set to something other than its reset value. */
function everythingSet(h: Hart): void {
  for (let r = 1; r < 32; r++) h.setX(r, BigInt.asUintN(64, 0x0123_4567_89ab_cdefn * BigInt(r) + (BigInt(r) << 59n)));
  const f = [
    boxed(F32(1.5)),
    boxed(0x7f80_0001), // signalling NaN single, boxed
    boxed(0xff80_0000), // -inf single
    0x7ff0_0000_0000_0001n, // signalling NaN double
    0xfff8_0000_dead_beefn, // quiet NaN double with a payload
    0x8000_0000_0000_0000n, // -0.0
    0x0000_0000_7fc0_0000n, // a single's bits without the box (reads as the canonical NaN)
    F64(Math.PI),
  ];
  for (let r = 0; r < 32; r++) setF(h, r, f[r % f.length] ^ BigInt(r >> 3));
  h.frm = 3;
  h.fflags = 0x15;
  h.priv = Priv.S;
  h.mstatus = (MSTATUS_FS | MSTATUS_SIE | (1 << 31)) | 0; // bit 31 set: a negative int32
  h.mie = 0xaaa;
  h.mip = 0x222;
  h.mideleg = 0x222;
  h.medeleg = 0xb1ff;
  h.mtvec = 0xffff_ffff_8000_0001n;
  h.stvec = 0x1_0000_0100n;
  h.mepc = 0xffff_ffff_ffff_fffen;
  h.sepc = 0x8000_0000_0000_0000n;
  h.mcause = 0x8000_0000_0000_0007n;
  h.scause = 0xdn;
  h.mtval = 0x1234_5678_9abc_def0n;
  h.stval = 0xfedc_ba98_7654_3210n;
  h.mscratch = 0xffff_ffff_ffff_ffffn;
  h.sscratch = 0x1n << 40n;
  h.mcounteren = 0xffff_ffff;
  h.scounteren = 0x8000_0005;
  h.mcountinhibit = 0xd;
  h.menvcfg = 0x8000_0000_0000_00f1n;
  h.senvcfg = 0xf1;
  h.satpMode = 9;
  h.satpAsid = 0xfffe;
  h.satpPpn = 2 ** 43 + 5;
  for (let k = 0; k < 16; k++) {
    h.pmpcfg[k] = (0x9f + 13 * k) & 0xff;
    h.pmpaddr[k] = BigInt.asUintN(64, (0x3f_ffff_ffff_ffffn >> BigInt(k)) ^ BigInt(k));
  }
  h.instret = 2 ** 40 + 12_345;
  h.cycleOffset = -(2 ** 35) - 7;
  h.instretOffset = 2 ** 33 + 1;
  h.waiting = true;
}

const viaJson = (s: Saved): unknown => JSON.parse(JSON.stringify(s));

test("every field survives saveHart -> JSON -> restoreHart into a fresh hart", () => {
  for (const pc of [0x1_2345_6788, -0x1000, -(2 ** 52), RAM + 2]) {
    const a = freshHart();
    everythingSet(a);
    a.pc = pc;
    const saved = saveHart(a);
    // The record holds what was set (so the comparison below is not of two reset harts).
    assert.equal(saved.pc, "0x" + BigInt.asUintN(64, BigInt(pc)).toString(16));
    assert.equal((saved.f as string[])[1], "0xffffffff7f800001", "a signalling NaN single stays boxed, bit for bit");
    assert.equal((saved.f as string[])[3], "0x7ff0000000000001", "a signalling NaN double is not quieted");
    assert.equal(saved.instret, 2 ** 40 + 12_345);
    assert.equal(saved.satpPpn, 2 ** 43 + 5);

    const b = freshHart();
    const before = saveHart(b);
    restoreHart(b, viaJson(saved));
    assert.notDeepEqual(before, saved);
    assert.deepEqual(saveHart(b), saved);
    assert.equal(b.pc, pc, "the pc is an exact signed value");
    assert.equal(b.priv, Priv.S);
    assert.equal(b.getX(31), a.getX(31));
    assert.deepEqual(Array.from(b.fw), Array.from(a.fw));
    assert.deepEqual(Array.from(b.pmpaddr), Array.from(a.pmpaddr));
    assert.equal(b.mie, a.mie);
    assert.equal(b.mip, a.mip);
    assert.equal(b.waiting, true);
  }
});

// ------------------------------------------------------------ execution

/**
 * S-mode code under Sv39 at a negative (sign-extended) virtual address,
 * 0xffffffffc0000000 + offset mapped by one gigapage to RAM: integer and FP
 * arithmetic on NaN-boxed singles and a signalling NaN, CSR reads, counters,
 * an ECALL to M-mode (mtvec, mscratch, mepc), an illegal instruction
 * delegated to S-mode (medeleg, stvec) and a software interrupt delegated to
 * S-mode (mideleg, mie, sstatus.SIE), then a loop that stores.
 * Assembled with riscv64-linux-gnu-as -march=rv64gc (.option norvc).
 */
const PROGRAM: [number, number[]][] = [
  [0x000, [
    0x00c58533, // add a0, a1, a2
    0x02e506b3, // mul a3, a0, a4
    0x003170d3, // fadd.s f1, f2, f3
    0x0262f253, // fadd.d f4, f5, f6
    0x228403d3, // fsgnj.d f7, f8, f8
    0x00743027, // fsd f7, 0(s0)
    0x00142427, // fsw f1, 8(s0)
    0x00443827, // fsd f4, 16(s0)
    0x140022f3, // csrr t0, sscratch
    0x00543c23, // sd t0, 24(s0)
    0xc0202373, // rdinstret t1
    0x02643023, // sd t1, 32(s0)
    0xc00023f3, // rdcycle t2
    0x02743423, // sd t2, 40(s0)
    0x00000073, // ecall                -> M-mode
    0x03e43823, // sd t5, 48(s0)        (the old mscratch)
    0x300022f3, // csrr t0, mstatus     -> illegal in S-mode, delegated
    0x14416073, // csrsi sip, 2         -> SSI, delegated
    0x00000013, // nop
    0x02a43c23, // sd a0, 56(s0)
    0x00178793, // loop: addi a5, a5, 1
    0x04f42023, //       sw a5, 64(s0)
    0xff9ff06f, //       j loop
  ]],
  [0x200, [ // stvec
    0x14202e73, // csrr t3, scause
    0x01c4b023, // sd t3, 0(s1)
    0x14302ef3, // csrr t4, stval
    0x01d4b423, // sd t4, 8(s1)
    0x01048493, // addi s1, s1, 16
    0x000e4a63, // bltz t3, 1f
    0x14102ef3, // csrr t4, sepc
    0x004e8e93, // addi t4, t4, 4
    0x141e9073, // csrw sepc, t4
    0x10200073, // sret
    0x14417073, // 1: csrci sip, 2
    0x10200073, // sret
  ]],
  [0x300, [ // mtvec (physical)
    0x340f1f73, // csrrw t5, mscratch, t5
    0x34102ff3, // csrr t6, mepc
    0x004f8f93, // addi t6, t6, 4
    0x341f9073, // csrw mepc, t6
    0x30200073, // mret
  ]],
];
const VBASE = -(2 ** 30); // 0xffffffffc0000000
const ROOT = RAM + 0x1_0000;
const DATA = 0x1000;
const LOG = 0x2000;
/** The loop's increment, and another one for a variant of the program. */
const LOOP = 0x50;
const ADDI_A5_2 = 0x00278793;
const ALIAS = RAM + (2 << 20);

/**
 * A hart set up directly (no firmware ran) to run PROGRAM in S-mode. RAM also
 * holds a variant of the program at ALIAS (its loop adds 2), which
 * VBASE maps to instead with `alias` (through a level-1 table to a 2 MiB page).
 */
function programmedHart(alias = false): { h: Hart; mem: GuestMemory } {
  const mem = new GuestMemory(RAM, SIZE);
  for (const code of [RAM, ALIAS]) for (const [at, words] of PROGRAM) words.forEach((w, k) => mem.writeU32(code + at + 4 * k, w));
  mem.writeU32(ALIAS + LOOP, ADDI_A5_2);
  if (alias) {
    const l1 = RAM + 0x1_1000;
    mem.writeU64(ROOT + 8 * 511, (BigInt(l1 / 4096) << 10n) | 0x1n); // a pointer to the next level
    mem.writeU64(l1, (BigInt(ALIAS / 4096) << 10n) | 0xcfn);
  } else {
    // Sv39 root: entry 511 (VA 0xffffffffc0000000) is a 1 GiB leaf to RAM, V R W X A D.
    mem.writeU64(ROOT + 8 * 511, (BigInt(RAM / 4096) << 10n) | 0xcfn);
  }
  const h = freshHart(mem);
  everythingSet(h);
  h.setX(8, BigInt.asUintN(64, BigInt(VBASE + DATA))); // s0
  h.setX(9, BigInt.asUintN(64, BigInt(VBASE + LOG))); // s1
  setF(h, 2, boxed(F32(1.5)));
  setF(h, 3, boxed(F32(2.25)));
  setF(h, 8, 0x7ff0_0000_0000_0001n);
  h.priv = Priv.S;
  h.mstatus = MSTATUS_FS | MSTATUS_SIE;
  h.mie = MIP_SSIP;
  h.mip = 0;
  h.mideleg = MIP_SSIP;
  h.medeleg = 1 << 2; // illegal instruction
  h.mtvec = BigInt(RAM + 0x300);
  h.stvec = BigInt.asUintN(64, BigInt(VBASE + 0x200));
  h.mcounteren = 0b101; // CY, IR
  h.satpMode = 8;
  h.satpAsid = 0;
  h.satpPpn = ROOT / 4096;
  h.pmpcfg.fill(0);
  h.pmpaddr.fill(0n);
  h.pmpcfg[0] = 0x1f; // NAPOT, RWX: without it S-mode can access nothing
  h.pmpaddr[0] = (1n << 54n) - 1n;
  h.waiting = false;
  h.pc = VBASE;
  updatePmpRanges(h);
  h.updateRegimes();
  return { h, mem };
}

const u64 = (mem: GuestMemory, off: number): bigint => mem.readU64(RAM + off);

test("the original program does what it says (so the comparison below means something)", () => {
  const { h, mem } = programmedHart();
  h.run(200);
  assert.equal(u64(mem, DATA + 8) & 0xffff_ffffn, BigInt(F32(3.75)), "fadd.s on NaN-boxed singles");
  assert.equal(u64(mem, DATA), 0x7ff0_0000_0000_0001n, "fsgnj.d moves a signalling NaN unchanged");
  assert.equal(u64(mem, DATA + 24), BigInt(h.sscratch));
  assert.equal(u64(mem, DATA + 48), 0xffff_ffff_ffff_ffffn, "the old mscratch, swapped in by the M-mode handler");
  assert.equal(u64(mem, DATA + 32), BigInt(2 ** 40 + 12_345 + 10 + 2 ** 33 + 1), "instret + instretOffset");
  assert.equal(u64(mem, LOG), 2n, "illegal instruction, delegated to S-mode");
  assert.equal(u64(mem, LOG + 8), 0x300022f3n, "stval = the instruction");
  assert.equal(u64(mem, LOG + 16), (1n << 63n) | 1n, "supervisor software interrupt");
  assert.ok(mem.readU32(RAM + DATA + 64) > 10, "the loop runs");
  assert.equal(h.priv, Priv.S);
});

test("a hart restored from a record runs on exactly as the original does, from any point", () => {
  for (const split of [0, 1, 3, 5, 9, 14, 17, 20, 40]) {
    const a = programmedHart();
    if (split > 0) a.h.run(split); // the original has warm TLBs and decoded code
    const record = viaJson(saveHart(a.h));
    const bmem = new GuestMemory(RAM, SIZE);
    bmem.writeBytes(RAM, a.mem.readBytes(RAM, SIZE)); // RAM travels separately
    const b = { mem: bmem, h: freshHart(bmem) };
    restoreHart(b.h, record);
    for (const n of [7, 60, 150]) {
      a.h.run(n);
      b.h.run(n);
      assert.deepEqual(saveHart(b.h), saveHart(a.h), `split at ${split}, after ${n} more`);
    }
    assert.deepEqual(b.mem.readBytes(RAM, 0x3000), a.mem.readBytes(RAM, 0x3000), `split at ${split}: memory`);
  }
});

test("restoring over a hart that ran drops its TLBs and decoded code (RAM arrives raw, as from a stream)", () => {
  for (const stale of ["translations", "code"] as const) {
    const ref = programmedHart();
    ref.h.run(9);
    const record = viaJson(saveHart(ref.h));
    // The hart that takes the state ran something else first, long enough to warm its TLBs, jump cache and decoded blocks:
    // the same code reached through another mapping, or other code at the same place.
    const b = programmedHart(stale === "translations");
    if (stale === "code") b.mem.writeU32(RAM + LOOP, ADDI_A5_2);
    b.h.run(200);
    assert.ok(b.mem.readU32((stale === "code" ? RAM : ALIAS) + DATA + 64) !== 0, "the variant's loop ran");
    // The original's RAM arrives raw (incoming.ts copies pages with u8.set: no noteWrite), then its hart state.
    const all = b.mem.machinePageOffset(RAM);
    b.mem.u8.fill(0, all, all + b.mem.size);
    b.mem.u8.set(ref.mem.readBytes(RAM, SIZE), all);
    restoreHart(b.h, record);
    assert.deepEqual(viaJson(saveHart(b.h)), record);
    for (const n of [7, 60]) {
      ref.h.run(n);
      b.h.run(n);
      assert.deepEqual(saveHart(b.h), saveHart(ref.h), `stale ${stale}, after ${n} more`);
    }
    assert.deepEqual(b.mem.readBytes(RAM, 0x3000), ref.mem.readBytes(RAM, 0x3000), `stale ${stale}: memory`);
  }
});

// ------------------------------------------------------------ bad records

test("a bad record is a StateError naming the field, and the hart is unchanged", () => {
  const good = (): Saved => {
    const h = freshHart();
    everythingSet(h);
    h.pc = -0x1000;
    return viaJson(saveHart(h)) as Saved;
  };
  const cases: [string, (r: Saved) => unknown, RegExp][] = [
    ["wrong version", (r) => ({ ...r, v: 2 }), /^hart0: saved state version 2 is not 1$/],
    ["no version", (r) => ({ ...r, v: undefined }), /saved state version undefined is not 1/],
    ["not a record", () => [1, 2], /^hart0: saved state is not a record$/],
    ["null", () => null, /^hart0: saved state is not a record$/],
    ["wrong hartId", (r) => ({ ...r, hartId: 1 }), /^hart0: field 'hartId' is not an integer in \[0, 0\]$/],
    ["priv 2", (r) => ({ ...r, priv: 2 }), /^hart0: field 'priv' is 2/],
    ["priv 4", (r) => ({ ...r, priv: 4 }), /^hart0: field 'priv' is not an integer in \[0, 3\]$/],
    ["pmpcfg of 15", (r) => ({ ...r, pmpcfg: (r.pmpcfg as number[]).slice(1) }), /^hart0: field 'pmpcfg' is a list of 15, not 16$/],
    ["pmpcfg element 256", (r) => ({ ...r, pmpcfg: [...(r.pmpcfg as number[]).slice(1), 256] }), /field 'pmpcfg' \[15\] is not an integer in \[0, 255\]/],
    ["pmpaddr not a list", (r) => ({ ...r, pmpaddr: "0x0" }), /field 'pmpaddr' is not a list of 16 elements/],
    ["bad hex in x", (r) => ({ ...r, x: (r.x as string[]).map((v, k) => (k === 5 ? "0xZZ" : v)) }), /field 'x' \[5\] is not a 64-bit hex value/],
    ["upper-case hex", (r) => ({ ...r, mtvec: "0xABC" }), /field 'mtvec' is not a 64-bit hex value/],
    ["65-bit hex", (r) => ({ ...r, pc: "0x1" + "0".repeat(16) }), /field 'pc' is not a 64-bit hex value/],
    ["hex without 0x", (r) => ({ ...r, mepc: "1234" }), /field 'mepc' is not a 64-bit hex value/],
    ["f of 31", (r) => ({ ...r, f: (r.f as string[]).slice(1) }), /field 'f' is a list of 31, not 32/],
    ["a number for a hex field", (r) => ({ ...r, sepc: 5 }), /field 'sepc' is not a 64-bit hex value/],
    ["frm 8", (r) => ({ ...r, frm: 8 }), /field 'frm' is not an integer in \[0, 7\]/],
    ["mstatus past int32", (r) => ({ ...r, mstatus: 2 ** 31 }), /field 'mstatus' is not an integer/],
    ["negative instret", (r) => ({ ...r, instret: -1 }), /field 'instret' is not an integer/],
    ["fractional counter", (r) => ({ ...r, cycleOffset: 0.5 }), /field 'cycleOffset' is not an integer/],
    ["satp mode 16", (r) => ({ ...r, satpMode: 16 }), /field 'satpMode' is not an integer in \[0, 15\]/],
    ["waiting a string", (r) => ({ ...r, waiting: "yes" }), /field 'waiting' is not a boolean/],
    ["missing mscratch", (r) => Object.fromEntries(Object.entries(r).filter(([k]) => k !== "mscratch")), /field 'mscratch' is missing/],
  ];
  for (const [what, bad, message] of cases) {
    const h = freshHart();
    everythingSet(h);
    h.pc = RAM + 0x40;
    h.setX(1, 77n);
    const before = saveHart(h);
    const record = bad(good());
    assert.throws(
      () => restoreHart(h, JSON.parse(JSON.stringify(record ?? null)) as unknown),
      (e: unknown) => e instanceof StateError && message.test(e.message) && !e.message.includes("\n"),
      what,
    );
    assert.deepEqual(saveHart(h), before, `${what}: the hart is unchanged`);
  }
});
