/**
 * A hart's architectural state as saved in a checkpoint (docs/checkpoint.md):
 * registers, pc, FP state and every CSR the hart keeps. Caches are not state:
 * decoded and translated code, TLBs and the LR/SC reservation are dropped on
 * restore (a reservation may be lost at any time: an SC then fails, which the
 * ISA allows, Unprivileged ISA §13.2).
 */
import { hex64, StateError, StateReader, type Saved } from "../../state/savedState.js";
import type { Hart } from "./hart.js";
import { Priv } from "./priv.js";
import { flushTranslations } from "./mmu.js";
import { updatePmpRanges } from "./pmp.js";

const STATE_VERSION = 1;
const I32 = [-(2 ** 31), 2 ** 31 - 1] as const;
const U32 = [0, 2 ** 32 - 1] as const;
/** Counters are doubles in the hart: exact up to 2^53. */
const COUNTER = [-(2 ** 53), 2 ** 53] as const;

export function saveHart(h: Hart): Saved {
  const fpr: string[] = [];
  for (let r = 0; r < 32; r++) fpr.push(hex64((BigInt(h.fw[2 * r + 1]) << 32n) | BigInt(h.fw[2 * r] >>> 0)));
  return {
    v: STATE_VERSION,
    hartId: h.hartId,
    pc: hex64(BigInt(h.pc)),
    x: Array.from({ length: 32 }, (_, r) => hex64(h.getX(r))),
    f: fpr,
    frm: h.frm,
    fflags: h.fflags,
    priv: h.priv,
    mstatus: h.mstatus,
    mip: h.mip,
    mie: h.mie,
    mideleg: h.mideleg,
    medeleg: h.medeleg,
    mtvec: hex64(h.mtvec),
    stvec: hex64(h.stvec),
    mepc: hex64(h.mepc),
    sepc: hex64(h.sepc),
    mcause: hex64(h.mcause),
    scause: hex64(h.scause),
    mtval: hex64(h.mtval),
    stval: hex64(h.stval),
    mscratch: hex64(h.mscratch),
    sscratch: hex64(h.sscratch),
    mcounteren: h.mcounteren,
    scounteren: h.scounteren,
    mcountinhibit: h.mcountinhibit,
    menvcfg: hex64(h.menvcfg),
    senvcfg: h.senvcfg,
    satpMode: h.satpMode,
    satpAsid: h.satpAsid,
    satpPpn: h.satpPpn,
    pmpcfg: Array.from(h.pmpcfg),
    pmpaddr: Array.from(h.pmpaddr, hex64),
    instret: h.instret,
    cycleOffset: h.cycleOffset,
    instretOffset: h.instretOffset,
    waiting: h.waiting,
  };
}

/** Restores what `saveHart` wrote, checking every field before changing anything. */
export function restoreHart(h: Hart, saved: unknown): void {
  applyHart(h, readHart(h.hartId, saved));
}

type HartRecord = ReturnType<typeof readHart>;

/**
 * Checks hart `hartId`'s saved record whole, without a hart: the VMM checks
 * every hart's record before it restores anything (a bad record is then a
 * one-line error, not a failing hart world).
 */
export function readHart(hartId: number, saved: unknown) {
  const r = StateReader.open(`hart${hartId}`, saved, STATE_VERSION);
  r.int("hartId", hartId, hartId);
  const priv = r.int("priv", 0, 3);
  if (priv === 2) throw new StateError(`hart${hartId}: field 'priv' is 2, not a privilege level of this hart`);
  return {
    priv: priv as Priv,
    pc: Number(BigInt.asIntN(64, r.u64("pc"))),
    x: r.u64s("x", 32),
    f: r.u64s("f", 32),
    frm: r.int("frm", 0, 7),
    fflags: r.int("fflags", 0, 31),
    mstatus: r.int("mstatus", ...I32),
    mip: r.int("mip", ...U32),
    mie: r.int("mie", ...U32),
    mideleg: r.int("mideleg", ...U32),
    medeleg: r.int("medeleg", ...U32),
    mtvec: r.u64("mtvec"),
    stvec: r.u64("stvec"),
    mepc: r.u64("mepc"),
    sepc: r.u64("sepc"),
    mcause: r.u64("mcause"),
    scause: r.u64("scause"),
    mtval: r.u64("mtval"),
    stval: r.u64("stval"),
    mscratch: r.u64("mscratch"),
    sscratch: r.u64("sscratch"),
    mcounteren: r.int("mcounteren", ...U32),
    scounteren: r.int("scounteren", ...U32),
    mcountinhibit: r.int("mcountinhibit", ...U32),
    menvcfg: r.u64("menvcfg"),
    senvcfg: r.int("senvcfg", ...U32),
    satpMode: r.int("satpMode", 0, 15),
    satpAsid: r.int("satpAsid", 0, 0xffff),
    satpPpn: r.int("satpPpn", 0, 2 ** 44 - 1),
    pmpcfg: r.ints("pmpcfg", 16, 0, 255),
    pmpaddr: r.u64s("pmpaddr", 16),
    instret: r.int("instret", 0, COUNTER[1]),
    cycleOffset: r.int("cycleOffset", ...COUNTER),
    instretOffset: r.int("instretOffset", ...COUNTER),
    waiting: r.bool("waiting"),
  };
}

function applyHart(h: Hart, s: HartRecord): void {
  h.pc = s.pc;
  s.x.forEach((v, k) => h.setX(k, v));
  s.f.forEach((v, k) => {
    h.fw[2 * k] = Number(BigInt.asIntN(32, v));
    h.fw[2 * k + 1] = Number(BigInt.asIntN(32, v >> 32n));
  });
  h.frm = s.frm;
  h.fflags = s.fflags;
  h.priv = s.priv;
  h.mstatus = s.mstatus;
  h.mie = s.mie;
  h.mip = s.mip;
  h.mideleg = s.mideleg;
  h.medeleg = s.medeleg;
  h.mtvec = s.mtvec;
  h.stvec = s.stvec;
  h.mepc = s.mepc;
  h.sepc = s.sepc;
  h.mcause = s.mcause;
  h.scause = s.scause;
  h.mtval = s.mtval;
  h.stval = s.stval;
  h.mscratch = s.mscratch;
  h.sscratch = s.sscratch;
  h.mcounteren = s.mcounteren;
  h.scounteren = s.scounteren;
  h.mcountinhibit = s.mcountinhibit;
  h.menvcfg = s.menvcfg;
  h.senvcfg = s.senvcfg;
  h.satpMode = s.satpMode;
  h.satpAsid = s.satpAsid;
  h.satpPpn = s.satpPpn;
  h.pmpcfg.set(s.pmpcfg);
  s.pmpaddr.forEach((v, k) => (h.pmpaddr[k] = v));
  h.instret = s.instret;
  h.cycleOffset = s.cycleOffset;
  h.instretOffset = s.instretOffset;
  h.waiting = s.waiting;
  h.reservation = -1;
  updatePmpRanges(h);
  h.updateRegimes();
  flushTranslations(h);
  h.flushCode();
}
