// Error codes returned across the ABI (negative); the same values as WASMIP_E* in wasmip.h.
export const OK: i32 = 0;
export const EINVAL: i32 = -1;
export const ENOBUFS: i32 = -2;
export const EWOULDBLOCK: i32 = -3;
export const ENOTCONN: i32 = -4;
export const ECONNREFUSED: i32 = -5;
export const ECONNRESET: i32 = -6;
export const ETIMEDOUT: i32 = -7;
export const EADDRINUSE: i32 = -8;
export const EHOSTUNREACH: i32 = -9;
export const EMSGSIZE: i32 = -10;
// DNS (services/dns.ts)
export const ENXDOMAIN: i32 = -11; // the name does not exist (RCODE 3)
export const ESERVFAIL: i32 = -12; // every server failed (SERVFAIL, REFUSED, ...) or a CNAME loop
export const ETRUNCATED: i32 = -13; // the reply had TC set (no TCP fallback)
export const ENODATA: i32 = -14; // the name exists but has no A record
// Builds
export const ENOSYS: i32 = -15; // the feature is not in this build (config.ts FEATURE_*)
