/*
 * nos_platform.c - WAMR's platform functions on a microcontroller with no OS (see
 * platform_internal.h). Single-threaded: mutexes are no-ops, there is one "thread" (id 1).
 */
#include "platform_api_extension.h"
#include "platform_api_vmcore.h"
#include "wasm_export.h"

int bh_platform_init(void) { return 0; }
void bh_platform_destroy(void) {}

/* Only used by Alloc_With_System_Allocator, which these boards never choose: everything comes
 * from the pool given to wasm_runtime_full_init. */
void *os_malloc(unsigned size) {
  (void)size;
  return NULL;
}
void *os_realloc(void *ptr, unsigned size) {
  (void)ptr;
  (void)size;
  return NULL;
}
void os_free(void *ptr) { (void)ptr; }

/* WAMR's messages are rare (load errors, warnings): format into a line buffer, no heap. */
int os_vprintf(const char *format, va_list ap) {
  char line[160];
  int n = vsnprintf(line, sizeof line, format, ap);
  if (n < 0) return n;
  wasmip_nos_write(line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
  return n;
}

int os_printf(const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  int n = os_vprintf(format, ap);
  va_end(ap);
  return n;
}

uint64 os_time_get_boot_us(void) { return wasmip_nos_boot_us(); }
uint64 os_time_thread_cputime_us(void) { return wasmip_nos_boot_us(); }

korp_tid os_self_thread(void) { return 1; }
uint8 *os_thread_get_stack_boundary(void) { return wasmip_nos_stack_boundary(); }
void os_thread_jit_write_protect_np(bool enabled) { (void)enabled; }

int os_mutex_init(korp_mutex *m) {
  *m = 0;
  return BHT_OK;
}
int os_recursive_mutex_init(korp_mutex *m) { return os_mutex_init(m); }
int os_mutex_destroy(korp_mutex *m) {
  (void)m;
  return BHT_OK;
}
int os_mutex_lock(korp_mutex *m) {
  (void)m;
  return BHT_OK;
}
int os_mutex_unlock(korp_mutex *m) {
  (void)m;
  return BHT_OK;
}

/* Linear memory (and an AOT image's data sections) from WAMR's own pool, zeroed as mmap's
 * pages are. The pool's blocks are 8-byte aligned, as AOT code assumes of linear memory. */
void *os_mmap(void *hint, size_t size, int prot, int flags, os_file_handle file) {
  (void)hint;
  (void)prot;
  (void)flags;
  (void)file;
  if (size == 0 || size > UINT32_MAX) return NULL;
  void *p = wasm_runtime_malloc((uint32)size);
  if (p) memset(p, 0, size);
  return p;
}

void os_munmap(void *addr, size_t size) {
  (void)size;
  if (addr) wasm_runtime_free(addr);
}

int os_mprotect(void *addr, size_t size, int prot) {
  (void)addr;
  (void)size;
  (void)prot;
  return 0;
}

/* memory.grow: a new block, the old contents copied, the rest zeroed. */
void *os_mremap(void *old_addr, size_t old_size, size_t new_size) {
  return os_mremap_slow(old_addr, old_size, new_size);
}

void *os_get_dbus_mirror(void *ibus) { return ibus; }

/* The Cortex-M3 has no caches. */
void os_dcache_flush(void) {}
void os_icache_flush(void *start, size_t len) {
  (void)start;
  (void)len;
}
