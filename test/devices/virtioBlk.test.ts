// virtio-blk over a raw image file: reads, writes, flush, discard, GET_ID,
// read-only disks and out-of-range requests, driven by the driver-side mock.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VirtioBlk } from "../../src/devices/virtio/blk.js";
import { RawFileBackend } from "../../src/modules/storage/rawFile.js";
import { BlockBackendError } from "../../src/modules/storage/blockBackend.js";
import { F_EVENT_IDX, F_VERSION_1, F_INDIRECT, INDIRECT, NEXT, RAM, TestDriver, WRITE, type Desc } from "../support/virtioDriver.js";

const SECTORS = 64;

function image(): string {
  const path = join(mkdtempSync(join(tmpdir(), "tsxi-blk-")), "disk.raw");
  const bytes = new Uint8Array(SECTORS * 512);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + (i >> 9)) & 0xff;
  writeFileSync(path, bytes);
  return path;
}

const sha = (path: string): string => createHash("sha256").update(readFileSync(path)).digest("hex");

function header(type: number, sector: number): Uint8Array {
  const h = new DataView(new ArrayBuffer(16));
  h.setUint32(0, type, true);
  h.setBigUint64(8, BigInt(sector), true);
  return new Uint8Array(h.buffer);
}

const blk = (path: string, readOnly = false): VirtioBlk => new VirtioBlk(new RawFileBackend(path, readOnly), "tsxi-test-disk");

function disk(path: string, readOnly = false, features = F_VERSION_1 | F_INDIRECT): TestDriver {
  const d = new TestDriver(blk(path, readOnly));
  assert.ok(d.init(features));
  return d;
}

/** Makes one request available without notifying; returns [status address, data address]. */
function offerRequest(d: TestDriver, type: number, sector: number, data: { out?: Uint8Array; inLen?: number }, head = 0): [number, number] {
  const hdr = d.buffer(16, header(type, sector));
  const descs: Desc[] = [{ addr: hdr, len: 16 }];
  let dataAddr = 0;
  if (data.out !== undefined) descs.push({ addr: (dataAddr = d.buffer(data.out.length, data.out)), len: data.out.length });
  if (data.inLen !== undefined) descs.push({ addr: (dataAddr = d.buffer(data.inLen)), len: data.inLen, flags: WRITE });
  const status = d.buffer(1, Uint8Array.of(0xee));
  descs.push({ addr: status, len: 1, flags: WRITE });
  d.offer(0, descs, head);
  return [status, dataAddr];
}

/** Issues one request; returns [status byte, used length, data address]. */
function request(d: TestDriver, type: number, sector: number, data: { out?: Uint8Array; inLen?: number }, head = 0): [number, number, number] {
  const before = d.usedIdx(0);
  const [status, dataAddr] = offerRequest(d, type, sector, data, head);
  d.notify(0);
  assert.equal(d.usedIdx(0), (before + 1) & 0xffff, "request completed");
  return [d.mem.readU8(status), d.used(0, before).len, dataAddr];
}

test("configuration: capacity in sectors, block size, features for writable and read-only disks", () => {
  const path = image();
  const d = disk(path);
  assert.equal(Number(d.transport.read(0x100, 8)), SECTORS);
  assert.equal(d.reg(0x100 + 20), 512);
  d.setReg(0x14, 0);
  const rw = d.reg(0x10);
  assert.equal((rw >> 5) & 1, 0, "not read-only");
  assert.equal((rw >> 9) & 1, 1, "FLUSH");
  assert.equal((rw >> 13) & 1, 1, "DISCARD");
  const ro = disk(path, true);
  ro.setReg(0x14, 0);
  assert.equal((ro.reg(0x10) >> 5) & 1, 1, "RO");
});

