/**
 * Guest console output to a file descriptor, all of it and in order.
 * Standard output may be a non-blocking pipe or socket (EAGAIN while the
 * reader is behind) and writeSync may write only part of a buffer: keep
 * writing, pausing 1 ms while it is full, so the output waits for the reader
 * instead of being lost or killing the run.
 */
import { writeSync } from "node:fs";

const pause = new Int32Array(new SharedArrayBuffer(4));

export function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length; ) {
    try {
      done += writeSync(fd, bytes, done);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}
