// BOOTP/DHCPv4 messages (RFC 2131 §2, RFC 2132 options). A checked parse of a reply into a small
// representation (only the options the client uses), and emit of the messages a client sends.
//
// Robustness: every option is bounds-checked against the end of the area it lives in; an option
// running past that end, an area without its END option, a known option with an invalid length
// and an invalid overload value reject the whole message. Option 52 (overload) is honoured only
// in the options field, so the sname and file areas are each scanned at most once: no loops.
import { get16, get32, put16, put32 } from "../support/bytes";
import { WireError } from "./error";

export const OP_REQUEST: u32 = 1;
export const OP_REPLY: u32 = 2;
export const HTYPE_ETHERNET: u32 = 1;
export const FLAG_BROADCAST: u32 = 0x8000;
export const MAGIC_COOKIE: u32 = 0x63825363;
/** The fixed BOOTP header (236) plus the magic cookie: the smallest DHCP message. */
export const HEADER_LEN: u32 = 240;
/** BOOTP minimum message size (RFC 1542 §3.2.1 / RFC 951): we pad what we send to it. */
export const MIN_SEND_LEN: u32 = 300;
export const SERVER_PORT: u32 = 67;
export const CLIENT_PORT: u32 = 68;

// Field offsets.
const O_SNAME: u32 = 44;
const O_FILE: u32 = 108;
const O_COOKIE: u32 = 236;
const SNAME_LEN: u32 = 64;
const FILE_LEN: u32 = 128;

// Message types (option 53).
export const DHCPDISCOVER: u32 = 1;
export const DHCPOFFER: u32 = 2;
export const DHCPREQUEST: u32 = 3;
export const DHCPDECLINE: u32 = 4;
export const DHCPACK: u32 = 5;
export const DHCPNAK: u32 = 6;
export const DHCPRELEASE: u32 = 7;
export const DHCPINFORM: u32 = 8;

// Option codes.
export const OPT_PAD: u32 = 0;
export const OPT_SUBNET_MASK: u32 = 1;
export const OPT_ROUTER: u32 = 3;
export const OPT_DNS: u32 = 6;
export const OPT_HOST_NAME: u32 = 12;
export const OPT_NTP: u32 = 42;
export const OPT_REQUESTED_IP: u32 = 50;
export const OPT_LEASE_TIME: u32 = 51;
export const OPT_OVERLOAD: u32 = 52;
export const OPT_MSG_TYPE: u32 = 53;
export const OPT_SERVER_ID: u32 = 54;
export const OPT_PARAM_REQUEST: u32 = 55;
export const OPT_MAX_MSG_SIZE: u32 = 57;
export const OPT_T1: u32 = 58;
export const OPT_T2: u32 = 59;
export const OPT_CLIENT_ID: u32 = 61;
export const OPT_END: u32 = 255;

/** DNS servers kept from option 6 (more are ignored). */
export const DNS_MAX: i32 = 3;
/** Longest host name we send (RFC 1035 label limit; option 12 allows 255). */
export const HOST_NAME_MAX: u32 = 63;

/** "Not present" for the optional u32 options (lease time 0xffffffff means infinite, so a flag). */
export const HAS_MASK: u32 = 1;
export const HAS_ROUTER: u32 = 2;
export const HAS_LEASE: u32 = 4;
export const HAS_T1: u32 = 8;
export const HAS_T2: u32 = 16;
export const HAS_SERVER_ID: u32 = 32;
export const HAS_REQUESTED_IP: u32 = 64;

@unmanaged
export class DhcpRepr {
  op: u32;
  htype: u32;
  hlen: u32;
  hops: u32;
  xid: u32;
  secs: u32;
  flags: u32;
  ciaddr: u32;
  yiaddr: u32;
  siaddr: u32;
  giaddr: u32;
  /** chaddr bytes 0..3 and 4..5 as raw memory words (like ArpRepr's hardware addresses). */
  chaddr0: u32;
  chaddr4: u16;
  // Options.
  /** Option 53, 0 when absent (a BOOTP reply). */
  msgType: u32;
  /** HAS_* bits: which of the optional options below were present. */
  present: u32;
  subnetMask: u32;
  router: u32;
  dnsCount: u32;
  dns0: u32;
  dns1: u32;
  dns2: u32;
  /** NTP servers (option 42, RFC 2132 §8.3): the first two, 0 when absent. */
  ntp0: u32;
  ntp1: u32;
  leaseTime: u32;
  t1: u32;
  t2: u32;
  serverId: u32;
  requestedIp: u32;
  /** Option 52 as received (0 none, 1 file, 2 sname, 3 both). */
  overload: u32;
  // Emit only.
  /** Host name to send (option 12), hostLen bytes at hostPtr; none when hostLen is 0. */
  hostPtr: usize;
  hostLen: u32;
  /** Send option 55 (subnet mask, router, DNS, NTP, lease, T1, T2) and option 57 (our maximum). */
  paramRequest: bool;
  maxMsgSize: u32;
  /** Send option 61 (type 1 + chaddr). */
  clientId: bool;

