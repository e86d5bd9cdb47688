/* console.c - UART0 output and command input (see console.h). */
#include "console.h"

#include "mps2.h"

#define BAUD 115200u

static volatile int pending_command;

void console_init(void) {
  UART0_BAUDDIV = MPS2_SYSCLK_HZ / BAUD; /* >= 16, or the UART does not run */
  UART0_CTRL = UART_CTRL_TX_EN | UART_CTRL_RX_EN | UART_CTRL_RX_INT_EN;
}

static void putc_raw(char c) {
  while (UART0_STATE & UART_STATE_TX_FULL) {
  }
  UART0_DATA = (uint32_t)(uint8_t)c;
}

void console_write(const char *s, uint32_t len) {
  for (uint32_t i = 0; i < len; i++) {
    if (s[i] == '\n') putc_raw('\r');
    putc_raw(s[i]);
  }
}

void console_puts(const char *s) {
  while (*s) {
    if (*s == '\n') putc_raw('\r');
    putc_raw(*s++);
  }
}

void console_put_u32(uint32_t v) {
  char buf[11];
  int i = sizeof buf;
  do {
    buf[--i] = (char)('0' + v % 10u);
    v /= 10u;
  } while (v);
  console_write(buf + i, (uint32_t)(sizeof buf - (unsigned)i));
}

void console_put_hex(uint32_t v) {
  char buf[10] = {'0', 'x'};
  for (int i = 0; i < 8; i++) buf[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 15u];
  console_write(buf, sizeof buf);
}

void console_put_ip(uint32_t ip) {
  for (int i = 3; i >= 0; i--) {
    console_put_u32((ip >> (8 * i)) & 255u);
    if (i) putc_raw('.');
  }
}

int console_take_command(void) {
  int c = pending_command;
  pending_command = 0;
  return c;
}

void console_rx_isr(void) {
  UART0_INTSTATUS = UART_INT_RX;
  while (UART0_STATE & UART_STATE_RX_FULL) {
    int c = (int)(UART0_DATA & 0xFFu);
    if (c != '\r' && c != '\n') pending_command = c;
  }
}
