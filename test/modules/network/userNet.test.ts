import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { once } from "node:events";
import { setTimeout as delay } from "node:timers/promises";
import {
  BROADCAST_MAC, ETHERTYPE_ARP, ETHERTYPE_IPV4, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, TCP_ACK, TCP_FIN, TCP_RST,
  TCP_SYN, buildEthernet, buildIpv4, buildTcp, buildUdp, dataView, internetChecksum, ipv4, parseEthernet, parseIpv4,
  parseTcp, parseUdp, pseudoHeaderSum, type TcpSegment,
} from "../../../src/modules/network/ethernet.js";
import { DNS_IP, GATEWAY_MAC, GUEST_IP, HOST_IP, UserNet } from "../../../src/modules/network/userNet.js";

const GUEST_MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, 0x56);

/** A guest NIC: collects what the backend sends and builds frames for it. */
class Guest {
  readonly frames: Uint8Array[] = [];
  readonly net = new UserNet({ send: (f) => this.frames.push(f) });

  ip(src: number, dst: number, protocol: number, payload: Uint8Array, dstMac = GATEWAY_MAC): void {
    this.net.receive(buildEthernet(dstMac, GUEST_MAC, ETHERTYPE_IPV4, buildIpv4(src, dst, protocol, payload)));
  }

  tcp(seg: Partial<TcpSegment> & { dstPort: number; flags: number }, dst = HOST_IP): void {
    const s = { srcPort: 40000, seq: 0, ack: 0, window: 65535, payload: new Uint8Array(0), ...seg };
    this.ip(GUEST_IP, dst, IPPROTO_TCP, buildTcp(GUEST_IP, dst, s));
  }

  /** Waits for the first sent TCP segment matching `pred` and removes it (and everything before it). */
  async nextTcp(pred: (s: TcpSegment) => boolean = () => true, ms = 2000): Promise<TcpSegment> {
    const end = Date.now() + ms;
    for (;;) {
      while (this.frames.length > 0) {
        const seg = tcpOf(this.frames.shift()!);
        if (seg && pred(seg)) return seg;
      }
      if (Date.now() > end) throw new Error("timed out waiting for a TCP segment");
      await delay(5);
    }
  }
}

/** Parses a frame the backend sent as guest-bound IPv4 TCP; parsing verifies both checksums. */
function tcpOf(frame: Uint8Array): TcpSegment | undefined {
  const eth = parseEthernet(frame)!;
  const ip = eth.type === ETHERTYPE_IPV4 ? parseIpv4(eth.payload) : undefined;
  if (ip?.protocol !== IPPROTO_TCP) return undefined;
  assert.equal(ip.src, HOST_IP);
  assert.equal(ip.dst, GUEST_IP);
  const seg = parseTcp(ip);
  assert.ok(seg, "TCP checksum and header are valid");
  return seg;
}

function dhcpMessage(type: number, xid: number): Uint8Array {
  const m = new Uint8Array(300);
  m.set([1, 1, 6, 0]);
  dataView(m).setUint32(4, xid);
  m.set(GUEST_MAC, 28);
  dataView(m).setUint32(236, 0x63825363);
  m.set([53, 1, type, 50, 4, 10, 0, 2, 15, 255], 240);
  return m;
}

function dhcpOptions(m: Uint8Array): Map<number, number[]> {
  const opts = new Map<number, number[]>();
  for (let i = 240; m[i] !== 255; i += 2 + m[i + 1]) opts.set(m[i], [...m.subarray(i + 2, i + 2 + m[i + 1])]);
  return opts;
}

