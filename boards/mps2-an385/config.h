/*
 * config.h - the board's configuration block: the last 4 KiB sector of the image memory
 * (0x003FF000), outside the firmware image, as a board keeps its settings in a flash sector of
 * their own. Twelve little-endian u32 words; a block with a bad magic, version or CRC is ignored
 * and the defaults below apply. `wasmip qemu` (host/devices/qemu.ts, configBlock()) writes one and QEMU
 * loads it with -device loader,file=...,addr=0x003ff000.
 */
#ifndef BOARD_CONFIG_H
#define BOARD_CONFIG_H

#include <stdint.h>

#define BOARD_CONFIG_ADDR 0x003FF000u
#define BOARD_CONFIG_MAGIC 0x6370696Du /* "mipc" */
#define BOARD_CONFIG_VERSION 1u
#define BOARD_CONFIG_DHCP 1u /* flags: boot with no address and lease one */

typedef struct {
  uint32_t magic;
  uint32_t version;
  uint32_t flags;
  uint32_t ip, mask, gw;  /* host order; ignored with BOARD_CONFIG_DHCP */
  uint32_t lease_prefix;  /* with DHCP: the prefix printed in "leased A/len" (the subnet's) */
  uint32_t log_level;     /* WASMIP_LOG_* */
  uint32_t mac_hi;        /* bytes 0-1 (b0 << 8 | b1): the MAC if the controller has none */
  uint32_t mac_lo;        /* bytes 2-5 */
  uint32_t reserved;
  uint32_t crc32;         /* CRC-32 (IEEE 802.3, as zlib) of the 44 bytes before it */
} board_config_t;

/* Without a valid block: the addresses `wasmip tap` uses by default. */
#define BOARD_DEFAULT_IP 0x0AD50002u   /* 10.213.0.2 */
#define BOARD_DEFAULT_MASK 0xFFFFFF00u /* /24 */
#define BOARD_DEFAULT_MAC_HI 0x0277u   /* 02:77:69:70:00:02 */
#define BOARD_DEFAULT_MAC_LO 0x69700002u

#endif /* BOARD_CONFIG_H */
