/**
 * A disk backed by a raw image file (QEMU's `format=raw`): guest byte n is
 * file byte n. I/O is synchronous on the VMM thread, which keeps request
 * order trivially correct; an I/O world can take it over later.
 */
import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from "node:fs";
import { BlockBackendError, type BlockBackend } from "./blockBackend.js";

const ZERO_CHUNK = 1 << 20;

export class RawFileBackend implements BlockBackend {
  readonly size: number;
  private fd: number;

  /** Opens `path`; throws `BlockBackendError` with a one-line reason when it cannot. */
  constructor(
    readonly path: string,
    readonly readOnly: boolean,
  ) {
    try {
      this.fd = openSync(path, readOnly ? "r" : "r+");
    } catch (e) {
      throw new BlockBackendError(`cannot open disk image '${path}': ${errnoText(e)}`);
    }
    const st = fstatSync(this.fd);
    if (!st.isFile() && !st.isBlockDevice()) {
      closeSync(this.fd);
      throw new BlockBackendError(`disk image '${path}' is not a file`);
    }
    this.size = st.size;
  }

  read(offset: number, into: Uint8Array): void {
    this.io("read", () => {
      for (let done = 0; done < into.length; ) {
        const n = readSync(this.fd, into, done, into.length - done, offset + done);
        if (n === 0) {
          into.fill(0, done); // a file shorter than the disk reads as zeros past its end
          break;
        }
        done += n;
      }
    });
  }

  write(offset: number, data: Uint8Array): void {
    if (this.readOnly) throw new BlockBackendError(`disk image '${this.path}' is read-only`);
    this.io("write", () => {
      for (let done = 0; done < data.length; ) done += writeSync(this.fd, data, done, data.length - done, offset + done);
    });
  }

  flush(): void {
    if (!this.readOnly) this.io("fsync", () => fsyncSync(this.fd));
  }

  /** Node has no fallocate(PUNCH_HOLE), so discarded ranges are written with zeros. */
  discard(offset: number, length: number): void {
    const zeros = new Uint8Array(Math.min(length, ZERO_CHUNK));
    for (let done = 0; done < length; done += zeros.length) {
      this.write(offset + done, zeros.subarray(0, Math.min(zeros.length, length - done)));
    }
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  private io(what: string, op: () => void): void {
    try {
      op();
    } catch (e) {
      throw new BlockBackendError(`${what} of '${this.path}' failed: ${errnoText(e)}`);
    }
  }
}

function errnoText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err.code === "ENOENT") return "no such file";
  if (err.code === "EACCES" || err.code === "EPERM") return "permission denied";
  if (err.code === "EISDIR") return "is a directory";
  return err.message ?? String(e);
}