test("DHCP: DISCOVER gets a broadcast OFFER and REQUEST an ACK for 10.0.2.15", () => {
  const g = new Guest();
  for (const [type, reply] of [[1, 2], [3, 5]]) {
    g.ip(0, 0xffffffff, IPPROTO_UDP, buildUdp(0, 0xffffffff, { srcPort: 68, dstPort: 67, payload: dhcpMessage(type, 0xdeadbeef) }), BROADCAST_MAC);
    assert.equal(g.frames.length, 1);
    const eth = parseEthernet(g.frames.pop()!)!;
    assert.deepEqual(eth.dst, BROADCAST_MAC);
    assert.deepEqual(eth.src, GATEWAY_MAC);
    const ip = parseIpv4(eth.payload)!;
    assert.equal(ip.src, HOST_IP);
    assert.equal(ip.dst, 0xffffffff);
    const udp = parseUdp(ip)!;
    assert.deepEqual([udp.srcPort, udp.dstPort], [67, 68]);
    const m = udp.payload;
    assert.ok(m.length >= 300);
    assert.equal(m[0], 2);
    assert.equal(dataView(m).getUint32(4), 0xdeadbeef);
    assert.equal(dataView(m).getUint32(16), GUEST_IP);
    assert.deepEqual(m.subarray(28, 34), GUEST_MAC);
    assert.equal(dataView(m).getUint32(236), 0x63825363);
    const opts = dhcpOptions(m);
    assert.deepEqual(opts.get(53), [reply]);
    assert.deepEqual(opts.get(54), [10, 0, 2, 2]);
    assert.deepEqual(opts.get(51), [0, 1, 0x51, 0x80]);
    assert.deepEqual(opts.get(1), [255, 255, 255, 0]);
    assert.deepEqual(opts.get(3), [10, 0, 2, 2]);
    assert.deepEqual(opts.get(6), [10, 0, 2, 3]);
  }
  assert.deepEqual(g.net.guestMac, GUEST_MAC);
});

test("ARP requests for the gateway and DNS addresses get the gateway MAC; others none", () => {
  const g = new Guest();
  for (const target of [HOST_IP, DNS_IP, ipv4(10, 0, 2, 99)]) {
    const req = new Uint8Array(28);
    req.set([0, 1, 8, 0, 6, 4, 0, 1]);
    req.set(GUEST_MAC, 8);
    dataView(req).setUint32(14, GUEST_IP);
    dataView(req).setUint32(24, target);
    g.net.receive(buildEthernet(BROADCAST_MAC, GUEST_MAC, ETHERTYPE_ARP, req));
  }
  assert.equal(g.frames.length, 2);
  for (const [i, ip] of [HOST_IP, DNS_IP].entries()) {
    const eth = parseEthernet(g.frames[i])!;
    assert.deepEqual([eth.dst, eth.src, eth.type], [GUEST_MAC, GATEWAY_MAC, ETHERTYPE_ARP]);
    const r = eth.payload;
    assert.equal(dataView(r).getUint16(6), 2);
    assert.deepEqual(r.subarray(8, 14), GATEWAY_MAC);
    assert.equal(dataView(r).getUint32(14), ip);
    assert.deepEqual(r.subarray(18, 24), GUEST_MAC);
    assert.equal(dataView(r).getUint32(24), GUEST_IP);
  }
});

test("ICMP echo request to 10.0.2.2 gets an echo reply with the same data and a valid checksum", () => {
  const g = new Guest();
  const req = Uint8Array.of(8, 0, 0, 0, 0x12, 0x34, 0, 7, ...Buffer.from("ping data"));
  dataView(req).setUint16(2, internetChecksum(req));
  g.ip(GUEST_IP, HOST_IP, IPPROTO_ICMP, req);
  assert.equal(g.frames.length, 1);
  const eth = parseEthernet(g.frames[0])!;
  assert.deepEqual(eth.dst, GUEST_MAC);
  const ip = parseIpv4(eth.payload)!;
  assert.deepEqual([ip.src, ip.dst, ip.protocol], [HOST_IP, GUEST_IP, IPPROTO_ICMP]);
  assert.equal(ip.payload[0], 0);
  assert.deepEqual(ip.payload.subarray(4), req.subarray(4));
  assert.equal(internetChecksum(ip.payload), 0);
});

/** A TCP server on the host's loopback (half-open allowed) and a guest NIC, both closed after the test. */
async function hostServerAndGuest(t: TestContext, onConnection: (s: net.Socket) => void): Promise<{ port: number; g: Guest }> {
  const server = net.createServer({ allowHalfOpen: true }, onConnection);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  t.after(() => server.close());
  const g = new Guest();
  t.after(() => g.net.close());
  return { port: (server.address() as net.AddressInfo).port, g };
}

