/*
 * lan9118.h - a driver for the SMSC LAN9118 10/100 Ethernet controller (MAC + PHY, FIFO
 * interface, no DMA) as wired on the MPS2 AN385 board (32-bit bus at 0x40200000, interrupt 13).
 * QEMU's mps2-an385 emulates it; the same driver fits the LAN9220 of the real board (it is
 * software compatible, less checksum offload, which is not used).
 *
 * The driver only moves frames: lan9118_rx_isr() copies every received frame out of the RX FIFO
 * and hands it to a callback (the board's: wasmip_board_rx into the shared frame pool);
 * lan9118_tx() writes one frame into the TX FIFO. Link changes (PHY interrupt) go to a callback.
 */
#ifndef LAN9118_H
#define LAN9118_H

#include <stdint.h>

#define LAN9118_BASE 0x40200000u

typedef struct {
  uint32_t rx_frames;        /* frames handed to the receive callback */
  uint32_t rx_errors;        /* frames with the status error summary set (CRC, runt, too long...) */
  uint32_t rx_length_errors; /* frames shorter than 14 bytes or longer than 1514 (without FCS) */
  uint32_t rx_dropped;       /* frames the MAC dropped (RX_DROP register: FIFO full) */
  uint32_t rx_fifo_errors;   /* RX FIFO underrun reported by the controller (RXE) */
  uint32_t tx_frames;        /* frames written to the TX FIFO */
  uint32_t tx_errors;        /* TX status words with the error summary set, or TXE interrupts */
  uint32_t tx_fifo_timeouts; /* frames refused: the TX FIFO stayed full */
  uint32_t link_changes;     /* PHY interrupts that changed the link state */
  uint32_t mcast_filter_updates; /* lan9118_multicast_filter calls */
} lan9118_stats_t;

typedef struct {
  /* A frame (without FCS) is ready: called from the interrupt handler; the bytes are valid only
   * during the call. */
  void (*rx)(void *ctx, const uint8_t *frame, uint32_t len);
  /* The PHY reported a link change (interrupt context). */
  void (*link)(void *ctx, int up);
  void *ctx;
} lan9118_callbacks_t;

/* Reset the controller, set up the MAC and the PHY, enable the receiver and the transmitter and
 * the interrupt sources (the NVIC line is the caller's). mac: in, the address to use if the
 * controller has none from its EEPROM; out, the address in use. Returns 0, or -1 (no controller:
 * BYTE_TEST or reset failed) with *why set. */
int lan9118_init(uint8_t mac[6], const lan9118_callbacks_t *cb, const char **why);

/* The interrupt handler (Ethernet IRQ). */
void lan9118_isr(void);

/* Send one frame (14..1514 bytes, no FCS; any alignment). 0, or -1 when refused (counted). */
int lan9118_tx(const uint8_t *frame, uint32_t len);

/* Multicast reception (datasheet 3.9). The MAC passes a multicast frame when the bit its
 * destination selects in the 64-bit hash table is set (an imperfect filter: other groups may
 * share a bit; the stack drops those) or, with pass_all, every multicast frame (MCPAS). Unicast
 * stays a perfect match on our address, broadcast passes. After init the table is empty: no
 * multicast until this is called. Call it from the stack task (not the interrupt handler). */
uint32_t lan9118_hash_bit(const uint8_t mac[6]); /* 0..63: 32 and up are HASHH's bits */
void lan9118_multicast_filter(uint32_t hashh, uint32_t hashl, int pass_all);
/* MAC_CR, HASHH and HASHL as the controller holds them. */
void lan9118_multicast_regs(uint32_t *mac_cr, uint32_t *hashh, uint32_t *hashl);

/* The PHY's link status now (basic status register). */
int lan9118_link_up(void);

/* The controller's free-running 25 MHz counter (its own clock: an entropy source). */
uint32_t lan9118_free_run(void);

/* ID_REV (0x0118xxxx for a LAN9118). */
uint32_t lan9118_id(void);

const lan9118_stats_t *lan9118_stats(void);

#endif /* LAN9118_H */
