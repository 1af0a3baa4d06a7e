/**
 * The one RV64GC decoder: a raw instruction word becomes an `Insn` holding its
 * semantic function and operand fields. Compressed instructions are expanded
 * to their 32-bit equivalents first (rvc.ts), FP encodings are decoded by
 * fpu/decode.ts. Anything unrecognised decodes to an instruction that raises
 * illegal-instruction when executed, so decoding itself never fails.
 */
import { Insn, F_ENDS_BLOCK, F_SYSTEM, type Exec } from "./insn.js";
import * as I from "./exec/int.js";
import * as A from "./exec/amo.js";
import * as S from "./exec/system.js";
import { expandCompressed } from "./rvc.js";
import { decodeFp } from "./fpu/decode.js";
import type { Hart } from "./hart.js";

const illegalExec: Exec = (h: Hart, i: Insn) => h.illegal(i);

function illegal(raw: number, len: number): Insn {
  const ins = new Insn(illegalExec, "illegal", raw, len);
  ins.flags = F_ENDS_BLOCK;
  return ins;
}

const immI = (w: number): number => w >> 20;
const immS = (w: number): number => ((w >> 25) << 5) | ((w >>> 7) & 31);
const immB = (w: number): number =>
  ((w >> 31) << 12) | (((w >>> 7) & 1) << 11) | (((w >>> 25) & 63) << 5) | (((w >>> 8) & 15) << 1);
const immU = (w: number): number => w & 0xfffff000;
const immJ = (w: number): number =>
  ((w >> 31) << 20) | (((w >>> 12) & 255) << 12) | (((w >>> 20) & 1) << 11) | (((w >>> 21) & 1023) << 1);

type Entry = [Exec, string] | undefined;

const LOADS: Entry[] = [
  [I.lb, "lb"], [I.lh, "lh"], [I.lw, "lw"], [I.ld, "ld"],
  [I.lbu, "lbu"], [I.lhu, "lhu"], [I.lwu, "lwu"], undefined,
];
const STORES: Entry[] = [[I.sb, "sb"], [I.sh, "sh"], [I.sw, "sw"], [I.sd, "sd"]];
const BRANCHES: Entry[] = [
  [I.beq, "beq"], [I.bne, "bne"], undefined, undefined,
  [I.blt, "blt"], [I.bge, "bge"], [I.bltu, "bltu"], [I.bgeu, "bgeu"],
];

/** OP (0x33): funct7 -> funct3 -> entry. */
const OP: Record<number, Entry[]> = {
  0x00: [[I.add, "add"], [I.sll, "sll"], [I.slt, "slt"], [I.sltu, "sltu"], [I.xor, "xor"], [I.srl, "srl"], [I.or, "or"], [I.and, "and"]],
  0x20: [[I.sub, "sub"], undefined, undefined, undefined, [I.xnor, "xnor"], [I.sra, "sra"], [I.orn, "orn"], [I.andn, "andn"]],
  0x01: [[I.mul, "mul"], [I.mulh, "mulh"], [I.mulhsu, "mulhsu"], [I.mulhu, "mulhu"], [I.div, "div"], [I.divu, "divu"], [I.rem, "rem"], [I.remu, "remu"]],
  0x10: [undefined, undefined, [I.sh1add, "sh1add"], undefined, [I.sh2add, "sh2add"], undefined, [I.sh3add, "sh3add"], undefined],
  0x05: [undefined, undefined, undefined, undefined, [I.min, "min"], [I.minu, "minu"], [I.max, "max"], [I.maxu, "maxu"]],
  0x30: [undefined, [I.rol, "rol"], undefined, undefined, undefined, [I.ror, "ror"], undefined, undefined],
  0x24: [undefined, [I.bclr, "bclr"], undefined, undefined, undefined, [I.bext, "bext"], undefined, undefined],
  0x34: [undefined, [I.binv, "binv"], undefined, undefined, undefined, undefined, undefined, undefined],
  0x14: [undefined, [I.bset, "bset"], undefined, undefined, undefined, undefined, undefined, undefined],
  0x07: [undefined, undefined, undefined, undefined, undefined, [I.czero_eqz, "czero.eqz"], undefined, [I.czero_nez, "czero.nez"]],
};

