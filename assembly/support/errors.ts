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
