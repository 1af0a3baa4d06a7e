/**
 * The migration stream: how a VM's state travels, to a file (suspend,
 * `migrate file:`) or over TCP (live migration). One format for both, as
 * QEMU's: a header, then records, each with its type, its length and a
 * CRC-32 of both and its payload, so that a truncated or corrupted stream
 * is refused with a one-line error before anything of it is used.
 * docs/checkpoint.md describes it byte by byte.
 */
import { crc32 } from "node:zlib";
import { PAGE_SIZE } from "../../vmkernel/machineMemory.js";

export class StreamError extends Error {
  override name = "StreamError";
}

/** "TSXIVM", CR, LF: a text transfer that mangles line ends is caught at once. */
export const MAGIC = Uint8Array.from([0x54, 0x53, 0x58, 0x49, 0x56, 0x4d, 0x0d, 0x0a]);
export const FORMAT_VERSION = 1;
const HEADER_BYTES = 16;
const RECORD_HEADER_BYTES = 12;

export const RecordType = {
  /** JSON: the VM description (what the destination checks before any RAM arrives). */
  Setup: 1,
  /** RAM pages: (u32 guest page index, 4096 bytes) repeated. */
  Pages: 2,
  /** u32 guest page indices whose contents are now all zeros. */
  ZeroPages: 3,
  /** JSON: harts, shared hart control and devices, sent while the VM is paused. */
  State: 4,
  /** The stream is complete. */
  End: 5,
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

/** Largest payload of each record type: bounds what a stream can make the reader allocate. */
const MAX_PAYLOAD: Record<RecordType, number> = {
  [RecordType.Setup]: 1 << 20,
  [RecordType.Pages]: 256 * (4 + PAGE_SIZE),
  [RecordType.ZeroPages]: 4 * 65536,
  [RecordType.State]: 64 << 20,
  [RecordType.End]: 0,
};
/** Pages per Pages record, ZeroPages per ZeroPages record. */
export const PAGES_PER_RECORD = 256;
export const ZERO_PAGES_PER_RECORD = 65536;

export function encodeHeader(): Uint8Array {
  const h = new Uint8Array(HEADER_BYTES);
  h.set(MAGIC);
  new DataView(h.buffer).setUint32(8, FORMAT_VERSION, true);
  return h;
}

export function encodeRecord(type: RecordType, payload: Uint8Array = new Uint8Array(0)): Uint8Array[] {
  const h = new Uint8Array(RECORD_HEADER_BYTES);
  const v = new DataView(h.buffer);
  v.setUint32(0, type, true);
  v.setUint32(4, payload.length, true);
  v.setUint32(8, recordCrc(h, payload), true);
  return [h, payload];
}

/** A record's CRC-32 covers its type and length as well as its payload: a page record never reads as another type. */
function recordCrc(header: Uint8Array, payload: Uint8Array): number {
  return crc32(payload, crc32(header.subarray(0, 8)));
}

export function encodeJson(type: RecordType, value: unknown): Uint8Array[] {
  return encodeRecord(type, new TextEncoder().encode(JSON.stringify(value)));
}

/** Where a stream's bytes come from: `read(n)` returns exactly n bytes, or fewer at the end of the stream. */
export interface ByteSource {
  read(n: number): Promise<Uint8Array>;
}

export interface StreamRecord {
  type: RecordType;
  payload: Uint8Array;
}

/** Reads and checks a stream: its header, then one record at a time. */
export class StreamReader {
  constructor(private readonly src: ByteSource) {}

  private async exactly(n: number, what: string): Promise<Uint8Array> {
    const b = await this.src.read(n);
    if (b.length < n) throw new StreamError(`migration stream ends in the middle of ${what}`);
    return b;
  }

  async header(): Promise<void> {
    const h = await this.src.read(HEADER_BYTES);
    if (h.length === 0) throw new StreamError("migration stream is empty");
    if (h.length < HEADER_BYTES || !MAGIC.every((b, k) => h[k] === b)) throw new StreamError("not a tsxi migration stream (bad magic)");
    const version = new DataView(h.buffer, h.byteOffset).getUint32(8, true);
    if (version !== FORMAT_VERSION) throw new StreamError(`migration stream format version ${version} is not ${FORMAT_VERSION}`);
  }

  async next(): Promise<StreamRecord> {
    const h = await this.src.read(RECORD_HEADER_BYTES);
    if (h.length === 0) throw new StreamError("migration stream ends before its end record (truncated)");
    if (h.length < RECORD_HEADER_BYTES) throw new StreamError("migration stream ends in the middle of a record header");
    const v = new DataView(h.buffer, h.byteOffset);
    const type = v.getUint32(0, true) as RecordType;
    const length = v.getUint32(4, true);
    if (!Object.hasOwn(MAX_PAYLOAD, type)) throw new StreamError(`migration stream has an unknown record type ${type as number}`);
    if (length > MAX_PAYLOAD[type]) throw new StreamError(`migration stream record of type ${type} is ${length} bytes, more than ${MAX_PAYLOAD[type]}`);
    const payload = length === 0 ? new Uint8Array(0) : await this.exactly(length, `a record of type ${type}`);
    if (recordCrc(h, payload) !== v.getUint32(8, true)) throw new StreamError(`migration stream record of type ${type} fails its CRC-32 (corrupted)`);
    return { type, payload };
  }
}

/** A JSON record's value; a malformed one is a StreamError. */
export function decodeJson(r: StreamRecord): unknown {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(r.payload));
  } catch {
    throw new StreamError(`migration stream record of type ${r.type} is not valid JSON`);
  }
}
