/*
 * main.c - the wasmip firmware for the MPS2 AN385 (Cortex-M3, no OS): a firmware .wasm on the
 * runtime chosen at build (board_rt.h: wasm2c's C, or WAMR's interpreters or AOT), the shared
 * board code (boards/common: frame pool, phy.* glue, poll/sleep loop) and the LAN9118 driver
 * (lan9118.c) as the PHY shim.
 *
 *   - Clock: SysTick at 1 kHz from the 25 MHz processor clock -> phy.now_ms.
 *   - Idle: the stack task sleeps in WFI until an interrupt (a frame, a tick, a console command)
 *     and returns to the core when a frame is queued or poll()'s deadline is due.
 *   - Receive: the Ethernet interrupt drains the LAN9118's RX FIFO into the shared pool
 *     (wasmip_board_rx; producer = the ISR, consumer = the stack task, C11 atomics).
 *   - Transmit: phy.tx writes straight into the TX FIFO from the stack task.
 *   - Random: an entropy pool fed by what this board really has: the LAN9118's free-running
 *     25 MHz counter (its own clock) read against SysTick's down-counter (the CPU clock) at boot,
 *     and the arrival time of every received frame. See README.md ("Randomness").
 *   - Log: UART0, "[level] message" per line; "ready" once the stack runs (after "leased A/len gw
 *     G" with DHCP). A command character on UART0: 's' prints the counters.
 *   - A trap in the module, a runtime limit or a CPU fault: reported on UART0, then a reset.
 * Configuration (address or DHCP, log level): the block at BOARD_CONFIG_ADDR (config.h).
 */
#include <string.h>

#include "board_rt.h"
#include "config.h"
#include "console.h"
#include "lan9118.h"
#include "mps2.h"

#ifndef WASMIP_APP
#define WASMIP_APP "board"
#endif

uint32_t stack_high_water(void); /* startup.c */
uint32_t stack_size(void);

static wasmip_board_t board; /* static: the pool lives here, nothing is allocated per frame */
static wasmip_runtime_t runtime;

static volatile uint32_t ticks_ms;
static volatile int woken;
static uint32_t log_level = WASMIP_LOG_INFO;
static board_config_t cfg;
static const char *cfg_source = "defaults";

/* ---------------- randomness ---------------- */

static uint32_t pool[4];         /* stack task only */
static volatile uint32_t rx_times; /* written by the Ethernet ISR only: frame arrival times */

static inline uint32_t rotl(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }

/* Two ChaCha quarter rounds over the whole pool: every input bit reaches every word. */
static void pool_stir(void) {
  for (int i = 0; i < 2; i++) {
    pool[0] += pool[1]; pool[3] ^= pool[0]; pool[3] = rotl(pool[3], 16);
    pool[2] += pool[3]; pool[1] ^= pool[2]; pool[1] = rotl(pool[1], 12);
    pool[0] += pool[1]; pool[3] ^= pool[0]; pool[3] = rotl(pool[3], 8);
    pool[2] += pool[3]; pool[1] ^= pool[2]; pool[1] = rotl(pool[1], 7);
  }
}

static void pool_absorb(uint32_t x) {
  pool[0] ^= x;
  pool[1] ^= rx_times;
  pool[2] ^= SYST_CVR;
  pool_stir();
}

/* Boot: the two clocks against each other; the low bits of each reading jitter. */
static void pool_seed(const uint8_t mac[6]) {
  pool[1] = 0x61707865u; /* constants so an all-zero start still stirs */
  pool[3] = ((uint32_t)mac[2] << 24 | (uint32_t)mac[3] << 16 | (uint32_t)mac[4] << 8 | mac[5]) ^ 0x3320646eu;
  for (uint32_t i = 0; i < 64; i++) {
    uint32_t spin = (lan9118_free_run() ^ SYST_CVR) & 63u;
    for (volatile uint32_t k = 0; k < spin; k++) {
    }
    pool_absorb(lan9118_free_run());
  }
}

