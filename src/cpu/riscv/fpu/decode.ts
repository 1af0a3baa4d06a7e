/**
 * Decoding of the F and D encodings (LOAD-FP, STORE-FP, the four fused
 * multiply-add opcodes and OP-FP; Unprivileged ISA ch. 20-21, opcode map
 * ch. 34). Returns undefined for any encoding that is not an instruction, so
 * the main decoder turns it into illegal-instruction. A static rounding mode
 * of 5 or 6 is reserved and decodes as illegal; the dynamic mode is checked
 * against frm when the instruction executes.
 */
import { Insn, type Exec } from "../insn.js";
import * as X from "./exec.js";

type Entry = [Exec, string];

/** fmt field (bits 26:25): 0 = S, 1 = D. */
const FMT_S = 0;
const FMT_D = 1;

const FUSED: Record<number, [Entry, Entry]> = {
  0x43: [[X.fmadd_s, "fmadd.s"], [X.fmadd_d, "fmadd.d"]],
  0x47: [[X.fmsub_s, "fmsub.s"], [X.fmsub_d, "fmsub.d"]],
  0x4b: [[X.fnmsub_s, "fnmsub.s"], [X.fnmsub_d, "fnmsub.d"]],
  0x4f: [[X.fnmadd_s, "fnmadd.s"], [X.fnmadd_d, "fnmadd.d"]],
};

/** OP-FP arithmetic with a rounding mode: funct5 -> [S, D]. */
const ARITH: Record<number, [Entry, Entry]> = {
  0x00: [[X.fadd_s, "fadd.s"], [X.fadd_d, "fadd.d"]],
  0x01: [[X.fsub_s, "fsub.s"], [X.fsub_d, "fsub.d"]],
  0x02: [[X.fmul_s, "fmul.s"], [X.fmul_d, "fmul.d"]],
  0x03: [[X.fdiv_s, "fdiv.s"], [X.fdiv_d, "fdiv.d"]],
};

const SGNJ: [Entry, Entry][] = [
  [[X.fsgnj_s, "fsgnj.s"], [X.fsgnj_d, "fsgnj.d"]],
  [[X.fsgnjn_s, "fsgnjn.s"], [X.fsgnjn_d, "fsgnjn.d"]],
  [[X.fsgnjx_s, "fsgnjx.s"], [X.fsgnjx_d, "fsgnjx.d"]],
];
const MINMAX: [Entry, Entry][] = [
  [[X.fmin_s, "fmin.s"], [X.fmin_d, "fmin.d"]],
  [[X.fmax_s, "fmax.s"], [X.fmax_d, "fmax.d"]],
];
/** Compare, indexed by funct3: 0 = fle, 1 = flt, 2 = feq. */
const CMP: [Entry, Entry][] = [
  [[X.fle_s, "fle.s"], [X.fle_d, "fle.d"]],
  [[X.flt_s, "flt.s"], [X.flt_d, "flt.d"]],
  [[X.feq_s, "feq.s"], [X.feq_d, "feq.d"]],
];
/** fcvt.{w,wu,l,lu}.fmt, indexed by rs2. */
const TO_INT: [Entry, Entry][] = [
  [[X.fcvt_w_s, "fcvt.w.s"], [X.fcvt_w_d, "fcvt.w.d"]],
  [[X.fcvt_wu_s, "fcvt.wu.s"], [X.fcvt_wu_d, "fcvt.wu.d"]],
  [[X.fcvt_l_s, "fcvt.l.s"], [X.fcvt_l_d, "fcvt.l.d"]],
  [[X.fcvt_lu_s, "fcvt.lu.s"], [X.fcvt_lu_d, "fcvt.lu.d"]],
];
/** fcvt.fmt.{w,wu,l,lu}, indexed by rs2. */
const FROM_INT: [Entry, Entry][] = [
  [[X.fcvt_s_w, "fcvt.s.w"], [X.fcvt_d_w, "fcvt.d.w"]],
  [[X.fcvt_s_wu, "fcvt.s.wu"], [X.fcvt_d_wu, "fcvt.d.wu"]],
  [[X.fcvt_s_l, "fcvt.s.l"], [X.fcvt_d_l, "fcvt.d.l"]],
  [[X.fcvt_s_lu, "fcvt.s.lu"], [X.fcvt_d_lu, "fcvt.d.lu"]],
];

