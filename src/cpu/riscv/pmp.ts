import type { Hart } from "./hart.js";
import { Priv } from "./priv.js";
import { Access } from "./trap.js";
import { flushTranslations } from "./mmu.js";

// pmpcfg fields (Privileged ISA §3.7.1).
const PMP_R = 1;
const PMP_W = 2;
const PMP_X = 4;
const PMP_A = 0x18;
const PMP_TOR = 0x08;
const PMP_NA4 = 0x10;
const PMP_NAPOT = 0x18;
const PMP_L = 0x80;

/** Recomputes the byte range of every entry after a pmpcfg/pmpaddr write. */
export function updatePmpRanges(h: Hart): void {
  for (let i = 0; i < 16; i++) {
    const a = h.pmpcfg[i] & PMP_A;
    const addr = h.pmpaddr[i];
    let lo = 0;
    let hi = 0;
    if (a === PMP_TOR) {
      lo = i === 0 ? 0 : Number(h.pmpaddr[i - 1] * 4n);
      hi = Number(addr * 4n);
    } else if (a === PMP_NA4) {
      lo = Number(addr * 4n);
      hi = lo + 4;
    } else if (a === PMP_NAPOT) {
      // Trailing ones of pmpaddr give the size: 2^(ones + 3) bytes.
      let ones = 0n;
      while ((addr >> ones) & 1n) ones++;
      const size = 1n << (ones + 3n);
      const base = ((addr * 4n) / size) * size;
      lo = Number(base);
      hi = Number(base + size);
    }
    h.pmpLo[i] = lo;
    h.pmpHi[i] = hi;
  }
  flushTranslations(h);
}

/**
 * PMP check of [pa, pa + len) for an access at privilege `priv` (§3.7.1):
 * the lowest-numbered entry matching any byte decides, and must cover all of
 * them. M-mode is checked only against locked entries; S/U fail when no entry
 * matches.
 */
export function pmpAllows(h: Hart, pa: number, len: number, access: Access, priv: Priv): boolean {
  const end = pa + len;
  for (let i = 0; i < 16; i++) {
    const cfg = h.pmpcfg[i];
    if ((cfg & PMP_A) === 0) continue;
    const lo = h.pmpLo[i];
    const hi = h.pmpHi[i];
    if (end <= lo || pa >= hi) continue;
    if (pa < lo || end > hi) return false; // partial match
    if (priv === Priv.M && (cfg & PMP_L) === 0) return true;
    const bit = access === Access.Read ? PMP_R : access === Access.Write ? PMP_W : PMP_X;
    return (cfg & bit) !== 0;
  }
  return priv === Priv.M;
}