test("reads return the image's bytes; writes reach the file; flush succeeds", () => {
  const path = image();
  const file = readFileSync(path);
  const d = disk(path);
  const [st, len, at] = request(d, 0, 3, { inLen: 1024 });
  assert.equal(st, 0);
  assert.equal(len, 1025);
  assert.deepEqual(d.mem.readBytes(at, 1024), new Uint8Array(file.subarray(3 * 512, 5 * 512)));

  const data = new Uint8Array(512).fill(0xab);
  assert.equal(request(d, 1, 10, { out: data })[0], 0);
  assert.equal(request(d, 4, 0, {})[0], 0, "flush");
  const after = readFileSync(path);
  assert.deepEqual(new Uint8Array(after.subarray(10 * 512, 11 * 512)), data);
  assert.deepEqual(after.subarray(0, 10 * 512), file.subarray(0, 10 * 512), "nothing else changed");
});

test("a request through an indirect table is served like a direct one", () => {
  const path = image();
  const d = disk(path);
  const t = d.buffer(48);
  const data = d.buffer(512);
  const status = d.buffer(1);
  d.writeDesc(t, 0, { addr: d.buffer(16, header(0, 1)), len: 16, flags: NEXT, next: 1 });
  d.writeDesc(t, 1, { addr: data, len: 512, flags: WRITE | NEXT, next: 2 });
  d.writeDesc(t, 2, { addr: status, len: 1, flags: WRITE });
  d.offer(0, [{ addr: t, len: 48, flags: INDIRECT }]);
  d.notify(0);
  assert.equal(d.mem.readU8(status), 0);
  assert.deepEqual(d.mem.readBytes(data, 512), new Uint8Array(readFileSync(path).subarray(512, 1024)));
});

test("discard and write-zeroes zero the range; GET_ID returns the serial", () => {
  const path = image();
  const d = disk(path);
  const seg = new DataView(new ArrayBuffer(16));
  seg.setBigUint64(0, 4n, true);
  seg.setUint32(8, 2, true);
  assert.equal(request(d, 11, 0, { out: new Uint8Array(seg.buffer) })[0], 0);
  assert.ok(readFileSync(path).subarray(4 * 512, 6 * 512).every((b) => b === 0));
  assert.notEqual(readFileSync(path)[6 * 512 + 1], 0, "the next sector is untouched");
  const [st, , at] = request(d, 8, 0, { inLen: 20 });
  assert.equal(st, 0);
  assert.equal(new TextDecoder().decode(d.mem.readBytes(at, 14)), "tsxi-test-disk");
});

test("a read-only disk fails writes and discards with IOERR and its file is unchanged", () => {
  const path = image();
  const before = sha(path);
  const d = disk(path, true);
  assert.equal(request(d, 1, 0, { out: new Uint8Array(512).fill(1) })[0], 1);
  const seg = new Uint8Array(16);
  seg[8] = 1;
  assert.equal(request(d, 11, 0, { out: seg })[0], 1);
  assert.equal(request(d, 0, 0, { inLen: 512 })[0], 0, "reads still work");
  assert.equal(sha(path), before);
});

test("requests past the end, partial sectors and unknown types fail without touching the file", () => {
  const path = image();
  const before = sha(path);
  const d = disk(path);
  assert.equal(request(d, 0, SECTORS, { inLen: 512 })[0], 1, "read at capacity");
  assert.equal(request(d, 1, SECTORS - 1, { out: new Uint8Array(1024) })[0], 1, "write across the end");
  assert.equal(request(d, 1, 2 ** 52, { out: new Uint8Array(512) })[0], 1, "huge sector");
  assert.equal(request(d, 1, 0, { out: new Uint8Array(100) })[0], 1, "partial sector");
  assert.equal(request(d, 99, 0, {})[0], 2, "UNSUPP");
  assert.equal(sha(path), before);
  assert.equal(d.needsReset, false);
});

test("a request without a status byte breaks the device and writes nothing", () => {
  const path = image();
  const before = sha(path);
  const d = disk(path);
  d.offer(0, [{ addr: d.buffer(16, header(1, 0)), len: 16 }, { addr: d.buffer(512, new Uint8Array(512).fill(9)), len: 512 }]);
  d.notify(0);
  assert.equal(d.needsReset, true);
  assert.equal(sha(path), before);
});

