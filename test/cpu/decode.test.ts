// The decoder: operand fields and immediates of every format, the x0 sink,
// compressed expansion, FP decoding, and illegal encodings.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decode } from "../../src/cpu/riscv/decode.js";

/** Assembles one line and returns its encoding (2 or 4 bytes). */
const dir = mkdtempSync(join(tmpdir(), "tsxi-decode-"));
function enc(line: string, rvc = false): number {
  const src = join(dir, "t.s");
  const obj = join(dir, "t.bin");
  execFileSync("sh", ["-c", `printf '%s\\n' '.option ${rvc ? "rvc" : "norvc"}' '${line}' > ${src} && riscv64-linux-gnu-as -march=rv64gc_zba_zbb_zbs -o ${obj}.o ${src} && riscv64-linux-gnu-objcopy -O binary -j .text ${obj}.o ${obj}`]);
  const b = readFileSync(obj);
  return b.length === 2 ? b.readUInt16LE(0) : b.readUInt32LE(0);
}

test("I, S, B, U, J immediates are sign-extended", () => {
  const cases: [string, string, number][] = [
    ["addi a0, a1, -2048", "addi", -2048],
    ["sd a0, -8(sp)", "sd", -8],
    ["sw a0, 2047(sp)", "sw", 2047],
    ["beq a0, a1, . - 4096", "beq", -4096],
    ["bne a0, a1, . + 4094", "bne", 4094],
    ["lui a0, 0xfffff", "lui", -4096],
    ["auipc a0, 0x80000", "auipc", -0x80000000],
    ["jal ra, . - 1048576", "jal", -1048576],
    ["jalr ra, -1(a0)", "jalr", -1],
  ];
  for (const [line, name, imm] of cases) {
    const d = decode(enc(line));
    assert.equal(d.name, name, line);
    assert.equal(d.imm, imm, line);
    assert.equal(d.len, 4);
  }
});

test("register fields, the x0 sink and CSR numbers", () => {
  const d = decode(enc("add a0, a1, a2"));
  assert.deepEqual([d.rd, d.rs1, d.rs2], [10, 11, 12]);
  assert.equal(decode(enc("add zero, a1, a2")).rd, 32, "writes to x0 go to the sink register");
  assert.equal(decode(enc("sd a0, 0(a1)")).rs2, 10);
  const c = decode(enc("csrrw a0, mscratch, a1"));
  assert.equal(c.name, "csrrw");
  assert.equal(c.aux, 0x340);
  assert.equal(decode(enc("slli a0, a0, 63")).imm, 63);
  assert.equal(decode(enc("srai a0, a0, 63")).name, "srai");
  assert.equal(decode(enc("sraiw a0, a0, 31")).name, "sraiw");
});

test("compressed instructions decode as their 32-bit equivalents", () => {
  const pairs: [string, string][] = [
    ["c.addi a0, -32", "addi a0, a0, -32"],
    ["c.li a0, 31", "addi a0, zero, 31"],
    ["c.lui a0, 0xfffe0", "lui a0, 0xfffe0"],
    ["c.addi16sp sp, -512", "addi sp, sp, -512"],
    ["c.addi4spn a0, sp, 1020", "addi a0, sp, 1020"],
    ["c.ldsp a0, 504(sp)", "ld a0, 504(sp)"],
    ["c.sdsp a0, 504(sp)", "sd a0, 504(sp)"],
    ["c.lw a0, 124(a1)", "lw a0, 124(a1)"],
    ["c.sd a0, 248(a1)", "sd a0, 248(a1)"],
    ["c.fld fa0, 248(a1)", "fld fa0, 248(a1)"],
    ["c.srai a0, 63", "srai a0, a0, 63"],
    ["c.andi a0, -1", "andi a0, a0, -1"],
    ["c.subw a0, a1", "subw a0, a0, a1"],
    ["c.addiw a0, -1", "addiw a0, a0, -1"],
    ["c.mv a0, a1", "add a0, zero, a1"],
    ["c.add a0, a1", "add a0, a0, a1"],
    ["c.jr a0", "jalr zero, 0(a0)"],
    ["c.jalr a0", "jalr ra, 0(a0)"],
    ["c.ebreak", "ebreak"],
  ];
  for (const [c, full] of pairs) {
    const a = decode(enc(c, true));
    const b = decode(enc(full));
    assert.equal(a.len, 2, c);
    assert.deepEqual([a.name, a.rd, a.rs1, a.rs2, a.imm], [b.name, b.rd, b.rs1, b.rs2, b.imm], c);
  }
});

test("illegal and reserved encodings decode to an illegal instruction with the raw bits", () => {
  assert.equal(decode(0x0000).name, "illegal", "the all-zero parcel");
  assert.equal(decode(0x4002).name, "illegal", "c.lwsp with rd = 0");
  assert.equal(decode(0x6101).name, "illegal", "c.addi16sp with imm 0");
  assert.equal(decode(0x8002).name, "illegal", "c.jr with rs1 = 0");
  assert.equal(decode(0x0000500b).name, "illegal", "custom-0 opcode");
  assert.equal(decode(0x0000500b).raw, 0x500b);
  assert.equal(decode(0x00005053 | (5 << 12)).name, "illegal", "FP op with reserved rounding mode 5");
});

test("FP instructions: rounding mode field and integer destinations", () => {
  const d = decode(enc("fadd.d fa0, fa1, fa2, rtz"));
  assert.deepEqual([d.name, d.rd, d.rs1, d.rs2, d.aux], ["fadd.d", 10, 11, 12, 1]);
  assert.equal(decode(enc("fadd.s fa0, fa1, fa2")).aux, 7, "dynamic rounding");
  assert.equal(decode(enc("fmadd.d fa0, fa1, fa2, fa3")).rs3, 13);
  assert.equal(decode(enc("feq.d zero, fa0, fa1")).rd, 32);
  assert.equal(decode(enc("fmv.d.x f0, a0")).rd, 0, "an f destination 0 is f0, not the sink");
  assert.equal(decode(enc("fcvt.lu.s a0, fa0, rup")).name, "fcvt.lu.s");
});
