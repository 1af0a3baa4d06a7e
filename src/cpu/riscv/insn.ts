import type { Hart } from "./hart.js";

/** Semantic function of one instruction: reads and writes hart state. */
export type Exec = (h: Hart, i: Insn) => void;

/** Instruction ends a translation block (control transfer or monitor entry). */
export const F_ENDS_BLOCK = 1;
/** Instruction may change translation, privilege or interrupt state: the run loop re-checks after it. */
export const F_SYSTEM = 2;

/**
 * One decoded instruction, produced once by `decode()` and cached per
 * guest-physical page. Compressed instructions are expanded to their 32-bit
 * equivalent, so every engine (interpreter now, translator later) sees one form.
 *
 * Register fields are architectural numbers, except that an integer
 * destination x0 is redirected to the sink register 32, so semantic functions
 * never test for x0.
 */
export class Insn {
  exec: Exec;
  name: string;
  /** Raw instruction bits as fetched (16-bit for compressed): mtval for illegal instruction. */
  raw: number;
  /** Length in bytes: 2 or 4. */
  len: number;
  rd = 0;
  rs1 = 0;
  rs2 = 0;
  rs3 = 0;
  /** Sign-extended immediate (fits in int32 for every RISC-V format). */
  imm = 0;
  /** FP rounding mode field, CSR number, or fence/AMO ordering bits depending on the instruction. */
  aux = 0;
  flags = 0;

  constructor(exec: Exec, name: string, raw: number, len: number) {
    this.exec = exec;
    this.name = name;
    this.raw = raw;
    this.len = len;
  }
}
