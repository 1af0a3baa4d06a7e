/**
 * The TCP half of the user-mode network. A guest connection to
 * hostIp:PORT is terminated here and proxied to a net.Socket on
 * 127.0.0.1:PORT (QEMU slirp's convention that the gateway is the host).
 * Each connection keeps the RFC 9293 send and receive sequence state: guest
 * data is taken strictly in order, host data goes out in MSS-sized segments
 * within the guest's window and is retransmitted until acknowledged, since
 * the virtual link drops frames when the guest's receive queue is full.
 */
import * as net from "node:net";
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, type TcpSegment } from "./ethernet.js";

/** Delivers a segment from `srcIp` to the guest at `dstIp`. */
export type TcpOutput = (srcIp: number, dstIp: number, seg: TcpSegment) => void;

const OUR_MSS = 1460;
const DEFAULT_MSS = 536; // assumed when the SYN carries no MSS option (RFC 9293 §3.7.1)
const WINDOW = 65535;
const RTO_MS = 200;
const MAX_RETRIES = 150; // ~30 s without any acceptable ACK: the guest is gone
const EMPTY = new Uint8Array(0);

/** a - b in sequence space, as a signed 32-bit distance (RFC 9293 §3.4). */
const seqDiff = (a: number, b: number): number => (a - b) | 0;
const seqLength = (s: TcpSegment): number => s.payload.length + (s.flags & TCP_SYN ? 1 : 0) + (s.flags & TCP_FIN ? 1 : 0);

export class TcpNat {
  private readonly conns = new Map<string, Connection>();

  constructor(
    private readonly hostIp: number,
    private readonly output: TcpOutput,
  ) {}

  /** Handles one segment the guest sent from `srcIp` to `dstIp`. */
  handle(srcIp: number, dstIp: number, seg: TcpSegment): void {
    const key = `${srcIp}:${seg.srcPort}:${dstIp}:${seg.dstPort}`;
    const conn = this.conns.get(key);
    if (conn) return conn.segment(seg);
    if ((seg.flags & (TCP_SYN | TCP_ACK | TCP_RST)) === TCP_SYN && dstIp === this.hostIp) {
      const c: Connection = new Connection(srcIp, dstIp, seg, this.output, () => this.conns.get(key) === c && this.conns.delete(key));
      this.conns.set(key, c);
      return;
    }
    // No such connection (RFC 9293 §3.10.7.1): answer anything but a RST with a RST.
    if (seg.flags & TCP_RST) return;
    const reply = { srcPort: seg.dstPort, dstPort: seg.srcPort, window: 0, payload: EMPTY };
    if (seg.flags & TCP_ACK) this.output(dstIp, srcIp, { ...reply, seq: seg.ack, ack: 0, flags: TCP_RST });
    else this.output(dstIp, srcIp, { ...reply, seq: 0, ack: (seg.seq + seqLength(seg)) >>> 0, flags: TCP_RST | TCP_ACK });
  }

  /** Drops every connection and its host socket. */
  close(): void {
    for (const c of this.conns.values()) c.close();
  }
}

class Connection {
  private readonly socket: net.Socket;
  private readonly guestPort: number;
  private readonly hostPort: number;
  private readonly mss: number;
  private readonly iss = Math.floor(Math.random() * 0x1_0000_0000);
  private sndUna = this.iss; // oldest unacknowledged sequence number
  private sndWnd: number;
  private rcvNxt: number;
  private out = Buffer.alloc(0); // host data from SND.UNA on: first the `sent` bytes in flight, then unsent
  private sent = 0;
  private synSent = false;
  private synAcked = false;
  private hostEof = false;
  private finSent = false;
  private finAcked = false;
  private guestFin = false;
  private timer: NodeJS.Timeout | undefined;
  private retries = 0;

  constructor(
    private readonly guestIp: number,
    private readonly hostIp: number,
    syn: TcpSegment,
    private readonly output: TcpOutput,
    private readonly forget: () => void,
  ) {
    this.guestPort = syn.srcPort;
    this.hostPort = syn.dstPort;
    this.rcvNxt = (syn.seq + 1) >>> 0;
    this.sndWnd = syn.window;
    this.mss = Math.min(syn.mss || DEFAULT_MSS, OUR_MSS);
    this.socket = net.connect({ host: "127.0.0.1", port: syn.dstPort, allowHalfOpen: true });
    this.socket.on("connect", () => {
      this.synSent = true;
      this.sendSynAck();
      this.startTimer();
    });
    this.socket.on("data", (d: Buffer) => {
      this.out = Buffer.concat([this.out, d]);
      this.pump();
    });
    this.socket.on("end", () => {
      this.hostEof = true;
      this.pump();
    });
    this.socket.on("drain", () => this.synAcked && this.emit(0, this.sndNxt)); // window update
    this.socket.on("error", () => this.reset()); // also a refused connect: RST answers the SYN
  }

