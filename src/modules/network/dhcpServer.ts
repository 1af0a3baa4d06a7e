/**
 * A minimal DHCP server (RFC 2131) for the single guest of a user-mode
 * network: DHCPDISCOVER is answered with DHCPOFFER and DHCPREQUEST with
 * DHCPACK, always for the one configured address; other messages are ignored.
 */
import { dataView } from "./ethernet.js";

export interface DhcpConfig {
  server: number;
  client: number;
  netmask: number;
  router: number;
  dns: number;
}

const BOOTREQUEST = 1;
const BOOTREPLY = 2;
const MAGIC_COOKIE = 0x63825363;
const COOKIE_OFFSET = 236; // after the fixed BOOTP fields (RFC 2131 §2)
const OPTIONS_OFFSET = 240;
const MIN_MESSAGE = 300; // BOOTP minimum (RFC 1542 §2.1); some clients drop shorter replies
const LEASE_SECONDS = 86400;

const DISCOVER = 1;
const OFFER = 2;
const REQUEST = 3;
const ACK = 5;

// Option codes (RFC 2132).
const OPT_PAD = 0;
const OPT_NETMASK = 1;
const OPT_ROUTER = 3;
const OPT_DNS = 6;
const OPT_LEASE = 51;
const OPT_MESSAGE_TYPE = 53;
const OPT_SERVER_ID = 54;
const OPT_END = 255;

/** The reply to one client message (the UDP payload), or undefined if there is none. */
export function dhcpReply(req: Uint8Array, cfg: DhcpConfig): Uint8Array | undefined {
  if (req.length < OPTIONS_OFFSET || req[0] !== BOOTREQUEST || dataView(req).getUint32(COOKIE_OFFSET) !== MAGIC_COOKIE) return undefined;
  const type = messageType(req.subarray(OPTIONS_OFFSET));
  if (type !== DISCOVER && type !== REQUEST) return undefined;
  const options = [
    [OPT_MESSAGE_TYPE, 1, type === DISCOVER ? OFFER : ACK],
    [OPT_SERVER_ID, 4, ...bytes(cfg.server)],
    [OPT_LEASE, 4, ...bytes(LEASE_SECONDS)],
    [OPT_NETMASK, 4, ...bytes(cfg.netmask)],
    [OPT_ROUTER, 4, ...bytes(cfg.router)],
    [OPT_DNS, 4, ...bytes(cfg.dns)],
    [OPT_END],
  ].flat();
  const r = new Uint8Array(Math.max(MIN_MESSAGE, OPTIONS_OFFSET + options.length));
  const v = dataView(r);
  r[0] = BOOTREPLY;
  r.set(req.subarray(1, 8), 1); // htype, hlen, hops, xid
  r.set(req.subarray(10, 12), 10); // flags
  if (type === REQUEST) r.set(req.subarray(12, 16), 12); // ciaddr (RFC 2131 table 3)
  v.setUint32(16, cfg.client); // yiaddr
  v.setUint32(20, cfg.server); // siaddr
  r.set(req.subarray(24, 44), 24); // giaddr, chaddr
  v.setUint32(COOKIE_OFFSET, MAGIC_COOKIE);
  r.set(options, OPTIONS_OFFSET);
  return r;
}

/** Option 53 from a TLV option list (RFC 2132 §2), or undefined if absent or the list is malformed. */
function messageType(opts: Uint8Array): number | undefined {
  let i = 0;
  while (i < opts.length && opts[i] !== OPT_END) {
    if (opts[i] === OPT_PAD) {
      i++;
      continue;
    }
    if (i + 1 >= opts.length) return undefined;
    const len = opts[i + 1];
    if (i + 2 + len > opts.length) return undefined;
    if (opts[i] === OPT_MESSAGE_TYPE && len === 1) return opts[i + 2];
    i += 2 + len;
  }
  return undefined;
}

const bytes = (x: number): number[] => [x >>> 24, (x >>> 16) & 0xff, (x >>> 8) & 0xff, x & 0xff];
