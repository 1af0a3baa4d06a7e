/**
 * What a virtual disk device needs from the storage behind it (design.md:
 * "Host backends sit behind interfaces"): byte-addressed reads and writes, a
 * flush that reaches stable storage, and discard. A raw file implements it
 * now; VMDK extents and NBD exports later.
 */
export interface BlockBackend {
  /** Size in bytes. */
  readonly size: number;
  readonly readOnly: boolean;
  /** Fills `into` from byte `offset`. Throws `BlockBackendError` on an I/O error. */
  read(offset: number, into: Uint8Array): void;
  /** Writes `data` at byte `offset`. Throws `BlockBackendError` on an I/O error or a read-only backend. */
  write(offset: number, data: Uint8Array): void;
  /** Makes every completed write durable (fsync). */
  flush(): void;
  /** The guest no longer needs [offset, offset + length): later reads return zeros. */
  discard(offset: number, length: number): void;
  close(): void;
}

export class BlockBackendError extends Error {
  override name = "BlockBackendError";
}
