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

/** A failed core call: code is the name ('ENOBUFS'), errno the core's number (-2), as node's
 *  system errors carry both. */
export class WasmipError extends Error {
  readonly code: string;
  constructor(
    public readonly errno: number,
    what: string,
  ) {
    super(`${what}: ${ERRORS[errno] ?? "error " + errno}`);
    this.code = ERRORS[errno] ?? `E${-errno}`;
  }
}

/** An Error with node's shape for bad arguments: a string code such as ERR_INVALID_ARG_VALUE. */
export function codedError<E extends Error>(code: string, err: E): E & { code: string } {
  return Object.assign(err, { code });
}
