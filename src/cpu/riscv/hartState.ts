/**
 * Layout of a hart's state area, which the vmkernel sets aside in machine
 * memory for each vCPU (GuestMemory.vcpuState): the parts of the hart that
 * translated WebAssembly code reads and writes directly. JavaScript sees the
 * same bytes through typed-array views (Hart.lo/hi, the TlbSets).
 */
import { TLB_SET_BYTES } from "./tlb.js";
import { VCPU_STATE_BYTES } from "../../memory/guestMemory.js";

/**
 * x0..x31 and the x0 write sink (index 32), one little-endian 64-bit word
 * each: translated code loads and stores a register with one i64 access,
 * JavaScript reads its int32 halves (Hart.lo/hi, stride 2).
 */
export const STATE_X = 0;
/** i32: instructions retired by the chained blocks of the current dispatch (wasmDispatch.ts). */
export const STATE_DONE = 280;
/**
 * i32: non-zero when translated code needs the run loop next: a monitor
 * instruction changed what the chain relies on, or a memory access needs
 * the slow path (wasmCodeGen.ts).
 */
export const STATE_EXIT = 284;
/**
 * i32s the hart keeps here so that translated code can read and write them
 * (Hart's accessors): mstatus's low word, the privilege level, and mip & mie
 * (non-zero when an interrupt is pending and enabled in mie).
 */
export const STATE_MSTATUS = 288;
export const STATE_PRIV = 292;
export const STATE_PENDING = 296;
/** Four TlbSets (one per Regime), TLB_SET_BYTES each. */
export const STATE_TLBS = 512;
/**
 * The translated-code jump cache, one table per Regime: JUMP_ENTRIES entries
 * of JUMP_ENTRY_BYTES — pc (f64, NaN when empty), function-table index (i32),
 * and epoch (i32): an entry counts only in its epoch (wasmDispatch.ts).
 * 2^16 entries per regime, so that hot code rarely collides
 * (docs/perf-log.md).
 */
export const STATE_JUMPS = STATE_TLBS + 4 * TLB_SET_BYTES;
export const JUMP_BITS = 16;
export const JUMP_ENTRIES = 1 << JUMP_BITS;
export const JUMP_ENTRY_BYTES = 16;
/**
 * One i32 per function-table index: 1 while that translated block may be
 * entered by a direct link from a block of its module (wasmModuleEncoder.ts),
 * 0 once it no longer matches memory or awaits a re-check.
 */
export const STATE_LIVE = STATE_JUMPS + 4 * JUMP_ENTRIES * JUMP_ENTRY_BYTES;
export const LIVE_ENTRIES = 1 << 16;
export const STATE_BYTES = STATE_LIVE + 4 * LIVE_ENTRIES;

if (STATE_BYTES > VCPU_STATE_BYTES) throw new Error("hart state does not fit the vCPU state area");
