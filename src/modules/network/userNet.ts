/**
 * A user-mode network backend in the manner of QEMU's `-netdev user`
 * (slirp): the far end of the guest NIC's wire, exchanging raw Ethernet
 * frames. The subnet is 10.0.2.0/24: 10.0.2.2 is the gateway and stands for
 * the host (TCP to it reaches 127.0.0.1), 10.0.2.3 is the DNS address and
 * DHCP leases 10.0.2.15 to the guest. Malformed frames are dropped silently.
 */
import { dhcpReply, type DhcpConfig } from "./dhcpServer.js";
import {
  BROADCAST_MAC, ETHERTYPE_ARP, ETHERTYPE_IPV4, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, buildEthernet, buildIpv4,
  buildTcp, buildUdp, dataView, internetChecksum, ipv4, parseEthernet, parseIpv4, parseTcp, parseUdp, type Ipv4Packet,
} from "./ethernet.js";
import { TcpNat } from "./tcpNat.js";
import type { NetBackend } from "./netBackend.js";

export const GATEWAY_MAC: Uint8Array = Uint8Array.of(0x52, 0x55, 0x0a, 0x00, 0x02, 0x02);
export const HOST_IP = ipv4(10, 0, 2, 2);
export const DNS_IP = ipv4(10, 0, 2, 3);
export const GUEST_IP = ipv4(10, 0, 2, 15);

const BROADCAST_IP = 0xffffffff;
const DHCP: DhcpConfig = { server: HOST_IP, client: GUEST_IP, netmask: ipv4(255, 255, 255, 0), router: HOST_IP, dns: DNS_IP };
const DHCP_SERVER_PORT = 67;
const DHCP_CLIENT_PORT = 68;
const ARP_LEN = 28; // Ethernet/IPv4 ARP packet (RFC 826)
const ARP_REQUEST = 1;
const ARP_REPLY = 2;
const ICMP_ECHO_REPLY = 0;
const ICMP_ECHO_REQUEST = 8;

export interface UserNetOptions {
  /** Delivers one frame to the guest NIC. */
  send: (frame: Uint8Array) => void;
}

export class UserNet implements NetBackend {
  private readonly send: (frame: Uint8Array) => void;
  private readonly tcp: TcpNat;
  private mac: Uint8Array | undefined;

  constructor(opts: UserNetOptions) {
    this.send = opts.send;
    this.tcp = new TcpNat(HOST_IP, (src, dst, seg) => this.sendIp(src, dst, IPPROTO_TCP, buildTcp(src, dst, seg)));
  }

  /** The guest NIC's MAC address, learned from the source of its unicast-sourced frames. */
  get guestMac(): Uint8Array | undefined {
    return this.mac;
  }

  /** Takes one frame the guest transmitted. */
  receive(frame: Uint8Array): void {
    const eth = parseEthernet(frame);
    if (!eth) return;
    if ((eth.src[0] & 1) === 0) this.mac = Uint8Array.from(eth.src);
    if (eth.type === ETHERTYPE_ARP) this.arp(eth.payload);
    else if (eth.type === ETHERTYPE_IPV4) this.ip(eth.payload);
  }

  /** Closes every proxied connection. */
  close(): void {
    this.tcp.close();
  }

  /** Answers "who has 10.0.2.2 / 10.0.2.3" (RFC 826) with the gateway's MAC. */
  private arp(p: Uint8Array): void {
    if (p.length < ARP_LEN) return;
    const v = dataView(p);
    if (v.getUint16(0) !== 1 || v.getUint16(2) !== ETHERTYPE_IPV4 || p[4] !== 6 || p[5] !== 4 || v.getUint16(6) !== ARP_REQUEST) return;
    if (!isGateway(v.getUint32(24))) return;
    const r = new Uint8Array(ARP_LEN);
    r.set(p.subarray(0, 6)); // hardware and protocol types and lengths
    dataView(r).setUint16(6, ARP_REPLY);
    r.set(GATEWAY_MAC, 8);
    r.set(p.subarray(24, 28), 14); // sender IP: the address asked for
    r.set(p.subarray(8, 18), 18); // target: the requester
    this.send(buildEthernet(p.subarray(8, 14), GATEWAY_MAC, ETHERTYPE_ARP, r));
  }

  private ip(p: Uint8Array): void {
    const ip = parseIpv4(p);
    if (!ip) return;
    if (ip.protocol === IPPROTO_ICMP) this.icmp(ip);
    else if (ip.protocol === IPPROTO_UDP) this.udp(ip);
    else if (ip.protocol === IPPROTO_TCP) {
      const seg = parseTcp(ip);
      if (seg) this.tcp.handle(ip.src, ip.dst, seg);
    }
  }

  /** Echo requests to the gateway addresses get an echo reply with the same data (RFC 792). */
  private icmp(ip: Ipv4Packet): void {
    const m = ip.payload;
    if (!isGateway(ip.dst) || m.length < 8 || m[0] !== ICMP_ECHO_REQUEST || m[1] !== 0 || internetChecksum(m) !== 0) return;
    const r = Uint8Array.from(m);
    r[0] = ICMP_ECHO_REPLY;
    dataView(r).setUint16(2, 0);
    dataView(r).setUint16(2, internetChecksum(r));
    this.sendIp(ip.dst, ip.src, IPPROTO_ICMP, r);
  }

  private udp(ip: Ipv4Packet): void {
    const u = parseUdp(ip);
    if (!u || u.dstPort !== DHCP_SERVER_PORT) return;
    const reply = dhcpReply(u.payload, DHCP);
    if (!reply) return;
    // The client may not take unicast before it has an address, so reply by broadcast (RFC 2131 §4.1).
    const udp = buildUdp(HOST_IP, BROADCAST_IP, { srcPort: DHCP_SERVER_PORT, dstPort: DHCP_CLIENT_PORT, payload: reply });
    this.sendIp(HOST_IP, BROADCAST_IP, IPPROTO_UDP, udp, BROADCAST_MAC);
  }

  private sendIp(src: number, dst: number, protocol: number, payload: Uint8Array, dstMac = this.mac ?? BROADCAST_MAC): void {
    this.send(buildEthernet(dstMac, GATEWAY_MAC, ETHERTYPE_IPV4, buildIpv4(src, dst, protocol, payload)));
  }
}

const isGateway = (ip: number): boolean => ip === HOST_IP || ip === DNS_IP;
