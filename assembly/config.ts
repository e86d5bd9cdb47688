// wasmip configuration: every knob in one place (like lwIP's opt.h).
// All values are compile-time constants: buffers are sized from them in static memory, so the core
// never allocates and linear memory never grows. Change a value and rebuild.

// ---- Link ----------------------------------------------------------------------------------
/** IP MTU of the Ethernet link in bytes (RFC 894). We never send a larger IP packet. */
export const MTU: u32 = 1500;
/** Largest Ethernet II frame we send or accept, without FCS: header + MTU. */
export const FRAME_MAX: u32 = 14 + MTU;
/** Frames shorter than this are zero-padded on transmit (Ethernet minimum without FCS). */
export const FRAME_MIN: u32 = 60;

// ---- ARP (RFC 826) ---------------------------------------------------------------------------
/** Neighbour cache entries. Full cache: the oldest resolved entry without queued frames is replaced. */
export const ARP_CACHE_SIZE: i32 = 8;
/** How long a resolved entry is trusted before it must be resolved again (lwIP uses 5 min). */
export const ARP_ENTRY_TTL_MS: u32 = 300_000;
/** Rate limit: at most one request per neighbour per interval (RFC 1122 §2.3.2.1: at most 1/s). */
export const ARP_REQUEST_INTERVAL_MS: u32 = 1000;
/** Unanswered requests before giving up on a neighbour; its queued frames are dropped and counted. */
export const ARP_MAX_REQUESTS: u32 = 3;
/** Frames held while their neighbour resolves, across all neighbours (each slot is FRAME_MAX bytes). */
export const ARP_PENDING_SLOTS: i32 = 4;
/** Of those, at most this many per neighbour; more are dropped (ENOBUFS) and counted. */
export const ARP_PENDING_PER_NEIGHBOUR: i32 = 2;

// ---- IPv4 (RFC 791, RFC 1122) ----------------------------------------------------------------
/** TTL of the datagrams we originate. */
export const IP_DEFAULT_TTL: u8 = 64;
// Fragments are not reassembled: every fragment (MF set or offset != 0) is dropped and counted as
// ip_fragment_dropped. We never fragment either: a datagram larger than MTU is refused (EMSGSIZE).

// ---- ICMP (RFC 792) --------------------------------------------------------------------------
/** Answer echo requests sent to a broadcast address (RFC 1122 §3.2.2.6 allows ignoring them). */
export const ICMP_ECHO_BROADCAST: bool = false;
/** Echo requests this board sent whose replies it remembers (ping_rtt), by sequence modulo this. */
export const PING_SLOTS: i32 = 64;

// ---- Timers ----------------------------------------------------------------------------------
/** poll() never asks to sleep longer than this, even with no timer pending. */
export const POLL_MAX_SLEEP_MS: u32 = 1000;

// ---- Logging ---------------------------------------------------------------------------------
/** Compile the phy.log sink in. false removes every log call and string from the image. */
export const LOG_ENABLED: bool = true;
/** Length of one log line; longer lines are cut. */
export const LOG_LINE_MAX: i32 = 160;
