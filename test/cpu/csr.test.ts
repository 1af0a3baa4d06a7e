// CSR access rules (Privileged ISA §2, §3.1): privilege and read-only checks,
// WARL fields, the sstatus/sie/sip views of their M-mode registers, and
// counter gating by mcounteren/scounteren.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Hart } from "../../src/cpu/riscv/hart.js";
import { Priv } from "../../src/cpu/riscv/priv.js";
import { csrRead, csrWrite } from "../../src/cpu/riscv/csr.js";
import { restoreHart, saveHart } from "../../src/cpu/riscv/hartSavedState.js";
import { decode } from "../../src/cpu/riscv/decode.js";
import { TRAP } from "../../src/cpu/riscv/trap.js";
import { GuestMemory } from "../../src/memory/guestMemory.js";
import { Bus } from "../../src/devices/bus.js";
import { interpreter } from "../../src/cpu/riscv/translate/engine.js";

function hart(): Hart {
  return new Hart(0, new GuestMemory(0x8000_0000, 1 << 20), new Bus(), interpreter);
}

/** The exception cause a CSR access raises, or undefined. */
function fault(fn: () => unknown, h: Hart): number | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (e !== TRAP) throw e;
    return h.trapCause;
  }
}

const MSTATUS = 0x300, MISA = 0x301, MEDELEG = 0x302, MIDELEG = 0x303, MIE = 0x304, MTVEC = 0x305;
const MCOUNTEREN = 0x306, MCOUNTINHIBIT = 0x320, SSTATUS = 0x100, SIE = 0x104, SCOUNTEREN = 0x106, SATP = 0x180, MIP = 0x344, SIP = 0x144;
const CYCLE = 0xc00, TIME = 0xc01, MVENDORID = 0xf11, MHARTID = 0xf14;

test("M-mode CSRs are illegal below M; read-only CSRs cannot be written", () => {
  const h = hart();
  h.priv = Priv.S;
  assert.equal(fault(() => csrRead(h, MSTATUS, 0), h), 2);
  assert.equal(fault(() => csrRead(h, SSTATUS, 0), h), undefined);
  h.priv = Priv.U;
  assert.equal(fault(() => csrRead(h, SSTATUS, 0), h), 2);
  h.priv = Priv.M;
  assert.equal(fault(() => csrWrite(h, MVENDORID, 1n, 0), h), 2);
  assert.equal(fault(() => csrWrite(h, MHARTID, 1n, 0), h), 2);
  assert.equal(csrRead(h, MHARTID, 0), 0n);
});

test("misa reports RV64 ABCDFIMSU (B = Zba + Zbb + Zbs); mstatus fixes UXL/SXL at 64 bits", () => {
  const h = hart();
  const misa = csrRead(h, MISA, 0);
  assert.equal(misa >> 62n, 2n);
  const letters = [..."ABCDFIMSU"].map((c) => 1n << BigInt(c.charCodeAt(0) - 65)).reduce((a, b) => a | b);
  assert.equal(misa & ((1n << 26n) - 1n), letters);
  const ms = csrRead(h, MSTATUS, 0);
  assert.equal((ms >> 32n) & 0xfn, 0xan, "UXL = SXL = 2");
});

test("sstatus is a view of mstatus; sie and sip are masked by mideleg", () => {
  const h = hart();
  csrWrite(h, MSTATUS, (1n << 1n) | (1n << 3n) | (1n << 18n), 0); // SIE, MIE, SUM
  assert.equal(csrRead(h, SSTATUS, 0) & ((1n << 1n) | (1n << 3n) | (1n << 18n)), (1n << 1n) | (1n << 18n), "MIE is not visible in sstatus");
  csrWrite(h, SSTATUS, 0n, 0);
  assert.equal(csrRead(h, MSTATUS, 0) & (1n << 3n), 1n << 3n, "writing sstatus leaves MIE alone");
  csrWrite(h, MIE, 0xaaan, 0);
  csrWrite(h, MIDELEG, 0n, 0);
  assert.equal(csrRead(h, SIE, 0), 0n);
  csrWrite(h, MIDELEG, 0x222n, 0);
  assert.equal(csrRead(h, SIE, 0), 0x222n);
  csrWrite(h, MIP, 0x2n, 0);
  assert.equal(csrRead(h, SIP, 0), 0x2n);
});

