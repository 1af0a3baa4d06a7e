/**
 * The SBI implemented inside tsxi: the hypervisor's call interface for
 * S-mode kernels that boot without M-mode firmware (RISC-V SBI spec v2.0).
 * An ECALL from S-mode is handed here instead of trapping to M-mode; the
 * result goes back in a0 (error) and a1 (value) and the guest continues after
 * the ECALL. Base, TIME, IPI, RFENCE, HSM, SRST, DBCN, PMU and the legacy
 * extensions (§5) are implemented over an `SbiPlatform`, which is the machine
 * (timers, harts, console, power).
 */
import type { Hart } from "../cpu/riscv/hart.js";
import { TRAP } from "../cpu/riscv/trap.js";

export const SbiError = {
  Success: 0,
  Failed: -1,
  NotSupported: -2,
  InvalidParam: -3,
  Denied: -4,
  InvalidAddress: -5,
  AlreadyAvailable: -6,
  AlreadyStarted: -7,
  AlreadyStopped: -8,
} as const;
export type SbiError = (typeof SbiError)[keyof typeof SbiError];

/** Extension IDs (§3–§12). */
export const Ext = {
  LegacySetTimer: 0x00,
  LegacyPutchar: 0x01,
  LegacyGetchar: 0x02,
  LegacyClearIpi: 0x03,
  LegacySendIpi: 0x04,
  LegacyRemoteFenceI: 0x05,
  LegacyRemoteSfenceVma: 0x06,
  LegacyRemoteSfenceVmaAsid: 0x07,
  LegacyShutdown: 0x08,
  Base: 0x10,
  Time: 0x54494d45,
  Ipi: 0x735049,
  Rfence: 0x52464e43,
  Hsm: 0x48534d,
  Srst: 0x53525354,
  Dbcn: 0x4442434e,
  Pmu: 0x504d55,
} as const;
export type Ext = (typeof Ext)[keyof typeof Ext];

/** HSM hart states (§9). */
export const HartState = {
  Started: 0,
  Stopped: 1,
  StartPending: 2,
  StopPending: 3,
  Suspended: 4,
} as const;
export type HartState = (typeof HartState)[keyof typeof HartState];

export type ResetKind = "shutdown" | "cold-reboot" | "warm-reboot";

/** What the SBI needs from the machine. Hart masks are resolved to hart ids before these are called. */
export interface SbiPlatform {
  hartCount(): number;
  setTimer(hartId: number, stimeValue: bigint): void;
  sendIpi(hartIds: number[]): void;
  remoteFenceI(hartIds: number[]): void;
  remoteSfenceVma(hartIds: number[]): void;
  hartStart(hartId: number, startAddr: bigint, opaque: bigint): SbiError;
  hartStop(hartId: number): SbiError;
  hartStatus(hartId: number): HartState;
  reset(kind: ResetKind, reason: number): void;
  consoleWrite(bytes: Uint8Array): void;
  /** Up to `max` pending input bytes (possibly none). */
  consoleRead(max: number): Uint8Array;
}

const SPEC_VERSION = 2 << 24; // v2.0
/** Implementation ID: not one of the spec's registered IDs (§4.9); tsxi's own. */
const IMPL_ID = 0x7473;
const IMPL_VERSION = 1;
const EXTENSIONS: number[] = [Ext.Base, Ext.Time, Ext.Ipi, Ext.Rfence, Ext.Hsm, Ext.Srst, Ext.Dbcn, Ext.Pmu];
/**
 * PMU counters (§11): the fixed hardware counters cycle, time, instret, which
 * always run. Linux's SBI PMU driver is also what sets scounteren.TM, so
 * without this extension user mode (the vDSO's clock_gettime) cannot read time.
 */
const PMU_COUNTER_CSRS = [0xc00, 0xc01, 0xc02];
/** Generic hardware events (§11.2, type 0): cycles and instructions, on counters 0 and 2. */
const PMU_EVENT_COUNTER = new Map([[1, 0], [2, 2]]);
const LEGACY = [0, 1, 2, 3, 4, 5, 6, 7, 8];

const A0 = 10;
const A1 = 11;

function arg(h: Hart, n: number): bigint {
  return BigInt.asUintN(64, (BigInt(h.hi[2 * (A0 + n)]) << 32n) | BigInt(h.lo[2 * (A0 + n)] >>> 0));
}

function ret(h: Hart, error: number, value: bigint | number = 0n): void {
  h.setX(A0, BigInt(error));
  h.setX(A1, BigInt(value));
}

