/**
 * The C extension (Unprivileged ISA ch. 16): expands a 16-bit instruction to
 * the 32-bit instruction it is defined to be equivalent to, so the rest of the
 * decoder and every engine see one form. Returns 0 for reserved or illegal
 * encodings (0 is not a valid 32-bit instruction either).
 */

const r = (f7: number, rs2: number, rs1: number, f3: number, rd: number, op: number): number =>
  ((f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op) >>> 0;
const i = (imm: number, rs1: number, f3: number, rd: number, op: number): number =>
  (((imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op) >>> 0;
const s = (imm: number, rs2: number, rs1: number, f3: number, op: number): number =>
  ((((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((imm & 31) << 7) | op) >>> 0;
const b = (imm: number, rs2: number, rs1: number, f3: number): number =>
  ((((imm >> 12) & 1) << 31) | (((imm >> 5) & 63) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) |
    (((imm >> 1) & 15) << 8) | (((imm >> 11) & 1) << 7) | 0x63) >>> 0;
const j = (imm: number, rd: number): number =>
  ((((imm >> 20) & 1) << 31) | (((imm >> 1) & 0x3ff) << 21) | (((imm >> 11) & 1) << 20) |
    (((imm >> 12) & 0xff) << 12) | (rd << 7) | 0x6f) >>> 0;
const u = (imm: number, rd: number, op: number): number => ((imm & 0xfffff000) | (rd << 7) | op) >>> 0;

const bit = (x: number, n: number): number => (x >>> n) & 1;
/** Sign-extends the low `bits` bits of x. */
const sext = (x: number, bits: number): number => (x << (32 - bits)) >> (32 - bits);

export function expandCompressed(c: number): number {
  const op = c & 3;
  const f3 = c >>> 13;
  const rd = (c >>> 7) & 31;
  const rs2 = (c >>> 2) & 31;
  const rdp = 8 + ((c >>> 2) & 7); // rd' / rs2'
  const rs1p = 8 + ((c >>> 7) & 7); // rs1' / rd'
  if (op === 0) {
    // CL/CS offsets: ld/sd/fld/fsd scale by 8, lw/sw by 4.
    const off8 = (((c >>> 10) & 7) << 3) | (((c >>> 5) & 3) << 6);
    const off4 = (((c >>> 10) & 7) << 3) | (bit(c, 6) << 2) | (bit(c, 5) << 6);
    switch (f3) {
      case 0: {
        const nz = (((c >>> 11) & 3) << 4) | (((c >>> 7) & 15) << 6) | (bit(c, 6) << 2) | (bit(c, 5) << 3);
        return nz === 0 ? 0 : i(nz, 2, 0, rdp, 0x13); // c.addi4spn
      }
      case 1: return i(off8, rs1p, 3, rdp, 0x07); // c.fld
      case 2: return i(off4, rs1p, 2, rdp, 0x03); // c.lw
      case 3: return i(off8, rs1p, 3, rdp, 0x03); // c.ld
      case 5: return s(off8, rdp, rs1p, 3, 0x27); // c.fsd
      case 6: return s(off4, rdp, rs1p, 2, 0x23); // c.sw
      case 7: return s(off8, rdp, rs1p, 3, 0x23); // c.sd
    }
    return 0;
  }
  if (op === 1) {
    const imm6 = sext((bit(c, 12) << 5) | rs2, 6);
    switch (f3) {
      case 0: return i(imm6, rd, 0, rd, 0x13); // c.addi / c.nop (hints included)
      case 1: return rd === 0 ? 0 : i(imm6, rd, 0, rd, 0x1b); // c.addiw
      case 2: return i(imm6, 0, 0, rd, 0x13); // c.li
      case 3:
        if (rd === 2) {
          const nz = sext((bit(c, 12) << 9) | (bit(c, 6) << 4) | (bit(c, 5) << 6) | (((c >>> 3) & 3) << 7) | (bit(c, 2) << 5), 10);
          return nz === 0 ? 0 : i(nz, 2, 0, 2, 0x13); // c.addi16sp
        }
        return imm6 === 0 ? 0 : u(imm6 << 12, rd, 0x37); // c.lui
      case 4: {
        const f2 = (c >>> 10) & 3;
        const sh = (bit(c, 12) << 5) | rs2;
        if (f2 === 0) return r(0x00 | (sh >> 5), sh & 31, rs1p, 5, rs1p, 0x13); // c.srli
        if (f2 === 1) return r(0x20 | (sh >> 5), sh & 31, rs1p, 5, rs1p, 0x13); // c.srai
        if (f2 === 2) return i(imm6, rs1p, 7, rs1p, 0x13); // c.andi
        const f = (c >>> 5) & 3;
        if (bit(c, 12) === 0) {
          return [
            r(0x20, rdp, rs1p, 0, rs1p, 0x33), // c.sub
            r(0x00, rdp, rs1p, 4, rs1p, 0x33), // c.xor
            r(0x00, rdp, rs1p, 6, rs1p, 0x33), // c.or
            r(0x00, rdp, rs1p, 7, rs1p, 0x33), // c.and
          ][f];
        }
        if (f === 0) return r(0x20, rdp, rs1p, 0, rs1p, 0x3b); // c.subw
        if (f === 1) return r(0x00, rdp, rs1p, 0, rs1p, 0x3b); // c.addw
        return 0;
      }
      case 5: {
        const off = sext(
          (bit(c, 12) << 11) | (bit(c, 11) << 4) | (((c >>> 9) & 3) << 8) | (bit(c, 8) << 10) |
            (bit(c, 7) << 6) | (bit(c, 6) << 7) | (((c >>> 3) & 7) << 1) | (bit(c, 2) << 5),
          12,
        );
        return j(off, 0); // c.j
      }
      default: {
        const off = sext(
          (bit(c, 12) << 8) | (((c >>> 10) & 3) << 3) | (((c >>> 5) & 3) << 6) | (((c >>> 3) & 3) << 1) | (bit(c, 2) << 5),
          9,
        );
        return b(off, 0, rs1p, f3 === 6 ? 0 : 1); // c.beqz / c.bnez
      }
    }
  }
  if (op === 2) {
    const sh = (bit(c, 12) << 5) | rs2;
    const ldsp = (bit(c, 12) << 5) | (((c >>> 5) & 3) << 3) | (((c >>> 2) & 7) << 6);
    const lwsp = (bit(c, 12) << 5) | (((c >>> 4) & 7) << 2) | (((c >>> 2) & 3) << 6);
    const sdsp = (((c >>> 10) & 7) << 3) | (((c >>> 7) & 7) << 6);
    const swsp = (((c >>> 9) & 15) << 2) | (((c >>> 7) & 3) << 6);
    switch (f3) {
      case 0: return r(sh >> 5, sh & 31, rd, 1, rd, 0x13); // c.slli
      case 1: return i(ldsp, 2, 3, rd, 0x07); // c.fldsp
      case 2: return rd === 0 ? 0 : i(lwsp, 2, 2, rd, 0x03); // c.lwsp
      case 3: return rd === 0 ? 0 : i(ldsp, 2, 3, rd, 0x03); // c.ldsp
      case 4:
        if (bit(c, 12) === 0) {
          if (rs2 === 0) return rd === 0 ? 0 : i(0, rd, 0, 0, 0x67); // c.jr
          return r(0, rs2, 0, 0, rd, 0x33); // c.mv
        }
        if (rs2 === 0) return rd === 0 ? 0x00100073 : i(0, rd, 0, 1, 0x67); // c.ebreak / c.jalr
        return r(0, rs2, rd, 0, rd, 0x33); // c.add
      case 5: return s(sdsp, rs2, 2, 3, 0x27); // c.fsdsp
      case 6: return s(swsp, rs2, 2, 2, 0x23); // c.swsp
      default: return s(sdsp, rs2, 2, 3, 0x23); // c.sdsp
    }
  }
  return 0;
}
