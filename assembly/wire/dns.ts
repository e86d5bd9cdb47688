// DNS messages (RFC 1035 §4): the header, a question, resource records, and names with
// compression (§4.1.4) decompressed safely: every read is bounds-checked, a label is at most 63
// bytes, a name at most 255 (wire form), and a compression pointer must point before the start of
// the name segment it ends (so a chain of pointers strictly decreases and cannot loop), at most
// DNS_MAX_POINTERS of them. Names are kept in wire form (length-prefixed labels, a final 0),
// lowercased (ASCII), so comparing two names is comparing bytes.
import { DNS_MAX_CNAME, DNS_MAX_POINTERS } from "../config";
import { get16, get32, put16 } from "../support/bytes";
import { WireError } from "./error";

export const HEADER_LEN: u32 = 12;
export const PORT: u32 = 53;
/** A name in wire form, length bytes and the root label included (RFC 1035 §2.3.4). */
export const NAME_MAX: u32 = 255;
export const LABEL_MAX: u32 = 63;

export const TYPE_A: u32 = 1;
export const TYPE_CNAME: u32 = 5;
export const TYPE_PTR: u32 = 12;
export const TYPE_TXT: u32 = 16;
export const TYPE_AAAA: u32 = 28; // RFC 3596 §2.1
export const TYPE_SRV: u32 = 33;
export const TYPE_ANY: u32 = 255;
export const CLASS_IN: u32 = 1;
export const CLASS_ANY: u32 = 255;

export const FLAG_QR: u32 = 0x8000;
export const FLAG_AA: u32 = 0x0400;
export const FLAG_TC: u32 = 0x0200;
export const FLAG_RD: u32 = 0x0100;
export const FLAG_RA: u32 = 0x0080;
const OPCODE_MASK: u32 = 0x7800;

export const RCODE_NOERROR: u32 = 0;
export const RCODE_FORMERR: u32 = 1;
export const RCODE_SERVFAIL: u32 = 2;
export const RCODE_NXDOMAIN: u32 = 3;
export const RCODE_NOTIMP: u32 = 4;
export const RCODE_REFUSED: u32 = 5;

/** Length in wire form of the last name readName() decompressed. */
export let nameLen: u32 = 0;

// @ts-ignore: decorator
@inline function lower(c: u32): u32 {
  return c - 65 < 26 ? c | 32 : c;
}

/** After readName with `cmp`: whether the name equals it. */
export let nameMatched: bool = false;

/**
 * Decompresses the name at `off` of the message [p, p + len) into `out` (wire form, lowercased;
 * NAME_MAX bytes of room), or only checks it when out is 0; with `cmp` (a lowercased name in wire
 * form of cmpLen bytes) it compares instead of writing, into nameMatched. Returns the offset just
 * past the name where it is written (after its first pointer, if any), or -WireError. nameLen
 * gets its length.
 */
export function readName(p: usize, len: u32, off: u32, out: usize, cmp: usize = 0, cmpLen: u32 = 0): i32 {
  let same = true;
  let pos = off;
  let end: u32 = 0; // past the first pointer; 0 while none was followed
  let floor = off; // a pointer must point strictly before the segment it ends
  let jumps: u32 = 0;
  let n: u32 = 0;
  for (;;) {
    if (pos >= len) return -WireError.TRUNCATED;
    const b = <u32>load<u8>(p + pos);
    if ((b & 0xc0) == 0xc0) {
      if (pos + 1 >= len) return -WireError.TRUNCATED;
      const target = ((b & 0x3f) << 8) | <u32>load<u8>(p + pos + 1);
      if (end == 0) end = pos + 2;
      if (++jumps > DNS_MAX_POINTERS || target < HEADER_LEN || target >= floor) return -WireError.BAD_POINTER;
      floor = target;
      pos = target;
      continue;
    }
    if (b > LABEL_MAX) return -WireError.BAD_NAME; // 0x40 and 0x80: extended and reserved label types
    if (n + 1 + b > NAME_MAX) return -WireError.BAD_NAME;
    if (b == 0) {
      if (out) store<u8>(out + n, 0);
      nameLen = n + 1;
      nameMatched = same && nameLen == cmpLen;
      return <i32>(end ? end : pos + 1);
    }
    if (pos + 1 + b > len) return -WireError.TRUNCATED;
    if (out) {
      store<u8>(out + n, <u8>b);
      for (let i: u32 = 1; i <= b; i++) store<u8>(out + n + i, <u8>lower(<u32>load<u8>(p + pos + i)));
    } else if (cmp && same) {
      if (n + 1 + b >= cmpLen || <u32>load<u8>(cmp + n) != b) same = false;
      for (let i: u32 = 1; i <= b && same; i++) if (lower(<u32>load<u8>(p + pos + i)) != <u32>load<u8>(cmp + n + i)) same = false;
    }
    n += 1 + b;
    pos += 1 + b;
  }
  return -WireError.TRUNCATED; // not reached
}