  /** Checked parse of a DHCP message of len bytes (the UDP payload). */
  parse(p: usize, len: u32): WireError {
    if (len < HEADER_LEN) return WireError.TRUNCATED;
    const op = <u32>load<u8>(p);
    if (op != OP_REQUEST && op != OP_REPLY) return WireError.BAD_OP;
    const htype = <u32>load<u8>(p, 1);
    const hlen = <u32>load<u8>(p, 2);
    if (htype != HTYPE_ETHERNET || hlen != 6) return WireError.UNSUPPORTED;
    if (get32(p + O_COOKIE) != MAGIC_COOKIE) return WireError.UNSUPPORTED;
    this.op = op;
    this.htype = htype;
    this.hlen = hlen;
    this.hops = <u32>load<u8>(p, 3);
    this.xid = get32(p + 4);
    this.secs = get16(p + 8);
    this.flags = get16(p + 10);
    this.ciaddr = get32(p + 12);
    this.yiaddr = get32(p + 16);
    this.siaddr = get32(p + 20);
    this.giaddr = get32(p + 24);
    this.chaddr0 = load<u32>(p, 28);
    this.chaddr4 = load<u16>(p, 32);
    this.msgType = 0;
    this.present = 0;
    this.dnsCount = 0;
    this.ntp0 = 0;
    this.ntp1 = 0;
    this.overload = 0;
    let err = this.scan(p + HEADER_LEN, len - HEADER_LEN, true);
    if (err != WireError.OK) return err;
    const ov = this.overload;
    if (ov & 1) {
      err = this.scan(p + O_FILE, FILE_LEN, false);
      if (err != WireError.OK) return err;
    }
    if (ov & 2) {
      err = this.scan(p + O_SNAME, SNAME_LEN, false);
      if (err != WireError.OK) return err;
    }
    return WireError.OK;
  }

  /** Walks one option area [p, p + n); END is required. */
  private scan(p: usize, n: u32, main: bool): WireError {
    let i: u32 = 0;
    while (i < n) {
      const code = <u32>load<u8>(p + i);
      if (code == OPT_PAD) {
        i++;
        continue;
      }
      if (code == OPT_END) return WireError.OK;
      if (i + 2 > n) return WireError.TRUNCATED;
      const olen = <u32>load<u8>(p + i + 1);
      const v = p + i + 2;
      if (i + 2 + olen > n) return WireError.TRUNCATED;
      if (code == OPT_MSG_TYPE) {
        if (olen != 1) return WireError.BAD_OPTION;
        this.msgType = <u32>load<u8>(v);
      } else if (code == OPT_SUBNET_MASK) {
        if (olen != 4) return WireError.BAD_OPTION;
        this.subnetMask = get32(v);
        this.present |= HAS_MASK;
      } else if (code == OPT_ROUTER) {
        if (olen < 4 || (olen & 3) != 0) return WireError.BAD_OPTION;
        this.router = get32(v); // the first router is the preferred one
        this.present |= HAS_ROUTER;
      } else if (code == OPT_DNS) {
        if (olen < 4 || (olen & 3) != 0) return WireError.BAD_OPTION;
        const k = olen >> 2;
        this.dnsCount = k < <u32>DNS_MAX ? k : <u32>DNS_MAX;
        this.dns0 = get32(v);
        this.dns1 = k > 1 ? get32(v + 4) : 0;
        this.dns2 = k > 2 ? get32(v + 8) : 0;
      } else if (code == OPT_NTP) {
        if (olen < 4 || (olen & 3) != 0) return WireError.BAD_OPTION;
        this.ntp0 = get32(v);
        this.ntp1 = olen > 4 ? get32(v + 4) : 0;
      } else if (code == OPT_LEASE_TIME || code == OPT_T1 || code == OPT_T2 || code == OPT_SERVER_ID || code == OPT_REQUESTED_IP) {
        if (olen != 4) return WireError.BAD_OPTION;
        const x = get32(v);
        if (code == OPT_LEASE_TIME) {
          this.leaseTime = x;
          this.present |= HAS_LEASE;
        } else if (code == OPT_T1) {
          this.t1 = x;
          this.present |= HAS_T1;
        } else if (code == OPT_T2) {
          this.t2 = x;
          this.present |= HAS_T2;
        } else if (code == OPT_SERVER_ID) {
          this.serverId = x;
          this.present |= HAS_SERVER_ID;
        } else {
          this.requestedIp = x;
          this.present |= HAS_REQUESTED_IP;
        }
      } else if (code == OPT_OVERLOAD) {
        // Only meaningful in the options field (RFC 2131 §4.1); elsewhere it is malformed.
        if (!main || olen != 1) return WireError.BAD_OPTION;
        const ov = <u32>load<u8>(v);
        if (ov < 1 || ov > 3) return WireError.BAD_OPTION;
        this.overload = ov;
      }
      // Anything else is skipped.
      i += 2 + olen;
    }
    return WireError.TRUNCATED; // no END option
  }

