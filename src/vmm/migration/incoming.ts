/**
 * The destination side of a migration, and restoring from a file: reads a
 * migration stream (stream.ts) into a paused VM built with the same
 * hardware (VirtMachine's `incoming`). The hardware is checked before any
 * RAM is taken; every page index is checked against RAM; the VM's state is
 * restored only once the whole stream, with its end record, has arrived
 * and passed its checks — so a truncated or corrupted stream leaves a VM
 * that never ran, and a one-line error.
 */
import type { VirtMachine } from "../virtMachine.js";
import { PAGE_SIZE } from "../../vmkernel/machineMemory.js";
import { decodeJson, RecordType, StreamError, StreamReader, type ByteSource } from "./stream.js";

export interface IncomingResult {
  /** Bytes of RAM pages received, and how many pages. */
  pages: number;
  zeroPages: number;
}

/**
 * Loads the stream from `src` into `vm`, which must be paused; `clear`
 * zeroes its RAM first (restoring over a VM that ran: pages the stream
 * does not carry are zero). The VM stays paused: the caller confirms to
 * the source and then continues it.
 */
export async function receiveMigration(vm: VirtMachine, src: ByteSource, clear = false): Promise<IncomingResult> {
  if (!vm.paused) throw new StreamError("the VM must be paused to receive a migration");
  const reader = new StreamReader(src);
  await reader.header();
  const setup = await reader.next();
  if (setup.type !== RecordType.Setup) throw new StreamError(`migration stream starts with a record of type ${setup.type}, not the setup record`);
  vm.checkHardware(decodeJson(setup));
  const mem = vm.mem;
  const pageCount = mem.size / PAGE_SIZE;
  if (clear) mem.u8.fill(0, mem.machinePageOffset(mem.base), mem.machinePageOffset(mem.base) + mem.size);
  const offset = (p: number): number => {
    if (p >= pageCount) throw new StreamError(`migration stream names page ${p}, past the end of RAM (${pageCount} pages)`);
    return mem.machinePageOffset(mem.base + p * PAGE_SIZE);
  };
  const result: IncomingResult = { pages: 0, zeroPages: 0 };
  let state: unknown;
  for (;;) {
    const r = await reader.next();
    const v = new DataView(r.payload.buffer, r.payload.byteOffset, r.payload.byteLength);
    if (r.type === RecordType.Pages) {
      if (r.payload.length % (4 + PAGE_SIZE) !== 0) throw new StreamError("migration stream has a page record of a partial page");
      for (let at = 0; at < r.payload.length; at += 4 + PAGE_SIZE) {
        mem.u8.set(r.payload.subarray(at + 4, at + 4 + PAGE_SIZE), offset(v.getUint32(at, true)));
        result.pages++;
      }
    } else if (r.type === RecordType.ZeroPages) {
      if (r.payload.length % 4 !== 0) throw new StreamError("migration stream has a zero-page record of a partial index");
      for (let at = 0; at < r.payload.length; at += 4) {
        const o = offset(v.getUint32(at, true));
        mem.u8.fill(0, o, o + PAGE_SIZE);
        result.zeroPages++;
      }
    } else if (r.type === RecordType.State) {
      if (state !== undefined) throw new StreamError("migration stream holds two device-state records");
      state = decodeJson(r);
    } else if (r.type === RecordType.End) {
      break;
    } else {
      throw new StreamError(`migration stream has a second setup record`);
    }
  }
  if (state === undefined) throw new StreamError("migration stream ends without the VM's device state");
  vm.restoreState(state);
  return result;
}
