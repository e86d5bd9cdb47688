/*
 * board_rt.h - the runtime the firmware image runs on, chosen at build (make RUNTIME=...):
 *   rt_w2c.c   wasm2c: the image translated to C, on the static wasm-rt (RUNTIME=wasm2c)
 *   rt_wamr.c  WAMR: the .wasm or an AOT image embedded in flash, run by WAMR's fast or classic
 *              interpreter or its AOT loader, on the no-OS platform layer (RUNTIME=wamr-*)
 * main.c (the port, the LAN9118, boot, DHCP, the console) is the same for every runtime and
 * reaches the core only through the wasmip_runtime_t these fill in.
 */
#ifndef BOARD_RT_H
#define BOARD_RT_H

#include <stdint.h>

#include "wasmip_board.h"

/* "wasm2c", "wamr-fast", "wamr-classic", "wamr-aot". */
extern const char board_rt_name[];

/* Load and instantiate the image for this board: rt is what to give wasmip_board_setup. 0, or
 * -1 with *why set (the board reports it and resets). */
int board_rt_load(wasmip_board_t *b, wasmip_runtime_t *rt, const char **why);

/* Linear memory now and the most it may grow to (bytes), for the boot line. */
void board_rt_memory(uint32_t *size, uint32_t *reserved);

/* Print the runtime's own figures ("  name value" lines) for the console's 's' report. */
void board_rt_stats(void);

/* main.c, for the runtimes: report a fatal condition on the UART, then reset. */
__attribute__((noreturn)) void board_fatal(const char *msg);
/* The clock (SysTick, 1 kHz) in microseconds. */
uint64_t board_boot_us(void);

#endif /* BOARD_RT_H */
