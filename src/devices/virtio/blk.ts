/**
 * virtio-blk (virtio 1.2 §5.2): one request queue; each request is a 16-byte
 * header (type, sector), data, and a status byte the device writes last.
 * Requests outside the disk or writes to a read-only disk fail with IOERR and
 * touch nothing; a chain too short to hold a header and status byte is
 * malformed and breaks the device.
 */
import type { BlockBackend } from "../../modules/storage/blockBackend.js";
import { BlockBackendError } from "../../modules/storage/blockBackend.js";
import { ActiveDevice, bit, type VirtioContext, type VirtioDevice } from "./device.js";
import { VirtqueueError, readChain, writeChain, type Chain } from "./virtqueue.js";

const SECTOR = 512;
const QUEUE_SIZE = 256;
/** Largest piece of a request moved between guest memory and the backend at once. */
const CHUNK = 1 << 20;
const SEG_MAX = 126;
const MAX_DISCARD_SECTORS = 1 << 16;
const MAX_DISCARD_SEG = 16;

/** Feature bits (§5.2.3). */
const F_SEG_MAX = 2n;
const F_RO = 5n;
const F_BLK_SIZE = 6n;
const F_FLUSH = 9n;
const F_DISCARD = 13n;
const F_WRITE_ZEROES = 14n;

/** Request types and status values (§5.2.6). */
const T_IN = 0;
const T_OUT = 1;
const T_FLUSH = 4;
const T_GET_ID = 8;
const T_DISCARD = 11;
const T_WRITE_ZEROES = 13;
const S_OK = 0;
const S_IOERR = 1;
const S_UNSUPP = 2;
const ID_BYTES = 20;

export class VirtioBlk extends ActiveDevice implements VirtioDevice {
  readonly name = "virtio-blk";
  readonly deviceId = 2;
  readonly queueSizes = [QUEUE_SIZE];
  readonly features: bigint;
  readonly config = new Uint8Array(60);
  private readonly sectors: number;

  /** `onError` hears backend I/O failures (the guest sees IOERR). */
  constructor(
    private readonly disk: BlockBackend,
    private readonly serial: string,
    private readonly onError: (message: string) => void = () => {},
  ) {
    super();
    this.sectors = Math.floor(disk.size / SECTOR);
    this.features = bit(F_SEG_MAX) | bit(F_BLK_SIZE) | bit(F_FLUSH) | (disk.readOnly ? bit(F_RO) : bit(F_DISCARD) | bit(F_WRITE_ZEROES));
    // Configuration layout (§5.2.4).
    const v = new DataView(this.config.buffer);
    v.setBigUint64(0, BigInt(this.sectors), true);
    v.setUint32(12, SEG_MAX, true);
    v.setUint32(20, SECTOR, true);
    v.setUint32(36, MAX_DISCARD_SECTORS, true);
    v.setUint32(40, MAX_DISCARD_SEG, true);
    v.setUint32(44, 1, true);
    v.setUint32(48, MAX_DISCARD_SECTORS, true);
    v.setUint32(52, MAX_DISCARD_SEG, true);
  }

  process(queue: number): void {
    const ctx = this.ctx;
    if (ctx === undefined || queue !== 0) return;
    const q = ctx.queue(0);
    for (let chain = q.pop(); chain !== undefined; chain = q.pop()) {
      if (chain.readableBytes < 16 || chain.writableBytes < 1) {
        throw new VirtqueueError(`virtio-blk request without a 16-byte header and a status byte (chain ${chain.head})`);
      }
      const [status, written] = this.request(ctx, chain);
      writeChain(ctx.mem, chain, chain.writableBytes - 1, Uint8Array.of(status));
      q.push(chain, written + 1);
    }
    ctx.usedBuffers(0);
  }

  /** Carries out one request; returns its status and the data bytes written to the guest. */
  private request(ctx: VirtioContext, chain: Chain): [number, number] {
    const h = new DataView(readChain(ctx.mem, chain, 0, 16).buffer);
    const type = h.getUint32(0, true);
    const sector = Number(h.getBigUint64(8, true));
    const inLen = chain.writableBytes - 1;
    const outLen = chain.readableBytes - 16;
    try {
      switch (type) {
        case T_IN:
          if (!this.inDisk(sector, inLen)) return [S_IOERR, 0];
          for (let done = 0; done < inLen; done += CHUNK) {
            const buf = new Uint8Array(Math.min(CHUNK, inLen - done));
            this.disk.read(sector * SECTOR + done, buf);
            writeChain(ctx.mem, chain, done, buf);
          }
          return [S_OK, inLen];
        case T_OUT:
          if (this.disk.readOnly || !this.inDisk(sector, outLen)) return [S_IOERR, 0];
          for (let done = 0; done < outLen; done += CHUNK) {
            this.disk.write(sector * SECTOR + done, readChain(ctx.mem, chain, 16 + done, Math.min(CHUNK, outLen - done)));
          }
          return [S_OK, 0];
        case T_FLUSH:
          this.disk.flush();
          return [S_OK, 0];
        case T_GET_ID: {
          const id = new Uint8Array(ID_BYTES);
          id.set(new TextEncoder().encode(this.serial).subarray(0, ID_BYTES));
          return [S_OK, writeChain(ctx.mem, chain, 0, id.subarray(0, Math.min(ID_BYTES, inLen)))];
        }
        case T_DISCARD:
        case T_WRITE_ZEROES:
          return [this.discard(ctx, chain, outLen), 0];
        default:
          return [S_UNSUPP, 0];
      }
    } catch (e) {
      if (!(e instanceof BlockBackendError)) throw e;
      this.onError(e.message);
      return [S_IOERR, 0];
    }
  }

  /** DISCARD and WRITE_ZEROES: a list of {sector u64, num_sectors u32, flags u32} (§5.2.6). */
  private discard(ctx: VirtioContext, chain: Chain, outLen: number): number {
    if (this.disk.readOnly || outLen % 16 !== 0 || outLen === 0 || outLen / 16 > MAX_DISCARD_SEG) return S_IOERR;
    const segs = new DataView(readChain(ctx.mem, chain, 16, outLen).buffer);
    const ranges: [number, number][] = [];
    for (let o = 0; o < outLen; o += 16) {
      const sector = Number(segs.getBigUint64(o, true));
      const count = segs.getUint32(o + 8, true);
      if (count > MAX_DISCARD_SECTORS || !this.inDisk(sector, count * SECTOR)) return S_IOERR;
      ranges.push([sector * SECTOR, count * SECTOR]);
    }
    for (const [offset, length] of ranges) this.disk.discard(offset, length);
    return S_OK;
  }

  private inDisk(sector: number, bytes: number): boolean {
    return bytes % SECTOR === 0 && sector <= this.sectors && bytes / SECTOR <= this.sectors - sector;
  }
}
