/*
 * platform_internal.h - WAMR's platform layer for a microcontroller with no OS ("nos"): one
 * thread, no files, no sockets, no signals. WAMR includes this through
 * core/shared/platform/include/platform_common.h; shared_platform.cmake puts this directory on
 * its include path (SHARED_PLATFORM_CONFIG, see CMakeLists.txt here).
 *
 * What the board supplies (three functions, see nos_platform.c for how WAMR uses them):
 *   uint64_t wasmip_nos_boot_us(void);              monotonic microseconds since boot
 *   void wasmip_nos_write(const char *s, size_t n); console output (WAMR's os_printf)
 *   uint8_t *wasmip_nos_stack_boundary(void);       the lowest usable address of the stack the
 *                                                   runtime runs on (WAMR stops a call that
 *                                                   would go below it), or NULL
 * Memory: the runtime is initialised with Alloc_With_Pool over a static region; linear memory
 * (os_mmap) comes from that same pool, so one number bounds everything WAMR allocates.
 */
#ifndef _PLATFORM_INTERNAL_H
#define _PLATFORM_INTERNAL_H

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef BH_PLATFORM_WASMIP_NOS
#define BH_PLATFORM_WASMIP_NOS
#endif

#define BH_APPLET_PRESERVED_STACK_SIZE (2 * BH_KB)
#define BH_THREAD_DEFAULT_PRIORITY 0

/* One thread: the types exist only so WAMR's headers compile; the functions are no-ops. */
typedef int korp_tid;
typedef int korp_mutex;
typedef int korp_sem;
typedef int korp_thread;
typedef struct {
  int dummy;
} korp_rwlock;
typedef struct {
  int dummy;
} korp_cond;

/* No file system. */
typedef int os_file_handle;
typedef void *os_dir_stream;
typedef int os_raw_file_handle;

static inline os_file_handle os_get_invalid_handle(void) { return -1; }

/* The granule linear memory sizes are rounded to (no MMU: no page to align to). */
static inline int os_getpagesize(void) { return 8; }

uint64_t wasmip_nos_boot_us(void);
void wasmip_nos_write(const char *s, size_t n);
uint8_t *wasmip_nos_stack_boundary(void);

#endif /* _PLATFORM_INTERNAL_H */