/** Result of OP-FP decoding: the entry, whether rd is an x register, whether rm is a rounding mode. */
interface OpFp {
  e: Entry | undefined;
  intRd: boolean;
  rounds: boolean;
}

function opFp(w: number, fmt: number): OpFp {
  const f5 = w >>> 27;
  const rm = (w >>> 12) & 7;
  const rs2 = (w >>> 20) & 31;
  const none: OpFp = { e: undefined, intRd: false, rounds: false };
  if (fmt > FMT_D) return none;
  switch (f5) {
    case 0x00: case 0x01: case 0x02: case 0x03:
      return { e: ARITH[f5][fmt], intRd: false, rounds: true };
    case 0x0b:
      if (rs2 !== 0) return none;
      return { e: fmt === FMT_S ? [X.fsqrt_s, "fsqrt.s"] : [X.fsqrt_d, "fsqrt.d"], intRd: false, rounds: true };
    case 0x04:
      return { e: SGNJ[rm]?.[fmt], intRd: false, rounds: false };
    case 0x05:
      return { e: MINMAX[rm]?.[fmt], intRd: false, rounds: false };
    case 0x08:
      if (fmt === FMT_S && rs2 === 1) return { e: [X.fcvt_s_d, "fcvt.s.d"], intRd: false, rounds: true };
      if (fmt === FMT_D && rs2 === 0) return { e: [X.fcvt_d_s, "fcvt.d.s"], intRd: false, rounds: true };
      return none;
    case 0x14:
      return { e: CMP[rm]?.[fmt], intRd: true, rounds: false };
    case 0x18:
      return { e: TO_INT[rs2]?.[fmt], intRd: true, rounds: true };
    case 0x1a:
      return { e: FROM_INT[rs2]?.[fmt], intRd: false, rounds: true };
    case 0x1c:
      if (rs2 !== 0) return none;
      if (rm === 0) return { e: fmt === FMT_S ? [X.fmv_x_w, "fmv.x.w"] : [X.fmv_x_d, "fmv.x.d"], intRd: true, rounds: false };
      if (rm === 1) return { e: fmt === FMT_S ? [X.fclass_s, "fclass.s"] : [X.fclass_d, "fclass.d"], intRd: true, rounds: false };
      return none;
    case 0x1e:
      if (rs2 !== 0 || rm !== 0) return none;
      return { e: fmt === FMT_S ? [X.fmv_w_x, "fmv.w.x"] : [X.fmv_d_x, "fmv.d.x"], intRd: false, rounds: false };
  }
  return none;
}

/** Decodes a 32-bit FP instruction word; undefined when it is not one. */
export function decodeFp(w: number): Insn | undefined {
  const opcode = w & 0x7f;
  const rd = (w >>> 7) & 31;
  const f3 = (w >>> 12) & 7;
  const fmt = (w >>> 25) & 3;
  let e: Entry | undefined;
  let imm = 0;
  let intRd = false;
  let rounds = false;
  switch (opcode) {
    case 0x07:
      e = f3 === 2 ? [X.flw, "flw"] : f3 === 3 ? [X.fld, "fld"] : undefined;
      imm = w >> 20;
      break;
    case 0x27:
      e = f3 === 2 ? [X.fsw, "fsw"] : f3 === 3 ? [X.fsd, "fsd"] : undefined;
      imm = ((w >> 25) << 5) | ((w >>> 7) & 31);
      break;
    case 0x43: case 0x47: case 0x4b: case 0x4f:
      e = fmt <= FMT_D ? FUSED[opcode][fmt] : undefined;
      rounds = true;
      break;
    case 0x53: {
      const d = opFp(w, fmt);
      e = d.e;
      intRd = d.intRd;
      rounds = d.rounds;
      break;
    }
  }
  if (e === undefined) return undefined;
  if (rounds && (f3 === 5 || f3 === 6)) return undefined;
  const ins = new Insn(e[0], e[1], w, 4);
  ins.rd = intRd && rd === 0 ? 32 : rd;
  ins.rs1 = (w >>> 15) & 31;
  ins.rs2 = (w >>> 20) & 31;
  ins.rs3 = w >>> 27;
  ins.imm = imm;
  ins.aux = f3;
  return ins;
}