test("TCP to 10.0.2.2 is proxied to a host server on 127.0.0.1, both directions and FIN", async (t) => {
  const received: Buffer[] = [];
  const { port, g } = await hostServerAndGuest(t, (s) => {
    s.on("data", (d) => received.push(d));
    s.on("end", () => s.end(Buffer.alloc(4000, "r")));
  });

  g.tcp({ dstPort: port, flags: TCP_SYN, seq: 1000, mss: 1000 });
  const synAck = await g.nextTcp();
  assert.equal(synAck.flags, TCP_SYN | TCP_ACK);
  assert.deepEqual([synAck.srcPort, synAck.dstPort, synAck.ack, synAck.mss], [port, 40000, 1001, 1460]);
  let ourAck = (synAck.seq + 1) >>> 0;
  g.tcp({ dstPort: port, flags: TCP_ACK, seq: 1001, ack: ourAck, payload: Buffer.from("hello") });
  assert.equal((await g.nextTcp()).ack, 1006);
  // A duplicate and an out-of-order segment are not passed on; each is answered with ACK 1006.
  g.tcp({ dstPort: port, flags: TCP_ACK, seq: 1001, ack: ourAck, payload: Buffer.from("hello") });
  g.tcp({ dstPort: port, flags: TCP_ACK, seq: 2000, ack: ourAck, payload: Buffer.from("later") });
  assert.equal((await g.nextTcp()).ack, 1006);
  assert.equal((await g.nextTcp()).ack, 1006);
  g.tcp({ dstPort: port, flags: TCP_ACK | TCP_FIN, seq: 1006, ack: ourAck, payload: Buffer.from(" world") });
  assert.equal((await g.nextTcp()).ack, 1013);

  let data = Buffer.alloc(0);
  let fin: TcpSegment | undefined;
  while (!fin) {
    const s = await g.nextTcp();
    assert.equal(s.seq, (ourAck + data.length) >>> 0);
    assert.ok(s.payload.length <= 1000, "segments respect the guest's MSS");
    data = Buffer.concat([data, s.payload]);
    if (s.flags & TCP_FIN) fin = s;
    else g.tcp({ dstPort: port, flags: TCP_ACK, seq: 1013, ack: (s.seq + s.payload.length) >>> 0 });
  }
  assert.equal(Buffer.concat(received).toString(), "hello world");
  assert.deepEqual(data, Buffer.alloc(4000, "r"));
  ourAck = (fin.seq + 1) >>> 0;
  g.tcp({ dstPort: port, flags: TCP_ACK, seq: 1013, ack: ourAck });
  // The connection is gone: a further segment on it is refused.
  g.tcp({ dstPort: port, flags: TCP_ACK, seq: 1013, ack: ourAck });
  assert.equal((await g.nextTcp()).flags, TCP_RST);
});

test("host data is held to the guest's window and retransmitted until acknowledged", async (t) => {
  const { port, g } = await hostServerAndGuest(t, (s) => s.end(Buffer.alloc(3000, "x")));

  g.tcp({ dstPort: port, flags: TCP_SYN, seq: 0, window: 1000 });
  const synAck = await g.nextTcp();
  const iss = (synAck.seq + 1) >>> 0;
  g.tcp({ dstPort: port, flags: TCP_ACK, seq: 1, ack: iss, window: 1000 });
  const first = await g.nextTcp((s) => s.payload.length > 0);
  assert.equal(first.seq, iss);
  await delay(100);
  const sent = [first, ...g.frames.splice(0).map(tcpOf)].map((s) => (s ? s.seq - iss + s.payload.length : 0));
  assert.equal(Math.max(...sent), 1000, "no more than the advertised window is in flight");
  const again = await g.nextTcp((s) => s.payload.length > 0, 1000);
  assert.equal(again.seq, iss, "unacknowledged data is resent from SND.UNA");
  assert.deepEqual(again.payload, first.payload);
});