static uint32_t port_random(void *ctx) {
  (void)ctx;
  pool_absorb(lan9118_free_run());
  return pool[0] ^ pool[2];
}

/* ---------------- the port ---------------- */

static int port_tx(void *ctx, const uint8_t *frame, uint32_t len) {
  (void)ctx;
  return lan9118_tx(frame, len);
}

static uint32_t port_now_ms(void *ctx) {
  (void)ctx;
  return ticks_ms;
}

uint64_t board_boot_us(void) {
  uint32_t ms, cvr;
  do { /* a tick between the two reads would pair a new count with an old ms */
    ms = ticks_ms;
    cvr = SYST_CVR;
  } while (ms != ticks_ms);
  return (uint64_t)ms * 1000u + (SYST_RVR - cvr) / (MPS2_SYSCLK_HZ / 1000000u);
}

static const char *const level_names[] = {"error", "warn", "info", "debug"};

/* One line per message: bytes outside printable ASCII become '?', so nothing from the core can
 * break the line protocol the host reads (the ABI promises ASCII without newlines). */
static void port_log(void *ctx, uint32_t level, const char *msg, uint32_t len) {
  (void)ctx;
  if (level > log_level) return;
  console_puts("[");
  console_puts(level_names[level < 4 ? level : 3]);
  console_puts("] ");
  for (uint32_t i = 0; i < len; i++) {
    char c = msg[i] >= 0x20 && msg[i] < 0x7f ? msg[i] : '?';
    console_write(&c, 1);
  }
  console_puts("\n");
}

static void print_stats(void);

/* Processor clock cycles since boot (SysTick counts them), read with interrupts off: a wrap the
 * SysTick handler has not counted yet shows as its pending bit. Under QEMU with -icount shift=0
 * every instruction is one ns of virtual time, so a cycle (40 ns at 25 MHz) is 40 instructions:
 * what make bench uses to count the guest's instructions (busy = cycles - idle_cycles). */
static uint64_t cycles_irq_off(void) {
  uint32_t ms = ticks_ms, cvr = SYST_CVR;
  if (SCB_ICSR & SCB_ICSR_PENDSTSET) {
    ms++;
    cvr = SYST_CVR;
  }
  return (uint64_t)ms * (SYST_RVR + 1u) + (SYST_RVR - cvr);
}

static uint64_t idle_cycles; /* spent in WFI */

static void port_wait(void *ctx, uint32_t timeout_ms) {
  (void)ctx;
  uint32_t start = ticks_ms;
  for (;;) {
    int c = console_take_command();
    if (c == 's') print_stats();
    irq_disable();
    if (woken || (uint32_t)(ticks_ms - start) >= timeout_ms) {
      woken = 0;
      irq_enable();
      return;
    }
    uint64_t c0 = cycles_irq_off();
    wfi(); /* wakes on any pending interrupt, even with PRIMASK set; taken once enabled below */
    idle_cycles += cycles_irq_off() - c0;
    irq_enable();
  }
}

static void port_wake(void *ctx) {
  (void)ctx;
  woken = 1;
}

/* ---------------- the MAC's multicast filter ---------------- */

__attribute__((noreturn)) static void report_trap_and_reset(void);

static void add_hash_bit(void *arg, const uint8_t mac[6]) {
  uint32_t *h = arg, bit = lan9118_hash_bit(mac);
  h[bit >> 5] |= 1u << (bit & 31u);
}

/* The LAN9118's hash table from the groups the core has joined (all systems, mDNS, IPv6's): what
 * a MAC filter is for, the CPU never sees the other groups' frames. An image that cannot say
 * (no multicast_mac export) gets every multicast frame. */
static void program_multicast(void) {
  uint32_t h[2] = {0, 0}; /* HASHL, HASHH */
  int n = wasmip_board_multicast_macs(&board, add_hash_bit, h);
  if (n == WASMIP_BOARD_TRAPPED) report_trap_and_reset();
  lan9118_multicast_filter(h[1], h[0], n < 0);
}

