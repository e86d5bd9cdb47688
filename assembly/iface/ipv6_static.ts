// The IPv6 code's most used static structures, allocated here, before the rest of the core's
// static memory: an address below 8 KiB takes a byte less in each instruction that names it
// (a LEB128 constant), and these are named at about 200 places. Only in an image with IPv6: the
// condition is a compile-time constant, so the other images allocate nothing here.
import { FEATURE_IPV6, IPV6_PMTU_SLOTS, ND_PREFIXES, ND_RDNSS, ND_ROUTERS } from "../config";

/** iface/nd.ts: where ND messages are built (CTL_LEN). */
export const ND_CTL: usize = FEATURE_IPV6 ? memory.data(128, 16) : 0;
/** 16-byte scratch addresses: a group being computed (nd.ts, slaac.ts, mld.ts), nd.ts's ::,
 *  ping's and UDP's destination. */
export const ND_GROUP: usize = FEATURE_IPV6 ? memory.data(16, 8) : 0;
export const ND_UNSPECIFIED: usize = FEATURE_IPV6 ? memory.data(16, 8) : 0;
export const SLAAC_GROUP: usize = FEATURE_IPV6 ? memory.data(16, 8) : 0;
export const MLD_GROUP: usize = FEATURE_IPV6 ? memory.data(16, 8) : 0;
export const PING6_DST: usize = FEATURE_IPV6 ? memory.data(16, 8) : 0;
export const UDP6_DST: usize = FEATURE_IPV6 ? memory.data(16, 8) : 0;
/** iface/nd.ts: the routers, prefixes and RDNSS servers (nd.ts LIST_ENTRIES of 24 bytes);
 *  iface/ipv6.ts: the path MTU slots (24 bytes each). */
export const ND_LISTS: usize = FEATURE_IPV6 ? memory.data((ND_ROUTERS + ND_PREFIXES + ND_RDNSS) * 24, 8) : 0;
export const PMTU_TABLE: usize = FEATURE_IPV6 ? memory.data(IPV6_PMTU_SLOTS * 24, 8) : 0;
