/**
 * vCPU worlds first. Like the vmkernel's scheduler, which favours vCPU
 * worlds over helper worlds, tsxi runs V8's and Node's helper threads
 * (background compilers and garbage collectors, Node's startup threads) at
 * a lower priority than the hart worlds, the compile world and the VMM
 * thread. The compile world keeps the normal priority: the harts wait for
 * its modules, and at nice 10 behind four busy harts it starved. On a
 * 2-core host the hart world otherwise shares a core with V8's TurboFan jobs
 * whenever two of them run at once (measurements in docs/perf-log.md).
 * Linux only (per-thread nice through /proc); elsewhere, or without
 * permission, nothing changes.
 */
import { readdirSync } from "node:fs";
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
