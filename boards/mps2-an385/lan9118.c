/*
 * lan9118.c - SMSC LAN9118 driver (see lan9118.h). Register layout and sequences from the
 * LAN9118 datasheet (SMSC DS00002266): system CSRs on the bus, MAC CSRs behind MAC_CSR_CMD/DATA,
 * PHY registers behind the MAC's MII_ACC/MII_DATA.
 */
#include "lan9118.h"

#include <string.h>

#include "mps2.h"

/* System control and status registers (byte offsets). */
#define RX_DATA_FIFO 0x00u
#define TX_DATA_FIFO 0x20u
#define RX_STATUS_FIFO 0x40u
#define TX_STATUS_FIFO 0x48u
#define ID_REV 0x50u
#define IRQ_CFG 0x54u
#define INT_STS 0x58u
#define INT_EN 0x5Cu
#define BYTE_TEST 0x64u
#define FIFO_INT 0x68u
#define RX_CFG 0x6Cu
#define TX_CFG 0x70u
#define HW_CFG 0x74u
#define RX_FIFO_INF 0x7Cu
#define TX_FIFO_INF 0x80u
#define PMT_CTRL 0x84u
#define FREE_RUN 0x9Cu
#define RX_DROP 0xA0u
#define MAC_CSR_CMD 0xA4u
#define MAC_CSR_DATA 0xA8u

#define REG(off) REG32(LAN9118_BASE + (off))

#define BYTE_TEST_VALUE 0x87654321u
#define HW_CFG_SRST (1u << 0)
#define HW_CFG_MBO (1u << 20)        /* must be one */
#define HW_CFG_TX_FIF_5K (5u << 16)  /* TX FIFO 5 KiB (the reset value) */
#define PMT_CTRL_READY (1u << 0)
#define IRQ_CFG_TYPE (1u << 0)       /* push-pull */
#define IRQ_CFG_POL (1u << 4)        /* active high */
#define IRQ_CFG_EN (1u << 8)
#define TX_CFG_TX_ON (1u << 1)
#define TX_CFG_TXSAO (1u << 2)       /* TX status overrun allowed: a full status FIFO never stalls TX */

/* INT_STS / INT_EN bits. */
#define INT_RSFL (1u << 3)   /* RX status FIFO above its level (0: any frame) */
#define INT_RXDF (1u << 6)   /* RX dropped frame */
#define INT_TXE (1u << 13)
#define INT_RXE (1u << 14)
#define INT_PHY (1u << 18)

/* MAC CSRs (indices). */
#define MAC_CR 1u
#define MAC_ADDRH 2u
#define MAC_ADDRL 3u
#define MAC_MII_ACC 6u
#define MAC_MII_DATA 7u
#define MAC_CR_RXEN (1u << 2)
#define MAC_CR_TXEN (1u << 3)
#define MAC_CR_FDPX (1u << 20)
#define MAC_CR_MCPAS (1u << 19) /* pass all multicast */
#define MAC_CSR_BUSY (1u << 31)
#define MAC_CSR_READ (1u << 30)

/* PHY (internal, address 1). */
#define PHY_ADDR 1u
#define PHY_BMCR 0u
#define PHY_BMSR 1u
#define PHY_ISR 29u  /* interrupt source (read clears) */
#define PHY_IMR 30u  /* interrupt mask */
#define BMCR_ANENABLE (1u << 12)
#define BMCR_ANRESTART (1u << 9)
#define BMSR_LINK (1u << 2)
#define PHY_INT_LINK_DOWN (1u << 4)
#define PHY_INT_AN_COMPLETE (1u << 6)

/* TX command words (datasheet 3.13.2). */
#define TXA_FIRST (1u << 13)
#define TXA_LAST (1u << 12)
#define TXA_OFFSET(n) ((uint32_t)(n) << 16) /* bytes to skip in the first data word */

/* RX status word (datasheet 3.13.3). */
#define RXS_ERROR (1u << 15)
#define RXS_LENGTH(s) (((s) >> 16) & 0x3FFFu) /* includes the 4-byte FCS */
#define TXS_ERROR (1u << 15)

#define FRAME_MAX 1514u  /* without FCS */
#define SPIN_LIMIT 100000u

static lan9118_stats_t stats;
static lan9118_callbacks_t cbs;
static int link_state;
static uint16_t tx_tag;

/* One received frame, word-aligned (interrupt context only): the largest accepted frame plus FCS. */
static uint32_t rx_words[(FRAME_MAX + 4u + 3u) / 4u];

