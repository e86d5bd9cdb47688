// The core's error codes (boards/include/wasmip.h, "Errors"): negative numbers, named as wasmip.h
// names them. Below the board and its socket APIs, which all report them.

export const ERRORS: Record<number, string> = {
  [-1]: "EINVAL",
  [-2]: "ENOBUFS",
  [-3]: "EWOULDBLOCK",
  [-4]: "ENOTCONN",
  [-5]: "ECONNREFUSED",
  [-6]: "ECONNRESET",
  [-7]: "ETIMEDOUT",
  [-8]: "EADDRINUSE",
  [-9]: "EHOSTUNREACH",
  [-10]: "EMSGSIZE",
  [-11]: "ENXDOMAIN",
  [-12]: "ESERVFAIL",
  [-13]: "ETRUNCATED",
  [-14]: "ENODATA",
  [-15]: "ENOSYS",
};

export class WasmipError extends Error {
  constructor(
    public readonly code: number,
    what: string,
  ) {
    super(`${what}: ${ERRORS[code] ?? "error " + code}`);
  }
}