/**
 * Encodes the dotted name src[0..srcLen) (one trailing dot allowed) into wire form at out, lowercased.
 * Returns the length, or -1 for an empty name or label, a label over 63 bytes, a name over 255,
 * or a byte that is not printable ASCII (space and control characters included).
 */
export function encodeName(src: usize, srcLen: u32, out: usize): i32 {
  if (srcLen > 0 && load<u8>(src + srcLen - 1) == 46) srcLen--; // the root's dot
  if (srcLen == 0) return -1;
  let lenAt: u32 = 0; // where the current label's length byte goes
  let n: u32 = 1;
  for (let i: u32 = 0; i <= srcLen; i++) {
    const c = i < srcLen ? <u32>load<u8>(src + i) : 46;
    if (c == 46) {
      const l = n - lenAt - 1;
      if (l == 0 || l > LABEL_MAX) return -1;
      store<u8>(out + lenAt, <u8>l);
      lenAt = n;
      n++;
    } else {
      if (c <= 32 || c >= 127 || n >= NAME_MAX) return -1;
      store<u8>(out + n, <u8>lower(c));
      n++;
    }
  }
  if (n > NAME_MAX) return -1;
  store<u8>(out + lenAt, 0); // lenAt == n - 1: the root label
  return <i32>n;
}

/** Compares two names in wire form, the second lowercased; true if equal (ASCII case ignored). */
export function nameEquals(a: usize, aLen: u32, b: usize, bLen: u32): bool {
  if (aLen != bLen) return false;
  for (let i: u32 = 0; i < aLen; i++) if (lower(<u32>load<u8>(a + i)) != <u32>load<u8>(b + i)) return false;
  return true;
}

@unmanaged
export class DnsHeader {
  id: u32;
  flags: u32;
  qdcount: u32;
  ancount: u32;
  nscount: u32;
  arcount: u32;

  parse(p: usize, len: u32): WireError {
    if (len < HEADER_LEN) return WireError.TRUNCATED;
    this.id = get16(p);
    this.flags = get16(p + 2);
    this.qdcount = get16(p + 4);
    this.ancount = get16(p + 6);
    this.nscount = get16(p + 8);
    this.arcount = get16(p + 10);
    return WireError.OK;
  }

  emit(p: usize): void {
    put16(p, this.id);
    put16(p + 2, this.flags);
    put16(p + 4, this.qdcount);
    put16(p + 6, this.ancount);
    put16(p + 8, this.nscount);
    put16(p + 10, this.arcount);
  }
}

/**
 * Writes a standard query (RD set) for one question: name (wire form, nLen bytes), type, class IN.
 * Returns the message length (at most HEADER_LEN + NAME_MAX + 4 = 271 bytes).
 */
export function emitQuery(p: usize, id: u32, name: usize, nLen: u32, qtype: u32): u32 {
  put16(p, id);
  put16(p + 2, FLAG_RD);
  put16(p + 4, 1);
  store<u32>(p + 6, 0);
  store<u16>(p + 10, 0);
  memory.copy(p + HEADER_LEN, name, nLen);
  put16(p + HEADER_LEN + nLen, qtype);
  put16(p + HEADER_LEN + nLen + 2, CLASS_IN);
  return HEADER_LEN + nLen + 4;
}