static int spin_until_clear(uint32_t off, uint32_t mask) {
  for (uint32_t i = 0; i < SPIN_LIMIT; i++)
    if ((REG(off) & mask) == 0) return 0;
  return -1;
}

static uint32_t mac_read(uint32_t idx) {
  spin_until_clear(MAC_CSR_CMD, MAC_CSR_BUSY);
  REG(MAC_CSR_CMD) = MAC_CSR_BUSY | MAC_CSR_READ | idx;
  spin_until_clear(MAC_CSR_CMD, MAC_CSR_BUSY);
  return REG(MAC_CSR_DATA);
}

static void mac_write(uint32_t idx, uint32_t v) {
  spin_until_clear(MAC_CSR_CMD, MAC_CSR_BUSY);
  REG(MAC_CSR_DATA) = v;
  REG(MAC_CSR_CMD) = MAC_CSR_BUSY | idx;
  spin_until_clear(MAC_CSR_CMD, MAC_CSR_BUSY);
}

static void mii_wait(void) {
  for (uint32_t i = 0; i < SPIN_LIMIT; i++)
    if ((mac_read(MAC_MII_ACC) & 1u) == 0) return;
}

static uint32_t phy_read(uint32_t reg) {
  mii_wait();
  mac_write(MAC_MII_ACC, (PHY_ADDR << 11) | (reg << 6) | 1u);
  mii_wait();
  return mac_read(MAC_MII_DATA) & 0xFFFFu;
}

static void phy_write(uint32_t reg, uint32_t v) {
  mii_wait();
  mac_write(MAC_MII_DATA, v);
  mac_write(MAC_MII_ACC, (PHY_ADDR << 11) | (reg << 6) | 2u | 1u);
  mii_wait();
}

int lan9118_link_up(void) {
  (void)phy_read(PHY_BMSR); /* the link bit latches low: the second read is the state now */
  return (phy_read(PHY_BMSR) & BMSR_LINK) != 0;
}

static int mac_valid(const uint8_t m[6]) {
  int zero = (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]) == 0;
  return !zero && (m[0] & 1u) == 0; /* not all-zero, not multicast (and so not broadcast) */
}

int lan9118_init(uint8_t mac[6], const lan9118_callbacks_t *cb, const char **why) {
  cbs = *cb;
  memset(&stats, 0, sizeof stats);
  if (REG(BYTE_TEST) != BYTE_TEST_VALUE) {
    *why = "BYTE_TEST does not read 0x87654321 (no LAN9118 at 0x40200000?)";
    return -1;
  }
  REG(HW_CFG) = HW_CFG_SRST;
  if (spin_until_clear(HW_CFG, HW_CFG_SRST) != 0) {
    *why = "soft reset did not complete";
    return -1;
  }
  uint32_t i;
  for (i = 0; i < SPIN_LIMIT && (REG(PMT_CTRL) & PMT_CTRL_READY) == 0; i++) {
  }
  if (i == SPIN_LIMIT) {
    *why = "PMT_CTRL never reported READY";
    return -1;
  }
  REG(HW_CFG) = HW_CFG_MBO | HW_CFG_TX_FIF_5K;

  /* The address the controller loaded from its EEPROM after reset, if any; else ours. */
  uint32_t lo = mac_read(MAC_ADDRL), hi = mac_read(MAC_ADDRH);
  uint8_t eeprom_mac[6] = {(uint8_t)lo, (uint8_t)(lo >> 8), (uint8_t)(lo >> 16), (uint8_t)(lo >> 24), (uint8_t)hi, (uint8_t)(hi >> 8)};
  if (mac_valid(eeprom_mac)) {
    memcpy(mac, eeprom_mac, 6);
  } else {
    mac_write(MAC_ADDRL, (uint32_t)mac[0] | (uint32_t)mac[1] << 8 | (uint32_t)mac[2] << 16 | (uint32_t)mac[3] << 24);
    mac_write(MAC_ADDRH, (uint32_t)mac[4] | (uint32_t)mac[5] << 8);
  }

  /* PHY: autonegotiation on; interrupts on link down and on autonegotiation complete (link up). */
  phy_write(PHY_BMCR, BMCR_ANENABLE | BMCR_ANRESTART);
  phy_write(PHY_IMR, PHY_INT_LINK_DOWN | PHY_INT_AN_COMPLETE);
  (void)phy_read(PHY_ISR);
  link_state = lan9118_link_up();

  /* Reset leaves promiscuous mode on: exact address match plus broadcast instead, and every
   * multicast frame: IPv6 neighbour discovery needs its solicited-node groups (33:33:ff:..) and
   * IGMP its groups; the core drops the groups it is not in (eth_not_for_us). A hash filter from
   * multicast_mac() would spare it those frames. */
  mac_write(MAC_CR, MAC_CR_TXEN | MAC_CR_RXEN | MAC_CR_FDPX | MAC_CR_MCPAS);
  REG(RX_CFG) = 0;  /* 4-byte end alignment, no offset */
  REG(TX_CFG) = TX_CFG_TX_ON | TX_CFG_TXSAO;
  REG(FIFO_INT) = 0x48000000u; /* RX status level 0: interrupt on every frame */
  REG(INT_STS) = 0xFFFFFFFFu;
  REG(INT_EN) = INT_RSFL | INT_RXDF | INT_RXE | INT_TXE | INT_PHY;
  REG(IRQ_CFG) = IRQ_CFG_EN | IRQ_CFG_POL | IRQ_CFG_TYPE;
  return 0;
}