  /**
   * Writes a client message at p (room for at least emitLen() bytes): the header, the cookie and
   * the options (53, 61, 50, 54, 12, 55, 57 when set), END, and zero padding to MIN_SEND_LEN.
   * Returns the length.
   */
  emit(p: usize): u32 {
    memory.fill(p, 0, HEADER_LEN);
    store<u8>(p, <u8>this.op);
    store<u8>(p, <u8>HTYPE_ETHERNET, 1);
    store<u8>(p, 6, 2);
    store<u8>(p, <u8>this.hops, 3);
    put32(p + 4, this.xid);
    put16(p + 8, this.secs);
    put16(p + 10, this.flags);
    put32(p + 12, this.ciaddr);
    put32(p + 16, this.yiaddr);
    put32(p + 20, this.siaddr);
    put32(p + 24, this.giaddr);
    store<u32>(p, this.chaddr0, 28);
    store<u16>(p, this.chaddr4, 32);
    put32(p + O_COOKIE, MAGIC_COOKIE);
    let q = p + HEADER_LEN;
    store<u8>(q, <u8>OPT_MSG_TYPE);
    store<u8>(q, 1, 1);
    store<u8>(q, <u8>this.msgType, 2);
    q += 3;
    if (this.clientId) {
      store<u8>(q, <u8>OPT_CLIENT_ID);
      store<u8>(q, 7, 1);
      store<u8>(q, <u8>HTYPE_ETHERNET, 2);
      store<u32>(q, this.chaddr0, 3);
      store<u16>(q, this.chaddr4, 7);
      q += 9;
    }
    if (this.present & HAS_REQUESTED_IP) q = opt32(q, OPT_REQUESTED_IP, this.requestedIp);
    if (this.present & HAS_SERVER_ID) q = opt32(q, OPT_SERVER_ID, this.serverId);
    let hl = this.hostLen;
    if (hl > HOST_NAME_MAX) hl = HOST_NAME_MAX;
    if (hl > 0) {
      store<u8>(q, <u8>OPT_HOST_NAME);
      store<u8>(q, <u8>hl, 1);
      memory.copy(q + 2, this.hostPtr, hl);
      q += 2 + hl;
    }
    if (this.paramRequest) {
      store<u8>(q, <u8>OPT_PARAM_REQUEST);
      store<u8>(q, 7, 1);
      store<u8>(q, <u8>OPT_SUBNET_MASK, 2);
      store<u8>(q, <u8>OPT_ROUTER, 3);
      store<u8>(q, <u8>OPT_DNS, 4);
      store<u8>(q, <u8>OPT_NTP, 5);
      store<u8>(q, <u8>OPT_LEASE_TIME, 6);
      store<u8>(q, <u8>OPT_T1, 7);
      store<u8>(q, <u8>OPT_T2, 8);
      q += 9;
      if (this.maxMsgSize >= 576) {
        store<u8>(q, <u8>OPT_MAX_MSG_SIZE);
        store<u8>(q, 2, 1);
        put16(q + 2, this.maxMsgSize);
        q += 4;
      }
    }
    store<u8>(q, <u8>OPT_END);
    q++;
    let n = <u32>(q - p);
    if (n < MIN_SEND_LEN) {
      memory.fill(q, 0, MIN_SEND_LEN - n);
      n = MIN_SEND_LEN;
    }
    return n;
  }
}

/** The most emit() writes: header, options (3+9+6+6+2+63+9+4+1) and padding. */
export const EMIT_MAX: u32 = HEADER_LEN + 103;

function opt32(q: usize, code: u32, v: u32): usize {
  store<u8>(q, <u8>code);
  store<u8>(q, 4, 1);
  put32(q + 2, v);
  return q + 6;
}