test("a missing image is a one-line error", () => {
  assert.throws(() => new RawFileBackend("/nonexistent/disk.raw", false), (e: unknown) => e instanceof BlockBackendError && /cannot open disk image '\/nonexistent\/disk.raw': no such file/.test(e.message));
});

/**
 * A disk mid-conversation: two requests done with their interrupt not yet
 * acknowledged, a configuration change signalled, two more requests made
 * available but not notified; QueueSel and DeviceFeaturesSel left pointing
 * elsewhere. Returns the driver and the requests' [status, data] addresses.
 */
function diskMidOperation(path: string): { d: TestDriver; waiting: [number, number][] } {
  const d = disk(path, false, F_VERSION_1 | F_INDIRECT | F_EVENT_IDX);
  assert.equal(request(d, 1, 5, { out: new Uint8Array(512).fill(0x5a) })[0], 0);
  assert.equal(request(d, 0, 3, { inLen: 512 }, 3)[0], 0);
  d.transport.configChanged();
  const waiting = [offerRequest(d, 1, 7, { out: new Uint8Array(1024).fill(0xc3) }, 6), offerRequest(d, 0, 5, { inLen: 2048 }, 9)];
  d.setReg(0x14, 1);
  d.setReg(0x30, 3);
  return { d, waiting };
}

/** The same driver steps after a checkpoint, on the original and on the restored disk: registers, interrupts, completions. */
function carryOnDisk(d: TestDriver, waiting: [number, number][]): unknown[] {
  const seen: unknown[] = [d.irq.level, d.usedIdx(0)];
  for (const reg of [0x60, 0x70, 0xfc, 0x10, 0x34]) seen.push(d.reg(reg)); // 0x10: features 63..32; 0x34: queue 3 does not exist
  d.setReg(0x64, 3);
  d.setReg(0x30, 0);
  seen.push(d.irq.level, d.reg(0x44));
  const q = d.queues[0];
  d.mem.writeU16(q.avail + 4 + 2 * q.size, 2); // used_event: the driver has seen 2 and wants to hear of more
  d.notify(0);
  seen.push(d.usedIdx(0), d.used(0, 2), d.used(0, 3), d.irq.raised, d.reg(0x60));
  for (const [status, data] of waiting) seen.push(d.mem.readU8(status), d.mem.readBytes(data, 16));
  seen.push(request(d, 8, 0, { inLen: 20 }, 12));
  return seen;
}

test("a virtio-blk transport restored from a JSON checkpoint carries on as the original, requests waiting included", () => {
  const path = image();
  const a = diskMidOperation(path);
  const saved = JSON.parse(JSON.stringify(a.d.transport.saveState())) as unknown;
  const copy = join(mkdtempSync(join(tmpdir(), "tsxi-blk-")), "copy.raw"); // the disk as it was at the checkpoint
  copyFileSync(path, copy);
  const b = new TestDriver(blk(copy));
  b.resumeFrom(a.d);
  b.transport.restoreState(saved);
  assert.equal(b.irq.level, true, "the line is driven");
  assert.equal(b.usedIdx(0), 2, "waiting requests wait for a notification");
  const expected = carryOnDisk(a.d, a.waiting);
  assert.deepEqual(expected.slice(0, 9), [true, 2, 3, 15, 1, 1, 0, false, 1]);
  assert.deepEqual(expected.slice(9, 14), [4, { id: 6, len: 1 }, { id: 9, len: 2049 }, 2, 1]);
  assert.deepEqual(carryOnDisk(b, a.waiting), expected);
  assert.ok(Buffer.from(a.d.mem.readBytes(RAM, a.d.mem.size)).equals(b.mem.readBytes(RAM, b.mem.size)), "the same guest RAM");
  assert.equal(sha(copy), sha(path), "the same disk");
});
