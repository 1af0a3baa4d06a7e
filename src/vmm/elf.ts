/**
 * ELF64 RISC-V executable parsing (System V gABI, RISC-V psABI): loadable
 * segments by physical address, the entry point, and the symbol table (for
 * HTIF's tohost/fromhost). Every malformed field is a one-line `ElfError`.
 */
export class ElfError extends Error {
  override name = "ElfError";
}

export interface ElfSegment {
  paddr: number;
  fileBytes: Uint8Array;
  memSize: number;
}

export interface ElfImage {
  entry: number;
  segments: ElfSegment[];
  symbols: Map<string, number>;
}

const EM_RISCV = 243;
const PT_LOAD = 1;
const SHT_SYMTAB = 2;

export function parseElf(buf: Uint8Array, what = "file"): ElfImage {
  if (buf.length < 64 || buf[0] !== 0x7f || buf[1] !== 0x45 || buf[2] !== 0x4c || buf[3] !== 0x46) {
    throw new ElfError(`${what} is not an ELF file`);
  }
  if (buf[4] !== 2) throw new ElfError(`${what} is a 32-bit ELF; tsxi runs 64-bit RISC-V (ELFCLASS64) programs`);
  if (buf[5] !== 1) throw new ElfError(`${what} is a big-endian ELF; RISC-V is little-endian`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const u16 = (o: number): number => dv.getUint16(o, true);
  const u32 = (o: number): number => dv.getUint32(o, true);
  const u64 = (o: number): number => {
    const v = dv.getBigUint64(o, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ElfError(`${what}: value 0x${v.toString(16)} at offset ${o} is out of range`);
    return Number(v);
  };
  const machine = u16(18);
  if (machine !== EM_RISCV) throw new ElfError(`${what} is an ELF for machine ${machine}, not RISC-V (${EM_RISCV})`);
  const type = u16(16);
  if (type !== 2 && type !== 3) throw new ElfError(`${what} is not an executable ELF (e_type ${type})`);
  const entry = u64(24);
  const phoff = u64(32);
  const shoff = u64(40);
  const phentsize = u16(54);
  const phnum = u16(56);
  const shentsize = u16(58);
  const shnum = u16(60);
  const need = (off: number, len: number, field: string): void => {
    if (off + len > buf.length) throw new ElfError(`${what}: ${field} lies beyond the end of the file (truncated ELF?)`);
  };
  if (phnum > 0 && phentsize < 56) throw new ElfError(`${what}: program header entries are too small (${phentsize})`);
  need(phoff, phnum * phentsize, "program header table");
  const segments: ElfSegment[] = [];
  for (let k = 0; k < phnum; k++) {
    const p = phoff + k * phentsize;
    if (u32(p) !== PT_LOAD) continue;
    const offset = u64(p + 8);
    const paddr = u64(p + 24);
    const filesz = u64(p + 32);
    const memsz = u64(p + 40);
    if (filesz > memsz) throw new ElfError(`${what}: segment ${k} has p_filesz > p_memsz`);
    need(offset, filesz, `segment ${k}`);
    segments.push({ paddr, fileBytes: buf.subarray(offset, offset + filesz), memSize: memsz });
  }
  if (segments.length === 0) throw new ElfError(`${what} has no loadable segments`);

  const symbols = new Map<string, number>();
  if (shnum > 0 && shoff > 0) {
    if (shentsize < 64) throw new ElfError(`${what}: section header entries are too small (${shentsize})`);
    need(shoff, shnum * shentsize, "section header table");
    for (let k = 0; k < shnum; k++) {
      const s = shoff + k * shentsize;
      if (u32(s + 4) !== SHT_SYMTAB) continue;
      const off = u64(s + 24);
      const size = u64(s + 32);
      const link = u32(s + 40);
      const entsize = u64(s + 56) || 24;
      if (link >= shnum) throw new ElfError(`${what}: symbol table links to a missing string table`);
      const strS = shoff + link * shentsize;
      const strOff = u64(strS + 24);
      const strSize = u64(strS + 32);
      need(off, size, "symbol table");
      need(strOff, strSize, "string table");
      for (let e = off; e + 24 <= off + size; e += entsize) {
        const nameOff = u32(e);
        if (nameOff === 0 || nameOff >= strSize) continue;
        let end = strOff + nameOff;
        while (end < strOff + strSize && buf[end] !== 0) end++;
        const name = new TextDecoder().decode(buf.subarray(strOff + nameOff, end));
        symbols.set(name, u64(e + 8));
      }
    }
  }
  return { entry, segments, symbols };
}
