/**
 * vCPU worlds first. Like the vmkernel's scheduler, which favours vCPU
 * worlds over helper worlds, tsxi runs its helper threads (V8's background
 * compilers and garbage collectors, the compile world, the startup
 * threads of Node) at a lower priority than the hart worlds and the VMM
 * thread. On a 2-core host the hart world otherwise shares a core with V8's
 * TurboFan jobs whenever two of them run at once: a Debian boot's hart
 * thread sat runnable but descheduled for about 1.6 s of its 14.8 s boot,
 * and 1.0 s once the helpers ran at nice 10 (four interleaved boots each;
 * wall median 14.8 s -> 13.6 s). Linux only (per-thread nice through
 * /proc); elsewhere, or without permission, nothing changes.
 */
import { readdirSync, readlinkSync } from "node:fs";
import { setPriority } from "node:os";

/** The nice value of helper threads: low enough to yield to a vCPU, high enough to keep up. */
const HELPER_NICE = 10;

let lowered = false;

/**
 * Lowers every thread of the process but the calling (VMM) thread, once per
 * process: called before the first world starts, these are V8's platform
 * workers (background compilation and GC) and Node's own helpers. Worlds
 * started later keep the normal priority (threads inherit their creator's).
 */
export function lowerHelperThreads(): void {
  if (lowered) return;
  lowered = true;
  let tids: string[];
  try {
    tids = readdirSync("/proc/self/task");
  } catch {
    return; // not Linux
  }
  for (const t of tids) {
    if (Number(t) === process.pid) continue;
    try {
      setPriority(Number(t), HELPER_NICE);
    } catch {
      // a thread that exited meanwhile, or no permission: leave it
    }
  }
}

/** Lowers the calling thread (a helper world, e.g. the compile world). */
export function lowerThisThread(): void {
  try {
    setPriority(Number(readlinkSync("/proc/thread-self").split("/").pop()), HELPER_NICE);
  } catch {
    // not Linux, or no permission
  }
}
