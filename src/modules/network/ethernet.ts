/**
 * Ethernet II, IPv4 (RFC 791), UDP (RFC 768) and TCP (RFC 9293) header
 * parsing and building, and the Internet checksum (RFC 1071). Parsers
 * bounds-check every length they read and return undefined for anything
 * malformed. IPv4 addresses are unsigned 32-bit numbers.
 */
export const ETH_HEADER_LEN = 14;
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const BROADCAST_MAC: Uint8Array = new Uint8Array(6).fill(0xff);

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

const IPV4_HEADER_LEN = 20;
const UDP_HEADER_LEN = 8;
const TCP_HEADER_LEN = 20;

export const ipv4 = (a: number, b: number, c: number, d: number): number => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;

export const dataView = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

/**
 * The Internet checksum (RFC 1071 §1): the ones'-complement of the
 * ones'-complement sum of 16-bit big-endian words, an odd last byte padded
 * with zero. `initial` is an unfolded partial sum (a pseudo-header). Over
 * data that includes a correct checksum field the result is 0.
 */
export function internetChecksum(data: Uint8Array, initial = 0): number {
  let sum = initial;
  const even = data.length & ~1;
  for (let i = 0; i < even; i += 2) sum += (data[i] << 8) | data[i + 1];
  if (even < data.length) sum += data[even] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** The unfolded sum of the TCP/UDP pseudo-header (RFC 9293 §3.1, RFC 768). */
export function pseudoHeaderSum(src: number, dst: number, protocol: number, length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
}

export interface EthernetFrame {
  dst: Uint8Array;
  src: Uint8Array;
  type: number;
  payload: Uint8Array;
}

export function parseEthernet(frame: Uint8Array): EthernetFrame | undefined {
  if (frame.length < ETH_HEADER_LEN) return undefined;
  return { dst: frame.subarray(0, 6), src: frame.subarray(6, 12), type: (frame[12] << 8) | frame[13], payload: frame.subarray(ETH_HEADER_LEN) };
}

export function buildEthernet(dst: Uint8Array, src: Uint8Array, type: number, payload: Uint8Array): Uint8Array {
  const f = new Uint8Array(ETH_HEADER_LEN + payload.length);
  f.set(dst, 0);
  f.set(src, 6);
  dataView(f).setUint16(12, type);
  f.set(payload, ETH_HEADER_LEN);
  return f;
}

export interface Ipv4Packet {
  src: number;
  dst: number;
  protocol: number;
  payload: Uint8Array;
}

/** Trailing link padding beyond Total Length is cut off; fragments are dropped, not reassembled. */
export function parseIpv4(p: Uint8Array): Ipv4Packet | undefined {
  if (p.length < IPV4_HEADER_LEN || p[0] >> 4 !== 4) return undefined;
  const v = dataView(p);
  const ihl = (p[0] & 0xf) * 4;
  const total = v.getUint16(2);
  const fragment = v.getUint16(6) & 0x3fff; // MF flag and fragment offset (RFC 791 §3.1)
  if (ihl < IPV4_HEADER_LEN || total < ihl || total > p.length || fragment !== 0) return undefined;
  if (internetChecksum(p.subarray(0, ihl)) !== 0) return undefined;
  return { src: v.getUint32(12), dst: v.getUint32(16), protocol: p[9], payload: p.subarray(ihl, total) };
}

export function buildIpv4(src: number, dst: number, protocol: number, payload: Uint8Array): Uint8Array {
  const p = new Uint8Array(IPV4_HEADER_LEN + payload.length);
  const v = dataView(p);
  p[0] = 0x45;
  v.setUint16(2, p.length);
  v.setUint16(6, 0x4000); // DF: with no fragmentation the ID may stay 0 (RFC 6864 §4.1)
  p[8] = 64;
  p[9] = protocol;
  v.setUint32(12, src);
  v.setUint32(16, dst);
  v.setUint16(10, internetChecksum(p.subarray(0, IPV4_HEADER_LEN)));
  p.set(payload, IPV4_HEADER_LEN);
  return p;
}

export interface UdpDatagram {
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
}

export function parseUdp(ip: Ipv4Packet): UdpDatagram | undefined {
  const d = ip.payload;
  if (d.length < UDP_HEADER_LEN) return undefined;
  const v = dataView(d);
  const len = v.getUint16(4);
  if (len < UDP_HEADER_LEN || len > d.length) return undefined;
  // A zero checksum means the sender computed none (RFC 768).
  if (v.getUint16(6) !== 0 && internetChecksum(d.subarray(0, len), pseudoHeaderSum(ip.src, ip.dst, IPPROTO_UDP, len)) !== 0) return undefined;
  return { srcPort: v.getUint16(0), dstPort: v.getUint16(2), payload: d.subarray(UDP_HEADER_LEN, len) };
}

export function buildUdp(src: number, dst: number, u: UdpDatagram): Uint8Array {
  const d = new Uint8Array(UDP_HEADER_LEN + u.payload.length);
  const v = dataView(d);
  v.setUint16(0, u.srcPort);
  v.setUint16(2, u.dstPort);
  v.setUint16(4, d.length);
  d.set(u.payload, UDP_HEADER_LEN);
  const sum = internetChecksum(d, pseudoHeaderSum(src, dst, IPPROTO_UDP, d.length));
  v.setUint16(6, sum === 0 ? 0xffff : sum); // 0 would mean "no checksum" (RFC 768)
  return d;
}

export interface TcpSegment {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  /** The Maximum Segment Size option, if present. */
  mss?: number;
  payload: Uint8Array;
}

export function parseTcp(ip: Ipv4Packet): TcpSegment | undefined {
  const d = ip.payload;
  if (d.length < TCP_HEADER_LEN) return undefined;
  const hlen = (d[12] >> 4) * 4;
  if (hlen < TCP_HEADER_LEN || hlen > d.length) return undefined;
  if (internetChecksum(d, pseudoHeaderSum(ip.src, ip.dst, IPPROTO_TCP, d.length)) !== 0) return undefined;
  const v = dataView(d);
  return {
    srcPort: v.getUint16(0),
    dstPort: v.getUint16(2),
    seq: v.getUint32(4),
    ack: v.getUint32(8),
    flags: d[13] & 0x3f,
    window: v.getUint16(14),
    mss: parseMss(d.subarray(TCP_HEADER_LEN, hlen)),
    payload: d.subarray(hlen),
  };
}

/** Scans the options (RFC 9293 §3.2) for MSS (kind 2, length 4); a malformed list ends the scan. */
function parseMss(opts: Uint8Array): number | undefined {
  let i = 0;
  while (i < opts.length && opts[i] !== 0) {
    if (opts[i] === 1) {
      i++;
      continue;
    }
    if (i + 1 >= opts.length) return undefined;
    const len = opts[i + 1];
    if (len < 2 || i + len > opts.length) return undefined;
    if (opts[i] === 2 && len === 4) return (opts[i + 2] << 8) | opts[i + 3];
    i += len;
  }
  return undefined;
}

export function buildTcp(src: number, dst: number, s: TcpSegment): Uint8Array {
  const hlen = s.mss === undefined ? TCP_HEADER_LEN : TCP_HEADER_LEN + 4;
  const d = new Uint8Array(hlen + s.payload.length);
  const v = dataView(d);
  v.setUint16(0, s.srcPort);
  v.setUint16(2, s.dstPort);
  v.setUint32(4, s.seq >>> 0);
  v.setUint32(8, s.ack >>> 0);
  d[12] = (hlen / 4) << 4;
  d[13] = s.flags;
  v.setUint16(14, s.window);
  if (s.mss !== undefined) {
    d[20] = 2;
    d[21] = 4;
    v.setUint16(22, s.mss);
  }
  d.set(s.payload, hlen);
  v.setUint16(16, internetChecksum(d, pseudoHeaderSum(src, dst, IPPROTO_TCP, d.length)));
  return d;
}