static void drain_rx(void) {
  for (uint32_t budget = 0; budget < 256u; budget++) {
    if (((REG(RX_FIFO_INF) >> 16) & 0xFFu) == 0) return;
    uint32_t status = REG(RX_STATUS_FIFO);
    uint32_t len = RXS_LENGTH(status);
    uint32_t words = (len + 3u) / 4u;
    /* Always read every data word of the frame, or the FIFO loses its alignment. */
    if (words > sizeof rx_words / 4u) {
      for (uint32_t w = 0; w < words; w++) (void)REG(RX_DATA_FIFO);
      stats.rx_length_errors++;
      continue;
    }
    for (uint32_t w = 0; w < words; w++) rx_words[w] = REG(RX_DATA_FIFO);
    if (status & RXS_ERROR) {
      stats.rx_errors++;
      continue;
    }
    if (len < 14u + 4u) {
      stats.rx_length_errors++;
      continue;
    }
    stats.rx_frames++;
    cbs.rx(cbs.ctx, (const uint8_t *)rx_words, len - 4u); /* without the FCS */
  }
}

void lan9118_isr(void) {
  uint32_t sts = REG(INT_STS) & REG(INT_EN);
  /* Acknowledge first, then drain: a frame that lands after the acknowledge raises it again. */
  REG(INT_STS) = sts;
  if (sts & INT_RSFL) drain_rx();
  if (sts & INT_RXDF) stats.rx_dropped += REG(RX_DROP); /* read clears */
  if (sts & INT_RXE) stats.rx_fifo_errors++;
  if (sts & INT_TXE) stats.tx_errors++;
  if (sts & INT_PHY) {
    (void)phy_read(PHY_ISR);
    int up = lan9118_link_up();
    if (up != link_state) {
      link_state = up;
      stats.link_changes++;
      if (cbs.link) cbs.link(cbs.ctx, up);
    }
  }
}

int lan9118_tx(const uint8_t *frame, uint32_t len) {
  if (len < 14u || len > FRAME_MAX) {
    stats.tx_errors++;
    return -1;
  }
  /* Start from the word that holds the first byte; the command's offset field skips the rest. */
  uint32_t offset = (uint32_t)(uintptr_t)frame & 3u;
  const uint32_t *p = (const uint32_t *)(uintptr_t)((uintptr_t)frame - offset);
  uint32_t words = (offset + len + 3u) / 4u;
  uint32_t i;
  for (i = 0; i < SPIN_LIMIT && (REG(TX_FIFO_INF) & 0xFFFFu) < words * 4u + 8u; i++) {
  }
  if (i == SPIN_LIMIT) {
    stats.tx_fifo_timeouts++;
    return -1;
  }
  tx_tag++;
  REG(TX_DATA_FIFO) = TXA_FIRST | TXA_LAST | TXA_OFFSET(offset) | len;
  REG(TX_DATA_FIFO) = ((uint32_t)tx_tag << 16) | len;
  /* The words around the frame (before offset, after len) are read but never sent. They lie
   * inside linear memory or the pool slot the frame came from, both word-aligned buffers. */
  for (uint32_t w = 0; w < words; w++) REG(TX_DATA_FIFO) = p[w];
  stats.tx_frames++;
  /* Collect the status words of sent frames (bits 23:16: how many are waiting). */
  while ((REG(TX_FIFO_INF) >> 16) & 0xFFu)
    if (REG(TX_STATUS_FIFO) & TXS_ERROR) stats.tx_errors++;
  return 0;
}

uint32_t lan9118_free_run(void) { return REG(FREE_RUN); }
uint32_t lan9118_id(void) { return REG(ID_REV); }
const lan9118_stats_t *lan9118_stats(void) { return &stats; }