/**
 * Writes names into a message with compression (§4.1.4): remembers where each name written so far
 * and each of its suffixes starts (up to `cap` offsets in `table`, two bytes each), and writes a
 * name's labels up to the longest suffix already in the message, then a pointer to it. Offsets past
 * 0x3fff cannot be pointed at and are not remembered. Names given must be lowercased wire form
 * (compared with readName's cmp). The caller owns the table: no static memory here.
 */
@unmanaged
export class NameWriter {
  msg: usize;
  table: usize;
  cap: u32;
  count: u32;

  reset(msg: usize, table: usize, cap: u32): void {
    this.msg = msg;
    this.table = table;
    this.cap = cap;
    this.count = 0;
  }

  /** Writes name (nLen bytes) at msg + pos; returns the offset past it. */
  write(pos: u32, name: usize, nLen: u32): u32 {
    const msg = this.msg;
    let i: u32 = 0;
    let at: i32 = -1;
    // Each suffix from the longest; the root label alone is never worth a pointer.
    while (i + 1 < nLen && at < 0) {
      for (let k: u32 = 0; k < this.count; k++) {
        const off = <u32>load<u16>(this.table + (<usize>k << 1));
        if (readName(msg, pos, off, 0, name + i, nLen - i) >= 0 && nameMatched) {
          at = <i32>off;
          break;
        }
      }
      if (at < 0) i += 1 + <u32>load<u8>(name + i);
    }
    const head = at < 0 ? nLen : i;
    memory.copy(msg + pos, name, head);
    // Remember where each label written starts: every suffix of this name is there now.
    for (let j: u32 = 0; j + 1 < head && this.count < this.cap && pos + j <= 0x3fff; j += 1 + <u32>load<u8>(name + j)) {
      store<u16>(this.table + (<usize>this.count << 1), <u16>(pos + j));
      this.count++;
    }
    if (at < 0) return pos + nLen;
    put16(msg + pos + head, 0xc000 | <u32>at);
    return pos + head + 2;
  }
}

/** A resource record's fixed part (§4.1.3); the owner name goes to the caller's buffer. */
@unmanaged
export class DnsRecord {
  type: u32;
  klass: u32;
  /** Seconds; a TTL with the top bit set is taken as 0 (RFC 2181 §8). */
  ttl: u32;
  rdata: u32;
  rdlength: u32;
  /** Offset of the next record. */
  end: u32;

  /** The record at off; its owner name decompressed into out (or only checked when out is 0). */
  parse(p: usize, len: u32, off: u32, out: usize): WireError {
    const e = readName(p, len, off, out);
    if (e < 0) return <WireError>(-e);
    const at = <u32>e;
    if (at + 10 > len) return WireError.TRUNCATED;
    this.type = get16(p + at);
    this.klass = get16(p + at + 2);
    const ttl = get32(p + at + 4);
    this.ttl = ttl >= 0x80000000 ? 0 : ttl;
    this.rdlength = get16(p + at + 8);
    this.rdata = at + 10;
    if (this.rdata + this.rdlength > len) return WireError.TRUNCATED;
    this.end = this.rdata + this.rdlength;
    return WireError.OK;
  }
}

/**
 * What a response says about an A (or AAAA) query: the header, the question (compared with the name we
 * asked), and the answer section followed from the question name through CNAMEs (at most
 * DNS_MAX_CNAME) to a record of the type asked. A chain that leaves the message ends with `found` false and the
 * last name in `target`. Names in the message are compared where they lie, not copied out.
 */
@unmanaged
export class DnsResponse {
  id: u32;
  flags: u32;
  rcode: u32;
  truncated: bool;
  qtype: u32;
  qclass: u32;
  /** The question's name is the one asked. */
  qnameMatches: bool;
  /** A record of the type asked ended the chain: address and the smallest TTL along it. */
  found: bool;
  /** A: the address (host order). AAAA: where its 16 bytes lie in the message (an offset: no
   *  room for them here, so the IPv4-only image keeps its static memory). */
  address: u32;
  ttl: u32;
  cnames: u32;
  /** The name the chain ended at (the question name when there were no CNAMEs). */
  targetLen: u32;