test("SYNs to a closed host port or to another address are answered with RST", async () => {
  const probe = net.createServer().listen(0, "127.0.0.1");
  await once(probe, "listening");
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise((r) => probe.close(r));
  const g = new Guest();
  g.tcp({ dstPort: port, flags: TCP_SYN, seq: 41 });
  const rst = await g.nextTcp();
  assert.equal(rst.flags, TCP_RST | TCP_ACK);
  assert.equal(rst.ack, 42);
  g.frames.length = 0;
  const other = ipv4(93, 184, 216, 34);
  g.tcp({ dstPort: 80, flags: TCP_SYN, seq: 9 }, other);
  const eth = parseEthernet(g.frames[0])!;
  const ip = parseIpv4(eth.payload)!;
  assert.deepEqual([ip.src, ip.dst], [other, GUEST_IP]);
  const seg = parseTcp(ip)!;
  assert.deepEqual([seg.flags, seg.ack], [TCP_RST | TCP_ACK, 10]);
});

test("malformed and truncated frames are dropped without exceptions", () => {
  let seed = 12345;
  const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
  const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => rand(256));
  const eth = (type: number, payload: Uint8Array): Uint8Array => buildEthernet(GATEWAY_MAC, GUEST_MAC, type, payload);
  const valid = [
    eth(ETHERTYPE_IPV4, buildIpv4(0, 0xffffffff, IPPROTO_UDP, buildUdp(0, 0xffffffff, { srcPort: 68, dstPort: 67, payload: dhcpMessage(1, 1) }))),
    eth(ETHERTYPE_IPV4, buildIpv4(GUEST_IP, HOST_IP, IPPROTO_TCP, buildTcp(GUEST_IP, HOST_IP, { srcPort: 1, dstPort: 9, seq: 0, ack: 0, flags: TCP_ACK, window: 0, mss: 1460, payload: bytes(9) }))),
    eth(ETHERTYPE_ARP, Uint8Array.of(0, 1, 8, 0, 6, 4, 0, 1, ...GUEST_MAC, 10, 0, 2, 15, 0, 0, 0, 0, 0, 0, 10, 0, 2, 2)),
  ];
  const fuzzed = (i: number): Uint8Array => {
    const base = valid[rand(valid.length)];
    switch (i % 6) {
      case 0:
        return base.subarray(0, rand(base.length));
      case 1: {
        const f = Uint8Array.from(base);
        for (let k = 0; k < 4; k++) f[14 + rand(f.length - 14)] = rand(256);
        return f;
      }
      case 2:
        return bytes(rand(120));
      case 3: {
        // Random TCP header fields and options behind valid checksums; never SYN, so no host socket is opened.
        const tcp = bytes(20 + rand(60));
        tcp[13] &= ~TCP_SYN;
        dataView(tcp).setUint16(16, 0);
        dataView(tcp).setUint16(16, internetChecksum(tcp, pseudoHeaderSum(GUEST_IP, HOST_IP, IPPROTO_TCP, tcp.length)));
        return eth(ETHERTYPE_IPV4, buildIpv4(GUEST_IP, HOST_IP, IPPROTO_TCP, tcp));
      }
      case 4: {
        const m = dhcpMessage(1 + rand(8), 1);
        m.set(bytes(60), 240);
        const udp = buildUdp(0, 0xffffffff, { srcPort: 68, dstPort: 67, payload: m.subarray(0, 240 + rand(60)) });
        return eth(ETHERTYPE_IPV4, buildIpv4(0, 0xffffffff, IPPROTO_UDP, udp));
      }
      default: {
        // Random IHL, total length and fragment fields behind a valid header checksum.
        const f = Uint8Array.from(base);
        const ip = f.subarray(14);
        ip[0] = 0x40 | rand(16);
        ip.set(bytes(2), 2 + 4 * rand(2));
        dataView(ip).setUint16(10, 0);
        const ihl = Math.min((ip[0] & 15) * 4, ip.length);
        dataView(ip).setUint16(10, internetChecksum(ip.subarray(0, ihl)));
        return f;
      }
    }
  };
  const g = new Guest();
  for (let i = 0; i < 1200; i++) {
    const f = fuzzed(i);
    assert.doesNotThrow(() => g.net.receive(f));
  }
  g.net.close();
});
