import type { Hart } from "./hart.js";
import { Priv } from "./priv.js";
import { Access, Cause } from "./trap.js";
import { pmpAllows } from "./pmp.js";
import { MSTATUS_MXR, MSTATUS_SUM } from "./csr.js";
import { vpnTag } from "./tlb.js";

// PTE bits (Privileged ISA §10.3.1).
const PTE_V = 1;
const PTE_R = 2;
const PTE_W = 4;
const PTE_X = 8;
const PTE_U = 16;
const PTE_A = 64;
const PTE_D = 128;

const SATP_SV39 = 8;
/** Pages covered by a leaf at each level: 512^level (a table, not `**`, which V8 leaves to Math.pow). */
const LEAF_PAGES = [1, 512, 512 * 512, 512 * 512 * 512];
const TWO32 = 4294967296;

function pageFault(h: Hart, access: Access, lo: number, hi: number): never {
  const cause = access === Access.Exec ? Cause.InsnPageFault : access === Access.Read ? Cause.LoadPageFault : Cause.StorePageFault;
  return h.raise(cause, lo, hi);
}

function accessFault(h: Hart, access: Access, lo: number, hi: number): never {
  const cause = access === Access.Exec ? Cause.InsnAccessFault : access === Access.Read ? Cause.LoadAccessFault : Cause.StoreAccessFault;
  return h.raise(cause, lo, hi);
}

/**
 * Translates the virtual address (hi:lo) for `access` at privilege `priv`
 * (already adjusted for MPRV) and returns the physical address. Implements
 * Sv39 and Sv48 walks (§10.3.2, §10.4, §10.5) with hardware A/D updates done
 * atomically on the PTE, superpages, and every page-fault cause. PTE reads are
 * PMP-checked as S-mode accesses; a walk that leaves RAM is an access fault.
 */
export function translate(h: Hart, lo: number, hi: number, access: Access, priv: Priv): number {
  if (priv === Priv.M || h.satpMode === 0) {
    if (hi < 0 || hi >= 1 << 24) accessFault(h, access, lo, hi); // beyond the 56-bit physical space
    return hi * TWO32 + (lo >>> 0);
  }
  const levels = h.satpMode === SATP_SV39 ? 3 : 4;
  // The address must be sign-extended from its top translated bit.
  if (h.satpMode === SATP_SV39 ? (hi << 25) >> 25 !== hi : (hi << 16) >> 16 !== hi) pageFault(h, access, lo, hi);

  const mem = h.mem;
  const i32 = h.i32;
  for (;;) {
    let table = h.satpPpn * 4096;
    for (let level = levels - 1; level >= 0; level--) {
      const vpn = level === 0 ? (lo >>> 12) & 511 : level === 1 ? (lo >>> 21) & 511 : level === 2 ? ((lo >>> 30) | (hi << 2)) & 511 : (hi >>> 7) & 511;
      const pteAddr = table + vpn * 8;
      const pageOff = mem.machinePageOffset(pteAddr - (pteAddr & 4095));
      if (pageOff < 0 || !pmpAllows(h, pteAddr, 8, Access.Read, Priv.S)) accessFault(h, access, lo, hi);
      const idx = (pageOff + (pteAddr & 4095)) >>> 2;
      // Plain reads: aligned 32-bit halves are never torn, and the A/D update below is a compare-and-swap.
      const pteLo = i32[idx];
      const pteHi = i32[idx + 1];
      if ((pteLo & PTE_V) === 0 || (pteLo & (PTE_R | PTE_W)) === PTE_W || pteHi >>> 22 !== 0) pageFault(h, access, lo, hi);
      const ppn = (pteHi & 0x3fffff) * 4194304 + (pteLo >>> 10);
      if ((pteLo & (PTE_R | PTE_X)) === 0) {
        if (level === 0) pageFault(h, access, lo, hi);
        table = ppn * 4096;
        continue;
      }
      // Leaf: permissions.
      if (priv === Priv.U) {
        if ((pteLo & PTE_U) === 0) pageFault(h, access, lo, hi);
      } else if ((pteLo & PTE_U) !== 0 && (access === Access.Exec || (h.mstatus & MSTATUS_SUM) === 0)) {
        pageFault(h, access, lo, hi);
      }
      if (access === Access.Exec) {
        if ((pteLo & PTE_X) === 0) pageFault(h, access, lo, hi);
      } else if (access === Access.Read) {
        if ((pteLo & PTE_R) === 0 && ((h.mstatus & MSTATUS_MXR) === 0 || (pteLo & PTE_X) === 0)) pageFault(h, access, lo, hi);
      } else if ((pteLo & PTE_W) === 0) {
        pageFault(h, access, lo, hi);
      }
      if (ppn % LEAF_PAGES[level] !== 0) pageFault(h, access, lo, hi); // misaligned superpage
      // A/D: set in hardware with an atomic compare-and-swap (Svadu-style behaviour).
      const want = pteLo | PTE_A | (access === Access.Write ? PTE_D : 0);
      if (want !== pteLo) {
        if (!pmpAllows(h, pteAddr, 8, Access.Write, Priv.S)) accessFault(h, access, lo, hi);
        if (Atomics.compareExchange(i32, idx, pteLo, want) !== pteLo) break; // PTE changed under us: walk again
        mem.noteWrite(pteAddr, 8);
      }
      const offBits = 12 + 9 * level;
      const vaLow = offBits > 32 ? (hi & ((1 << (offBits - 32)) - 1)) * TWO32 + (lo >>> 0) : offBits === 32 ? lo >>> 0 : (lo & ((1 << offBits) - 1)) >>> 0;
      return ppn * 4096 + vaLow;
    }
  }
}

/** Forgets every cached translation (satp write, SFENCE.VMA without address, PMP or MXR change). */
export function flushTranslations(h: Hart): void {
  for (const t of h.tlbs) t.flushAll();
  h.flushJumpCache();
}

/** SFENCE.VMA with an address: forgets that page's translations (every ASID: the TLB is not ASID-tagged). */
export function flushPage(h: Hart, lo: number, hi: number): void {
  for (const t of h.tlbs) t.flushPage(lo, hi);
  h.flushJumpPage(vpnTag(lo, hi));
}
