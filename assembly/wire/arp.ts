// ARP for IPv4 over Ethernet (RFC 826). Only htype 1 / ptype 0x0800 / hlen 6 / plen 4 is ours.
import { get16, get32, put16, put32 } from "../support/bytes";
import { WireError } from "./error";

export const PACKET_LEN: u32 = 28;
export const OP_REQUEST: u32 = 1;
export const OP_REPLY: u32 = 2;

@unmanaged
export class ArpRepr {
  op: u32;
  sha0: u32;
  sha4: u16;
  spa: u32;
  tha0: u32;
  tha4: u16;
  tpa: u32;

  parse(p: usize, len: u32): WireError {
    if (len < PACKET_LEN) return WireError.TRUNCATED;
    // htype 1, ptype 0x0800 as one word; hlen 6, plen 4 as another.
    if (get32(p) != 0x00010800 || get16(p + 4) != 0x0604) return WireError.UNSUPPORTED;
    const op = get16(p + 6);
    if (op != OP_REQUEST && op != OP_REPLY) return WireError.BAD_OP;
    this.op = op;
    this.sha0 = load<u32>(p, 8);
    this.sha4 = load<u16>(p, 12);
    this.spa = get32(p + 14);
    this.tha0 = load<u32>(p, 18);
    this.tha4 = load<u16>(p, 22);
    this.tpa = get32(p + 24);
    return WireError.OK;
  }

  emit(p: usize): void {
    put32(p, 0x00010800);
    put16(p + 4, 0x0604);
    put16(p + 6, this.op);
    store<u32>(p, this.sha0, 8);
    store<u16>(p, this.sha4, 12);
    put32(p + 14, this.spa);
    store<u32>(p, this.tha0, 18);
    store<u16>(p, this.tha4, 22);
    put32(p + 24, this.tpa);
  }
}