static void port_net_event(void *ctx, uint32_t ev) {
  (void)ctx;
  wasmip_board_log_events(&board, ev);
  if (ev & WASMIP_NET_EV_MULTICAST) program_multicast();
}

static const wasmip_port_t port = {NULL, port_tx, port_now_ms, port_random, port_log, port_wait, port_wake, NULL, NULL, port_net_event};

/* ---------------- interrupts ---------------- */

void SysTick_Handler(void) { ticks_ms++; }

void Ethernet_Handler(void) { lan9118_isr(); }

void Uart0Rx_Handler(void) {
  console_rx_isr();
  woken = 1;
}

static void eth_rx(void *ctx, const uint8_t *frame, uint32_t len) {
  (void)ctx;
  rx_times = rotl(rx_times, 7) ^ lan9118_free_run(); /* arrival time, folded in at the next draw */
  wasmip_board_rx(&board, frame, len); /* a full pool drops and counts the frame */
}

static void eth_link(void *ctx, int up) {
  (void)ctx;
  wasmip_board_link(&board, up);
}

/* ---------------- reports ---------------- */

static void print_counter(void *arg, const char *name, uint32_t kind, uint32_t value) {
  (void)arg;
  (void)kind;
  if (!value) return;
  console_puts("  ");
  console_puts(name);
  console_puts(" ");
  console_put_u32(value);
  console_puts("\n");
}

static void put_field(const char *name, uint32_t v) {
  console_puts(" ");
  console_puts(name);
  console_puts(" ");
  console_put_u32(v);
}

/* A 64-bit count as decimal (console_put_u32 has 32 bits; cycles pass 2^32 after three minutes). */
static void put_u64(uint64_t v) {
  char buf[21];
  int i = sizeof buf;
  buf[--i] = 0;
  do {
    buf[--i] = (char)('0' + v % 10u);
    v /= 10u;
  } while (v);
  console_puts(&buf[i]);
}

static void print_stats(void) {
  irq_disable();
  uint64_t cycles = cycles_irq_off(), idle = idle_cycles;
  irq_enable();
  const wasmip_board_stats_t *s = &board.stats;
  const lan9118_stats_t *e = lan9118_stats();
  console_puts("board:\n ");
  put_field("rx_queued", s->rx_queued);
  put_field("rx_pool_full", s->rx_pool_full);
  put_field("rx_bad_length", s->rx_bad_length);
  put_field("rx_input", s->rx_input);
  put_field("tx_frames", s->tx_frames);
  put_field("tx_errors", s->tx_errors);
  put_field("polls", s->polls);
  put_field("waits", s->waits);
  console_puts("\nlan9118:\n ");
  put_field("rx_frames", e->rx_frames);
  put_field("rx_errors", e->rx_errors);
  put_field("rx_length_errors", e->rx_length_errors);
  put_field("rx_dropped", e->rx_dropped);
  put_field("rx_fifo_errors", e->rx_fifo_errors);
  put_field("tx_frames", e->tx_frames);
  put_field("tx_errors", e->tx_errors);
  put_field("tx_fifo_timeouts", e->tx_fifo_timeouts);
  put_field("link_changes", e->link_changes);
  uint32_t mac_cr, hashh, hashl;
  lan9118_multicast_regs(&mac_cr, &hashh, &hashl);
  put_field("mcast_filter_updates", e->mcast_filter_updates);
  put_field("mac_cr", mac_cr);
  put_field("hashh", hashh);
  put_field("hashl", hashl);
  console_puts("\nstack:\n ");
  put_field("high_water", stack_high_water());
  put_field("size", stack_size());
  console_puts("\ncpu:\n  cycles ");
  put_u64(cycles);
  console_puts(" idle_cycles ");
  put_u64(idle);
  console_puts("\n");
  board_rt_stats();
  if (!board.trapped) {
    console_puts("core:\n");
    wasmip_board_counters(&board, print_counter, NULL);
  }
  console_puts("end\n");
}