/** Harts selected by (hart_mask, hart_mask_base); base = -1 means all (§3.2). */
function selectHarts(p: SbiPlatform, mask: bigint, base: bigint): number[] | undefined {
  const n = p.hartCount();
  if (base === 0xffffffffffffffffn) return [...Array(n).keys()];
  const out: number[] = [];
  for (let bit = 0n; bit < 64n; bit++) {
    if (((mask >> bit) & 1n) === 0n) continue;
    const id = base + bit;
    if (id >= BigInt(n)) return undefined;
    out.push(Number(id));
  }
  return out;
}

/** Reads `len` bytes of guest-physical memory for DBCN, or undefined when outside RAM. */
function guestBytes(h: Hart, addr: bigint, len: bigint): Uint8Array | undefined {
  if (len > 1n << 20n || addr > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  const a = Number(addr);
  const n = Number(len);
  return h.mem.contains(a, n) ? h.mem.readBytes(a, n) : undefined;
}

/** Performs the SBI call in the hart's registers. */
export function sbiCall(h: Hart, p: SbiPlatform): void {
  const eid = Number(arg(h, 7) & 0xffffffffn);
  const fid = Number(arg(h, 6) & 0xffffffffn);
  switch (eid) {
    case Ext.Base:
      switch (fid) {
        case 0: return ret(h, SbiError.Success, SPEC_VERSION);
        case 1: return ret(h, SbiError.Success, IMPL_ID);
        case 2: return ret(h, SbiError.Success, IMPL_VERSION);
        case 3: {
          const probe = Number(arg(h, 0) & 0xffffffffn);
          return ret(h, SbiError.Success, EXTENSIONS.includes(probe) || LEGACY.includes(probe) ? 1 : 0);
        }
        case 4: case 5: case 6: return ret(h, SbiError.Success, 0); // mvendorid, marchid, mimpid
      }
      return ret(h, SbiError.NotSupported);
    case Ext.Time:
      if (fid !== 0) return ret(h, SbiError.NotSupported);
      p.setTimer(h.hartId, arg(h, 0));
      return ret(h, SbiError.Success);
    case Ext.Ipi: {
      if (fid !== 0) return ret(h, SbiError.NotSupported);
      const harts = selectHarts(p, arg(h, 0), arg(h, 1));
      if (harts === undefined) return ret(h, SbiError.InvalidParam);
      p.sendIpi(harts);
      return ret(h, SbiError.Success);
    }
    case Ext.Rfence: {
      if (fid > 6) return ret(h, SbiError.NotSupported);
      if (fid >= 3) return ret(h, SbiError.NotSupported); // hypervisor fences: no H extension
      const harts = selectHarts(p, arg(h, 0), arg(h, 1));
      if (harts === undefined) return ret(h, SbiError.InvalidParam);
      if (fid === 0) p.remoteFenceI(harts);
      else p.remoteSfenceVma(harts);
      return ret(h, SbiError.Success);
    }
    case Ext.Hsm: {
      const id = arg(h, 0);
      const valid = id < BigInt(p.hartCount());
      switch (fid) {
        case 0: return ret(h, valid ? p.hartStart(Number(id), arg(h, 1), arg(h, 2)) : SbiError.InvalidParam);
        case 1: return ret(h, p.hartStop(h.hartId));
        case 2: return valid ? ret(h, SbiError.Success, p.hartStatus(Number(id))) : ret(h, SbiError.InvalidParam);
      }
      return ret(h, SbiError.NotSupported); // hart_suspend: WFI-based idle is used instead
    }
    case Ext.Srst: {
      if (fid !== 0) return ret(h, SbiError.NotSupported);
      const type = arg(h, 0);
      const kind: ResetKind | undefined = type === 0n ? "shutdown" : type === 1n ? "cold-reboot" : type === 2n ? "warm-reboot" : undefined;
      if (kind === undefined || arg(h, 1) > 0xffffffffn) return ret(h, SbiError.InvalidParam);
      p.reset(kind, Number(arg(h, 1)));
      return ret(h, SbiError.Success);
    }
    case Ext.Dbcn: {
      if (fid === 0 || fid === 1) {
        const len = arg(h, 0);
        const addr = (arg(h, 2) << 32n) | arg(h, 1);
        if (fid === 0) {
          const bytes = guestBytes(h, addr, len);
          if (bytes === undefined) return ret(h, SbiError.InvalidParam);
          p.consoleWrite(bytes);
          return ret(h, SbiError.Success, bytes.length);
        }
        if (len > 1n << 20n || !h.mem.contains(Number(addr), Number(len))) return ret(h, SbiError.InvalidParam);
        const input = p.consoleRead(Number(len));
        h.mem.writeBytes(Number(addr), input);
        return ret(h, SbiError.Success, input.length);
      }
      if (fid === 2) {
        p.consoleWrite(Uint8Array.of(Number(arg(h, 0) & 0xffn)));
        return ret(h, SbiError.Success);
      }
      return ret(h, SbiError.NotSupported);
    }
    case Ext.Pmu:
      return pmuCall(h, fid);
    // Legacy extensions (§5): a0 carries the result, a1 is left alone.
    case Ext.LegacySetTimer:
      p.setTimer(h.hartId, arg(h, 0));
      return h.setX(A0, 0n);
    case Ext.LegacyPutchar:
      p.consoleWrite(Uint8Array.of(Number(arg(h, 0) & 0xffn)));
      return h.setX(A0, 0n);
    case Ext.LegacyGetchar: {
      const c = p.consoleRead(1);
      return h.setX(A0, c.length > 0 ? BigInt(c[0]) : -1n);
    }
    case Ext.LegacyClearIpi:
      h.mip &= ~2;
      return h.setX(A0, 0n);
    case Ext.LegacySendIpi:
    case Ext.LegacyRemoteFenceI:
    case Ext.LegacyRemoteSfenceVma:
    case Ext.LegacyRemoteSfenceVmaAsid: {
      // The hart mask is passed by reference: a virtual address of an unsigned long.
      const maskAddr = arg(h, 0);
      let harts: number[] | undefined = [...Array(p.hartCount()).keys()];
      if (maskAddr !== 0n) {
        try {
          h.load64(Number(BigInt.asIntN(64, maskAddr) & 0xffffffffn) | 0, Number(BigInt.asIntN(64, maskAddr) >> 32n));
          harts = selectHarts(p, BigInt.asUintN(64, (BigInt(h.tmpHi) << 32n) | BigInt(h.tmpLo >>> 0)), 0n);
        } catch (e) {
          if (e !== TRAP) throw e;
          harts = undefined; // an unmapped mask pointer is the caller's error, not a trap
        }
      }
      if (harts === undefined) return h.setX(A0, BigInt(SbiError.InvalidParam));
      if (eid === Ext.LegacySendIpi) p.sendIpi(harts);
      else if (eid === Ext.LegacyRemoteFenceI) p.remoteFenceI(harts);
      else p.remoteSfenceVma(harts);
      return h.setX(A0, 0n);
    }
    case Ext.LegacyShutdown:
      p.reset("shutdown", 0);
      return;
  }
  ret(h, SbiError.NotSupported);
}

/** The PMU extension (§11) over the fixed counters. */
function pmuCall(h: Hart, fid: number): void {
  const counters = PMU_COUNTER_CSRS.length;
  switch (fid) {
    case 0: // num_counters
      return ret(h, SbiError.Success, counters);
    case 1: { // counter_get_info: csr in [11:0], width - 1 in [17:12], type hardware (bit 63 clear)
      const idx = arg(h, 0);
      if (idx >= BigInt(counters)) return ret(h, SbiError.InvalidParam);
      return ret(h, SbiError.Success, PMU_COUNTER_CSRS[Number(idx)] | (63 << 12));
    }
    case 2: { // counter_config_matching(base, mask, flags, event_idx, event_data)
      const base = arg(h, 0);
      const mask = arg(h, 1);
      const event = arg(h, 3);
      const counter = event >> 16n === 0n ? PMU_EVENT_COUNTER.get(Number(event & 0xffffn)) : undefined;
      if (counter === undefined) return ret(h, SbiError.NotSupported);
      const bit = BigInt(counter) - base;
      if (bit < 0n || bit >= 64n || ((mask >> bit) & 1n) === 0n) return ret(h, SbiError.NotSupported);
      return ret(h, SbiError.Success, counter);
    }
    case 3: // counter_start, counter_stop: the fixed counters always run
    case 4:
      return ret(h, SbiError.Success);
    case 5: // counter_fw_read, counter_fw_read_hi: there are no firmware counters
    case 6:
      return ret(h, SbiError.InvalidParam);
  }
  return ret(h, SbiError.NotSupported); // snapshot shared memory, event info
}