  /**
   * Parses a response of len bytes at p: the header must have QR set and a standard opcode, exactly
   * one question (compared with `asked`, a lowercased name in wire form), and every answer record
   * well-formed. `target` is a NAME_MAX-byte buffer: the chain's last name afterwards. qtype: the
   * type asked, TYPE_A or TYPE_AAAA; a record of it with the wrong rdlength is ignored, as a
   * record of another type (RFC 3596 §2.2: AAAA rdata is 16 bytes).
   */
  parse(p: usize, len: u32, asked: usize, askedLen: u32, target: usize, qtype: u32 = TYPE_A): WireError {
    if (len < HEADER_LEN) return WireError.TRUNCATED;
    this.id = get16(p);
    const flags = get16(p + 2);
    this.flags = flags;
    if ((flags & FLAG_QR) == 0 || (flags & OPCODE_MASK) != 0) return WireError.BAD_OP;
    this.rcode = flags & 15;
    this.truncated = (flags & FLAG_TC) != 0;
    if (get16(p + 4) != 1) return WireError.UNSUPPORTED;
    const ancount = get16(p + 6);
    this.found = false;
    this.address = 0;
    this.ttl = 0xffffffff;
    this.cnames = 0;
    // The question.
    const e = readName(p, len, HEADER_LEN, 0, asked, askedLen);
    if (e < 0) return <WireError>(-e);
    this.qnameMatches = nameMatched;
    let at = <u32>e;
    if (at + 4 > len) return WireError.TRUNCATED;
    this.qtype = get16(p + at);
    this.qclass = get16(p + at + 2);
    at += 4;
    const answers = at;
    // Every answer record must be well-formed, names included; a truncated reply (TC) may end early.
    const rr = changetype<DnsRecord>(scratchRecord);
    let off = answers;
    let count: u32 = 0;
    for (; count < ancount; count++) {
      const r = rr.parse(p, len, off, 0);
      if (r != WireError.OK) {
        if (this.truncated) break;
        return r;
      }
      if (rr.type == TYPE_CNAME && rr.klass == CLASS_IN) {
        const t = readName(p, rr.end, rr.rdata, 0); // the target must lie inside the rdata
        if (t < 0) return <WireError>(-t);
        if (<u32>t != rr.end) return WireError.BAD_NAME;
      }
      off = rr.end;
    }
    // Follow the chain from the question name (the name asked, when the question matched).
    memory.copy(target, asked, askedLen);
    let tLen = askedLen;
    for (let hop: u32 = 0; hop <= DNS_MAX_CNAME; hop++) {
      let next = false;
      off = answers;
      for (let i: u32 = 0; i < count; i++) {
        rr.parse(p, len, off, 0);
        const here = off;
        off = rr.end;
        if (rr.klass != CLASS_IN) continue;
        readName(p, len, here, 0, target, tLen);
        if (!nameMatched) continue;
        if (rr.type == qtype && rr.rdlength == (qtype == TYPE_A ? 4 : 16)) {
          this.found = true;
          this.address = qtype == TYPE_A ? get32(p + rr.rdata) : rr.rdata;
          if (rr.ttl < this.ttl) this.ttl = rr.ttl;
          this.targetLen = tLen;
          return WireError.OK;
        }
        if (rr.type == TYPE_CNAME) {
          if (hop == DNS_MAX_CNAME) break; // one more would exceed the bound
          readName(p, rr.end, rr.rdata, target);
          tLen = nameLen;
          if (rr.ttl < this.ttl) this.ttl = rr.ttl;
          this.cnames++;
          next = true;
          break;
        }
      }
      if (!next) break;
    }
    this.targetLen = tLen;
    if (this.ttl == 0xffffffff) this.ttl = 0;
    return WireError.OK;
  }
}

const scratchRecord = memory.data(offsetof<DnsRecord>());
