/*
 * console.h - UART0 of the MPS2 (CMSDK APB UART, 115200 baud at 25 MHz): blocking output for
 * logs, and single-character commands received by interrupt.
 */
#ifndef CONSOLE_H
#define CONSOLE_H

#include <stdint.h>

void console_init(void);
void console_write(const char *s, uint32_t len);
void console_puts(const char *s);
void console_put_u32(uint32_t v);
void console_put_hex(uint32_t v); /* 0x%08x */
void console_put_ip(uint32_t ip);  /* host order, dotted quad */

/* The last command character received (0 if none since the last call). */
int console_take_command(void);

/* The UART0 RX interrupt handler. */
void console_rx_isr(void);

#endif /* CONSOLE_H */