__attribute__((noreturn)) static void report_trap_and_reset(void) {
  char msg[160];
  wasmip_board_describe_trap(&board, msg, sizeof msg);
  console_puts("wasmip: ");
  console_puts(msg);
  console_puts("\n");
  print_stats();
  console_puts("wasmip: resetting\n");
  mps2_reset();
}

/* A runtime hit one of its limits (a pool too small, an image it cannot load). */
__attribute__((noreturn)) void board_fatal(const char *msg) {
  console_puts("wasmip: ");
  console_puts(msg);
  console_puts("\nwasmip: resetting\n");
  mps2_reset();
}

/* assert() in the generated code and newlib: report and reset, without stdio. */
__attribute__((noreturn)) void __assert_func(const char *file, int line, const char *fn, const char *expr) {
  (void)fn;
  console_puts("wasmip: assertion failed: ");
  console_puts(expr);
  console_puts(" at ");
  console_puts(file);
  console_puts(":");
  console_put_u32((uint32_t)line);
  console_puts("\nwasmip: resetting\n");
  mps2_reset();
}

/* ---------------- configuration ---------------- */

/* CRC-32 (IEEE 802.3, reflected, as zlib's crc32). */
static uint32_t crc32(const uint8_t *p, uint32_t n) {
  uint32_t c = 0xFFFFFFFFu;
  while (n--) {
    c ^= *p++;
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

static void load_config(void) {
  const board_config_t *b = (const board_config_t *)(uintptr_t)BOARD_CONFIG_ADDR;
  if (b->magic == BOARD_CONFIG_MAGIC && b->version == BOARD_CONFIG_VERSION &&
      b->crc32 == crc32((const uint8_t *)b, offsetof(board_config_t, crc32))) {
    cfg = *b;
    cfg_source = "config block";
    return;
  }
  if (b->magic == BOARD_CONFIG_MAGIC) cfg_source = "defaults (the config block is damaged or of another version)";
  memset(&cfg, 0, sizeof cfg);
  cfg.ip = BOARD_DEFAULT_IP;
  cfg.mask = BOARD_DEFAULT_MASK;
  cfg.log_level = WASMIP_LOG_INFO;
  cfg.mac_hi = BOARD_DEFAULT_MAC_HI;
  cfg.mac_lo = BOARD_DEFAULT_MAC_LO;
}

static uint32_t prefix_len(uint32_t mask) {
  uint32_t n = 0;
  while (mask & 0x80000000u) {
    n++;
    mask <<= 1;
  }
  return n;
}

static void put_mac(const uint8_t mac[6]) {
  for (int i = 0; i < 6; i++) {
    char h[3] = {"0123456789abcdef"[mac[i] >> 4], "0123456789abcdef"[mac[i] & 15u], ':'};
    console_write(h, i < 5 ? 3u : 2u);
  }
}

int main(void) {
  console_init();
  SYST_RVR = MPS2_SYSCLK_HZ / 1000u - 1u;
  SYST_CVR = 0;
  SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
  console_puts("\nwasmip: mps2-an385 board (Cortex-M3), app " WASMIP_APP ", runtime ");
  console_puts(board_rt_name);
  console_puts("\n");

  load_config();
  log_level = cfg.log_level <= WASMIP_LOG_DEBUG ? cfg.log_level : WASMIP_LOG_INFO;
  uint8_t mac[6] = {(uint8_t)(cfg.mac_hi >> 8), (uint8_t)cfg.mac_hi, (uint8_t)(cfg.mac_lo >> 24), (uint8_t)(cfg.mac_lo >> 16),
                    (uint8_t)(cfg.mac_lo >> 8), (uint8_t)cfg.mac_lo};
  const lan9118_callbacks_t cb = {eth_rx, eth_link, NULL};
  const char *why = "";
  if (lan9118_init(mac, &cb, &why) != 0) {
    console_puts("wasmip: LAN9118: ");
    console_puts(why);
    console_puts("\nwasmip: resetting\n");
    mps2_reset();
  }
  pool_seed(mac);

  /* The module: static runtime, static instance; nothing is allocated after this. */
  if (board_rt_load(&board, &runtime, &why) != 0) {
    console_puts("wasmip: ");
    console_puts(board_rt_name);
    console_puts(": ");
    console_puts(why);
    console_puts("\nwasmip: resetting\n");
    mps2_reset();
  }
  wasmip_board_setup(&board, &runtime, &port);
  /* Under an interpreter, sums through phy.checksum (wasmip_checksum) cost far less. */
  if (!strcmp(board_rt_name, "wamr-fast") || !strcmp(board_rt_name, "wamr-classic")) wasmip_board_set_offload(&board, WASMIP_OFFLOAD_SUM);
  int dhcp = (cfg.flags & BOARD_CONFIG_DHCP) != 0;
  uint32_t a[1] = {log_level};
  if (wasmip_board_call(&board, WASMIP_FN_SET_LOG_LEVEL, a)) report_trap_and_reset();
  int32_t rc = dhcp ? wasmip_board_start(&board, mac, 0, 0, 0) : wasmip_board_start(&board, mac, cfg.ip, cfg.mask, cfg.gw);
  if (rc == WASMIP_BOARD_TRAPPED) report_trap_and_reset();
  if (rc >= 0) program_multicast(); /* the groups init joined; later changes come as events */
  if (rc < 0) {
    console_puts("wasmip: init refused the configuration (");
    console_put_u32((uint32_t)-rc);
    console_puts(")\nwasmip: resetting\n");
    mps2_reset();
  }
  if (wasmip_board_call(&board, WASMIP_FN_MEMORY_USED, a)) report_trap_and_reset();
  uint32_t memsize = 0, reserved = 0;
  board_rt_memory(&memsize, &reserved);
  int up = lan9118_link_up();
  if (!up) wasmip_board_link(&board, 0);

  console_puts("wasmip: LAN9118 id ");
  console_put_hex(lan9118_id());
  console_puts(", MAC ");
  put_mac(mac);
  console_puts(", link ");
  console_puts(up ? "up" : "down");
  console_puts(", ");
  if (dhcp) console_puts("dhcp");
  else {
    console_put_ip(cfg.ip);
    console_puts("/");
    console_put_u32(prefix_len(cfg.mask));
  }
  console_puts(" (");
  console_puts(cfg_source);
  console_puts(")\nwasmip: core uses ");
  console_put_u32(a[0]);
  console_puts(" of ");
  console_put_u32(memsize);
  console_puts(" bytes of linear memory (");
  console_put_u32(reserved);
  console_puts(" reserved), ");
  console_put_u32(WASMIP_RXQ_SLOTS);
  console_puts(" rx slots\n");

  nvic_enable(MPS2_IRQ_ETHERNET);
  nvic_enable(MPS2_IRQ_UART0_RX);

  if (dhcp) {
    if (!wasmip_board_has_dhcp(&board)) {
      console_puts("wasmip: this image has no DHCP client (no dhcp_start export)\nwasmip: resetting\n");
      mps2_reset();
    }
    int32_t d = wasmip_board_dhcp_start(&board, "wasmip-" WASMIP_APP); /* host name: option 12 */
    if (d == WASMIP_BOARD_TRAPPED) report_trap_and_reset();
    if (d != 0) {
      console_puts("wasmip: dhcp_start refused\nwasmip: resetting\n");
      mps2_reset();
    }
    uint32_t lip = 0, lgw = 0;
    if (wasmip_board_dhcp_wait_lease(&board, &lip, &lgw) == WASMIP_BOARD_TRAPPED) report_trap_and_reset();
    console_puts("leased ");
    console_put_ip(lip);
    console_puts("/");
    console_put_u32(cfg.lease_prefix);
    console_puts(" gw ");
    console_put_ip(lgw);
    console_puts("\n");
  }
  console_puts("ready\n");

  wasmip_board_run(&board); /* returns only on a trap: nothing stops a board */
  report_trap_and_reset();
}