  private get sndNxt(): number {
    const syn = this.synSent && !this.synAcked ? 1 : 0;
    const fin = this.finSent && !this.finAcked ? 1 : 0;
    return (this.sndUna + syn + this.sent + fin) >>> 0;
  }

  segment(seg: TcpSegment): void {
    if (seg.flags & TCP_RST) return this.close();
    if (seg.flags & TCP_SYN) {
      if (this.synSent && !this.synAcked) this.sendSynAck(); // the guest retransmitted its SYN
      return;
    }
    if (!(seg.flags & TCP_ACK) || !this.acknowledge(seg)) return;
    this.receive(seg);
    this.pump();
    if (this.guestFin && this.finAcked) this.close();
  }

  /** Processes SEG.ACK (RFC 9293 §3.10.7.4); false if the segment is unacceptable before the handshake completes. */
  private acknowledge(seg: TcpSegment): boolean {
    if (!this.synAcked) {
      if (!this.synSent || seg.ack !== ((this.iss + 1) >>> 0)) return false;
      this.synAcked = true;
      this.sndUna = seg.ack;
    }
    const acked = seqDiff(seg.ack, this.sndUna);
    if (acked < 0 || acked > seqDiff(this.sndNxt, this.sndUna)) return true;
    this.sndWnd = seg.window;
    this.retries = 0;
    const data = Math.min(acked, this.sent);
    this.out = this.out.subarray(data);
    this.sent -= data;
    this.sndUna = seg.ack;
    if (acked > data) this.finAcked = true;
    if (acked > 0) this.startTimer(true); // RFC 6298 §5.3
    return true;
  }

  /** Guest data and FIN are taken only at RCV.NXT; anything else is dropped and answered with an ACK for RCV.NXT. */
  private receive(seg: TcpSegment): void {
    const fin = seg.flags & TCP_FIN ? 1 : 0;
    if (seg.payload.length + fin === 0) return;
    const skip = seqDiff(this.rcvNxt, seg.seq); // bytes of the segment already received
    if (!this.guestFin && skip >= 0 && skip < seg.payload.length + fin) {
      const data = seg.payload.subarray(skip);
      if (data.length > 0) this.socket.write(data);
      this.rcvNxt = (this.rcvNxt + data.length + fin) >>> 0;
      if (fin) {
        this.guestFin = true;
        this.socket.end();
      }
    }
    this.emit(0, this.sndNxt);
  }

  /** Sends what the guest's window allows, then our FIN once the host has closed and all data is out. */
  private pump(): void {
    if (!this.synAcked) return;
    while (this.sent < this.out.length) {
      const n = Math.min(this.mss, this.out.length - this.sent, this.sndWnd - this.sent);
      if (n <= 0) break;
      this.sendData(this.sent, n);
      this.sent += n;
    }
    if (this.hostEof && !this.finSent && this.sent === this.out.length) {
      this.finSent = true;
      this.emit(TCP_FIN, this.sndNxt - 1);
    }
    // Backpressure: stop reading the host while data waits for the guest's window.
    if (this.sent < this.out.length) this.socket.pause();
    else this.socket.resume();
    this.startTimer();
  }

  /** Go back to SND.UNA and resend everything in flight; with nothing in flight, probe a zero window with one byte (RFC 9293 §3.8.6.1). */
  private retransmit(): void {
    this.timer = undefined;
    if (++this.retries > MAX_RETRIES) return this.reset();
    if (!this.synAcked) this.sendSynAck();
    const n = this.synAcked ? this.sent || Math.min(1, this.out.length) : 0;
    for (let off = 0; off < n; off += this.mss) this.sendData(off, Math.min(this.mss, n - off));
    this.sent = n;
    if (this.finSent && !this.finAcked) this.emit(TCP_FIN, this.sndNxt - 1);
    this.startTimer();
  }

  /** Starts the retransmission timer if anything is outstanding (RFC 6298 §5.1); `restart` discards a running one. */
  private startTimer(restart = false): void {
    if (restart) clearTimeout(this.timer);
    else if (this.timer) return;
    const outstanding = !this.synAcked || this.out.length > 0 || (this.finSent && !this.finAcked);
    this.timer = outstanding ? setTimeout(() => this.retransmit(), RTO_MS).unref() : undefined;
  }

  private sendSynAck(): void {
    this.emit(TCP_SYN, this.iss, EMPTY, OUR_MSS);
  }

  private sendData(offset: number, n: number): void {
    this.emit(TCP_PSH, this.sndUna + offset, this.out.subarray(offset, offset + n));
  }

  private emit(flags: number, seq: number, payload = EMPTY, mss?: number): void {
    const window = Math.max(0, WINDOW - this.socket.writableLength);
    const seg = { srcPort: this.hostPort, dstPort: this.guestPort, seq: seq >>> 0, ack: this.rcvNxt, flags: flags | TCP_ACK, window, mss, payload };
    this.output(this.hostIp, this.guestIp, seg);
  }

  private reset(): void {
    this.emit(TCP_RST, this.sndNxt);
    this.close();
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.socket.destroy();
    this.forget();
  }
}
