// Why a parse rejected its input. The interface layer maps each to a named drop counter.
export const enum WireError {
  OK = 0,
  TRUNCATED,
  BAD_VERSION,
  BAD_HEADER_LEN,
  BAD_TOTAL_LEN,
  BAD_CHECKSUM,
  UNSUPPORTED,
  BAD_OP,
}