/** OP-32 (0x3b): funct7 -> funct3 -> entry. */
const OP32: Record<number, Entry[]> = {
  0x00: [[I.addw, "addw"], [I.sllw, "sllw"], undefined, undefined, undefined, [I.srlw, "srlw"], undefined, undefined],
  0x20: [[I.subw, "subw"], undefined, undefined, undefined, undefined, [I.sraw, "sraw"], undefined, undefined],
  0x01: [[I.mulw, "mulw"], undefined, undefined, undefined, [I.divw, "divw"], [I.divuw, "divuw"], [I.remw, "remw"], [I.remuw, "remuw"]],
  0x04: [[I.add_uw, "add.uw"], undefined, undefined, undefined, undefined, undefined, undefined, undefined],
  0x10: [undefined, undefined, [I.sh1add_uw, "sh1add.uw"], undefined, [I.sh2add_uw, "sh2add.uw"], undefined, [I.sh3add_uw, "sh3add.uw"], undefined],
  0x30: [undefined, [I.rolw, "rolw"], undefined, undefined, undefined, [I.rorw, "rorw"], undefined, undefined],
};

const AMO_W: Record<number, Entry> = {
  0x00: [A.amoadd_w, "amoadd.w"], 0x01: [A.amoswap_w, "amoswap.w"], 0x02: [A.lr_w, "lr.w"], 0x03: [A.sc_w, "sc.w"],
  0x04: [A.amoxor_w, "amoxor.w"], 0x08: [A.amoor_w, "amoor.w"], 0x0c: [A.amoand_w, "amoand.w"],
  0x10: [A.amomin_w, "amomin.w"], 0x14: [A.amomax_w, "amomax.w"], 0x18: [A.amominu_w, "amominu.w"], 0x1c: [A.amomaxu_w, "amomaxu.w"],
};
const AMO_D: Record<number, Entry> = {
  0x00: [A.amoadd_d, "amoadd.d"], 0x01: [A.amoswap_d, "amoswap.d"], 0x02: [A.lr_d, "lr.d"], 0x03: [A.sc_d, "sc.d"],
  0x04: [A.amoxor_d, "amoxor.d"], 0x08: [A.amoor_d, "amoor.d"], 0x0c: [A.amoand_d, "amoand.d"],
  0x10: [A.amomin_d, "amomin.d"], 0x14: [A.amomax_d, "amomax.d"], 0x18: [A.amominu_d, "amominu.d"], 0x1c: [A.amomaxu_d, "amomaxu.d"],
};

/** OP-IMM funct3=1 and funct3=5 with a 6-bit shamt: funct6 / funct12 selects the operation. */
function opImmShift(w: number): Entry {
  const f3 = (w >>> 12) & 7;
  const f6 = w >>> 26;
  const f12 = w >>> 20;
  if (f3 === 1) {
    if (f6 === 0x00) return [I.slli, "slli"];
    if (f6 === 0x12) return [I.bclri, "bclri"];
    if (f6 === 0x1a) return [I.binvi, "binvi"];
    if (f6 === 0x0a) return [I.bseti, "bseti"];
    if (f12 === 0x600) return [I.clz, "clz"];
    if (f12 === 0x601) return [I.ctz, "ctz"];
    if (f12 === 0x602) return [I.cpop, "cpop"];
    if (f12 === 0x604) return [I.sext_b, "sext.b"];
    if (f12 === 0x605) return [I.sext_h, "sext.h"];
    return undefined;
  }
  if (f6 === 0x00) return [I.srli, "srli"];
  if (f6 === 0x10) return [I.srai, "srai"];
  if (f6 === 0x18) return [I.rori, "rori"];
  if (f6 === 0x12) return [I.bexti, "bexti"];
  if (f12 === 0x287) return [I.orc_b, "orc.b"];
  if (f12 === 0x6b8) return [I.rev8, "rev8"];
  return undefined;
}