test("WARL fields: medeleg cannot delegate ECALL from M, mtvec modes 0/1 only, satp ignores unsupported modes", () => {
  const h = hart();
  csrWrite(h, MEDELEG, 0xffffn, 0);
  assert.equal((csrRead(h, MEDELEG, 0) >> 11n) & 1n, 0n);
  csrWrite(h, MTVEC, 0x80000003n, 0);
  assert.notEqual(csrRead(h, MTVEC, 0) & 3n, 3n);
  csrWrite(h, SATP, (8n << 60n) | 0x80123n, 0);
  assert.equal(csrRead(h, SATP, 0), (8n << 60n) | 0x80123n);
  csrWrite(h, SATP, (10n << 60n) | 0x1n, 0);
  assert.equal(csrRead(h, SATP, 0) >> 60n, 8n, "Sv57 is not implemented: the write is ignored");
});

test("counters: readable in S/U only when enabled by mcounteren and scounteren", () => {
  const h = hart();
  h.readTime = () => 12345;
  assert.equal(csrRead(h, TIME, 0), 12345n);
  h.priv = Priv.S;
  assert.equal(fault(() => csrRead(h, CYCLE, 0), h), 2);
  h.priv = Priv.M;
  csrWrite(h, MCOUNTEREN, 7n, 0);
  h.priv = Priv.S;
  assert.equal(csrRead(h, TIME, 0), 12345n);
  h.priv = Priv.U;
  assert.equal(fault(() => csrRead(h, TIME, 0), h), 2);
  h.priv = Priv.S;
  csrWrite(h, SCOUNTEREN, 2n, 0);
  h.priv = Priv.U;
  assert.equal(csrRead(h, TIME, 0), 12345n);
  assert.equal(fault(() => csrRead(h, CYCLE, 0), h), 2);
});

test("CSR instructions on sstatus (their BigInt-free fast path) read and write what csrRead/csrWrite do", () => {
  // csrrs/csrrc/csrrw a0, sstatus, a1 and the immediate forms with uimm 2 (SIE); rd = a0 (x10), rs1 = a1 (x11).
  const insns = [0x1005a573, 0x1005b573, 0x10059573, 0x10016573, 0x10017573, 0x10015573];
  for (const raw of insns) {
    for (const fs of [0n, 3n << 13n]) {
      const h = hart();
      csrWrite(h, MSTATUS, fs | (1n << 18n) | (1n << 8n) | (1n << 3n), 0); // FS, SUM, SPP, MIE
      const before = csrRead(h, SSTATUS, 0);
      h.priv = Priv.S;
      h.setX(11, 0xffff_ffff_0000_0002n); // SIE, and high bits no sstatus field has
      const ins = decode(raw);
      ins.exec(h, ins);
      h.priv = Priv.M;
      assert.equal(h.getX(10), before, `rd gets the old sstatus (${raw.toString(16)})`);
      const funct3 = (raw >>> 12) & 3;
      const operand = (raw >>> 14) & 1 ? 2n : 0xffff_ffff_0000_0002n;
      const written = funct3 === 1 ? operand : funct3 === 2 ? before | operand : before & ~operand;
      const writable = (1n << 1n) | (1n << 5n) | (1n << 8n) | (3n << 13n) | (1n << 18n) | (1n << 19n);
      const expect = (before & ~writable) | (written & writable);
      assert.equal(csrRead(h, SSTATUS, 0) & ~(1n << 63n), expect & ~(1n << 63n), `sstatus after ${raw.toString(16)}`);
      assert.equal(csrRead(h, MSTATUS, 0) & (1n << 3n), 1n << 3n, "MIE untouched");
    }
  }
});

test("mcountinhibit is 32 bits wide: all ones reads back zero-extended without TM, and a hart holding it saves and restores", () => {
  const h = hart();
  csrWrite(h, MCOUNTINHIBIT, (1n << 64n) - 1n, 0); // as OpenSBI does at boot
  assert.equal(csrRead(h, MCOUNTINHIBIT, 0), 0xffff_fffdn);
  const g = hart();
  restoreHart(g, JSON.parse(JSON.stringify(saveHart(h))));
  assert.equal(csrRead(g, MCOUNTINHIBIT, 0), 0xffff_fffdn);
});
