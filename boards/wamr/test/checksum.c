/* wasmip_checksum (boards/include/wasmip.h), the phy.checksum every C board gives the core, against
 * RFC 1071's sum taken a big-endian 16-bit word at a time: every length up to 1600 at 4 alignments,
 * over random bytes and over all 0xff (the most carries). Exit status 1 on a difference. */
#include <stdio.h>
#include "wasmip.h"

static uint32_t reference(const uint8_t *p, uint32_t len) {
  uint32_t s = 0;
  for (uint32_t i = 0; i + 1 < len; i += 2) s += (uint32_t)p[i] << 8 | p[i + 1];
  if (len & 1) s += (uint32_t)p[len - 1] << 8;
  while (s >> 16) s = (s & 0xffffu) + (s >> 16);
  return s;
}

int main(void) {
  static uint8_t buf[1604];
  uint32_t x = 1, bad = 0, runs = 0;
  for (int fill = 0; fill < 20; fill++) {
    for (uint32_t i = 0; i < sizeof buf; i++) {
      x = x * 1103515245u + 12345u;
      buf[i] = fill == 0 ? 0xff : (uint8_t)(x >> 16);
    }
    for (uint32_t a = 0; a < 4; a++)
      for (uint32_t n = 0; n <= 1600; n++, runs++) {
        uint32_t got = wasmip_checksum(buf + a, n), want = reference(buf + a, n);
        if (got != want && bad++ < 5) printf("checksum: offset %u, length %u: 0x%04x, expected 0x%04x\n", a, n, got, want);
      }
  }
  printf("checksum: %u sums, %u wrong\n", runs, bad);
  return bad != 0;
}