function opImm32(w: number): Entry {
  const f3 = (w >>> 12) & 7;
  const f7 = w >>> 25;
  const f12 = w >>> 20;
  if (f3 === 0) return [I.addiw, "addiw"];
  if (f3 === 1) {
    if (f7 === 0x00) return [I.slliw, "slliw"];
    if (w >>> 26 === 0x02) return [I.slli_uw, "slli.uw"];
    if (f12 === 0x600) return [I.clzw, "clzw"];
    if (f12 === 0x601) return [I.ctzw, "ctzw"];
    if (f12 === 0x602) return [I.cpopw, "cpopw"];
    return undefined;
  }
  if (f3 === 5) {
    if (f7 === 0x00) return [I.srliw, "srliw"];
    if (f7 === 0x20) return [I.sraiw, "sraiw"];
    if (f7 === 0x30) return [I.roriw, "roriw"];
  }
  return undefined;
}

function system(w: number): Entry {
  const f3 = (w >>> 12) & 7;
  if (f3 !== 0) {
    return ([
      undefined, [S.csrrw, "csrrw"], [S.csrrs, "csrrs"], [S.csrrc, "csrrc"],
      undefined, [S.csrrwi, "csrrwi"], [S.csrrsi, "csrrsi"], [S.csrrci, "csrrci"],
    ] as Entry[])[f3];
  }
  const rd = (w >>> 7) & 31;
  const rs1 = (w >>> 15) & 31;
  if (w >>> 25 === 0x09 && rd === 0) return [S.sfence_vma, "sfence.vma"];
  if (rd !== 0 || rs1 !== 0) return undefined;
  switch (w >>> 20) {
    case 0x000: return [S.ecall, "ecall"];
    case 0x001: return [S.ebreak, "ebreak"];
    case 0x302: return [S.mret, "mret"];
    case 0x102: return [S.sret, "sret"];
    case 0x105: return [S.wfi, "wfi"];
  }
  return undefined;
}

function miscMem(w: number): Entry {
  const f3 = (w >>> 12) & 7;
  if (f3 === 0) return [S.fence, "fence"];
  if (f3 === 1) return [S.fence_i, "fence.i"];
  if (f3 === 2 && ((w >>> 7) & 31) === 0) {
    switch (w >>> 20) {
      case 0: return [S.cbo_inval, "cbo.inval"];
      case 1: return [S.cbo_clean, "cbo.clean"];
      case 2: return [S.cbo_flush, "cbo.flush"];
      case 4: return [S.cbo_zero, "cbo.zero"];
    }
  }
  return undefined;
}

/**
 * Decoded instructions by their bits. An Insn never changes once decoded,
 * so every block holding the same instruction shares one: a Debian boot
 * decodes its code into far fewer objects, which the garbage collector of
 * the vCPU's thread no longer copies from the young generation one by one.
 * Bounded (a guest generating code could otherwise grow it without end):
 * emptied when it holds INTERNED_MAX.
 */
const interned = new Map<number, Insn>();
const INTERNED_MAX = 1 << 18;

/** Decodes one instruction (32-bit word, or a 16-bit parcel with low bits != 3). */
export function decode(raw: number): Insn {
  const key = (raw & 3) !== 3 ? raw & 0xffff : raw | 0;
  let ins = interned.get(key);
  if (ins === undefined) {
    if (interned.size >= INTERNED_MAX) interned.clear();
    ins = decodeFresh(raw);
    interned.set(key, ins);
  }
  return ins;
}

function decodeFresh(raw: number): Insn {
  if ((raw & 3) !== 3) {
    const parcel = raw & 0xffff;
    const w = expandCompressed(parcel);
    if (w === 0) return illegal(parcel, 2);
    const ins = decode32(w, 2);
    ins.raw = parcel;
    return ins;
  }
  return decode32(raw >>> 0, 4);
}

