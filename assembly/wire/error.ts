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
  /** An option with a length invalid for its code, or an invalid value (DHCP). */
  BAD_OPTION,
  /** A DNS name: a label longer than 63, a reserved label type, or more than 255 bytes. */
  BAD_NAME,
  /** A DNS compression pointer that does not point strictly backwards, or too many of them. */
  BAD_POINTER,
}