/**
 * Decodes a 32-bit instruction whose halves lie in two pages: it always ends
 * its block, which holds nothing else (Hart.buildBlock; the translator's
 * encoder decodes such a block again the same way).
 */
export function decodeStraddling(raw: number): Insn {
  const ins = decodeFresh(raw); // its own object: the flag must not reach the shared one
  ins.flags |= F_ENDS_BLOCK;
  return ins;
}

function decode32(w: number, len: number): Insn {
  const opcode = w & 0x7f;
  const rd = (w >>> 7) & 31;
  const f3 = (w >>> 12) & 7;
  const rs1 = (w >>> 15) & 31;
  const rs2 = (w >>> 20) & 31;
  let e: Entry;
  let imm = 0;
  let flags = 0;
  let intRd = true;
  switch (opcode) {
    case 0x03: e = LOADS[f3]; imm = immI(w); break;
    case 0x0f: e = miscMem(w); imm = immI(w); flags = e !== undefined && f3 === 1 ? F_SYSTEM : 0; intRd = false; break;
    case 0x13:
      if (f3 === 1 || f3 === 5) {
        e = opImmShift(w);
        imm = (w >>> 20) & 63;
      } else {
        e = ([[I.addi, "addi"], undefined, [I.slti, "slti"], [I.sltiu, "sltiu"], [I.xori, "xori"], undefined, [I.ori, "ori"], [I.andi, "andi"]] as Entry[])[f3];
        imm = immI(w);
      }
      break;
    case 0x17: e = [I.auipc, "auipc"]; imm = immU(w); break;
    case 0x1b: e = opImm32(w); imm = f3 === 0 ? immI(w) : (w >>> 20) & (w >>> 26 === 0x02 ? 63 : 31); break;
    case 0x23: e = STORES[f3]; imm = immS(w); intRd = false; break;
    case 0x2f: {
      const f5 = w >>> 27;
      e = f3 === 2 ? AMO_W[f5] : f3 === 3 ? AMO_D[f5] : undefined;
      if (f5 === 0x02 && rs2 !== 0) e = undefined; // LR has rs2 = 0
      imm = 0;
      break;
    }
    case 0x33: {
      const f7 = w >>> 25;
      e = OP[f7]?.[f3];
      if (f7 === 0x04 && f3 === 4 && rs2 === 0) e = undefined; // zext.h is OP-32 on RV64
      break;
    }
    case 0x37: e = [I.lui, "lui"]; imm = immU(w); break;
    case 0x3b: {
      const f7 = w >>> 25;
      if (f7 === 0x04 && f3 === 4 && rs2 === 0) e = [I.zext_h, "zext.h"];
      else e = OP32[f7]?.[f3];
      break;
    }
    case 0x63: e = BRANCHES[f3]; imm = immB(w); flags = F_ENDS_BLOCK; intRd = false; break;
    case 0x67: e = f3 === 0 ? [I.jalr, "jalr"] : undefined; imm = immI(w); flags = F_ENDS_BLOCK; break;
    case 0x6f: e = [I.jal, "jal"]; imm = immJ(w); flags = F_ENDS_BLOCK; break;
    case 0x73: e = system(w); imm = w >>> 20; flags = F_SYSTEM | F_ENDS_BLOCK; break;
    case 0x07: case 0x27: case 0x43: case 0x47: case 0x4b: case 0x4f: case 0x53: {
      const fp = decodeFp(w);
      if (fp === undefined) return illegal(w, len);
      fp.len = len;
      return fp;
    }
    default: e = undefined;
  }
  if (e === undefined) return illegal(w, len);
  const ins = new Insn(e[0], e[1], w, len);
  ins.rd = intRd && rd === 0 ? 32 : rd;
  ins.rs1 = rs1;
  ins.rs2 = rs2;
  ins.imm = imm;
  ins.flags = flags;
  if (opcode === 0x73) ins.aux = w >>> 20; // CSR number
  return ins;
}
