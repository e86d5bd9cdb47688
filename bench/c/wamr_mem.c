/*
 * bench/c/wamr_mem.c - WAMR's memory for each firmware image, as a board loads it (`make bench`,
 * bench/README.md "Memory"): for every image on the command line, a fresh runtime over a static
 * pool (Alloc_With_Pool, through the boards' glue boards/common/wasmip_wamr.c: phy.* natives
 * registered, module loaded and instantiated, exec env created, board exports looked up), then
 *   - pool_peak: the pool's highmark (wasm_runtime_get_mem_alloc_info) after all that: the module
 *     as loaded by this interpreter (fast or classic: the fast one rewrites the bytecode), the
 *     instance, the exec env and its wasm stack, and the runtime's own allocations;
 *     (pool_in_use: what stays allocated once loading is done; the loader's scratch is freed);
 *   - linear: the instance's linear memory, which WAMR takes from os_mmap (on ESP-IDF
 *     heap_caps_malloc), not from the pool. (WAMR folds a memory that cannot grow into one "page"
 *     of its whole size: pages x bytes per page is the size either way.)
 * The image itself is read into malloc'd memory outside the pool (image_bytes): a board that
 * keeps a RAM copy of it (the loader needs a writable buffer and keeps using it) needs that too.
 *
 * Built for x86-64 and with -m32 (WAMR's X86_32 target) against each interpreter variant; the
 * 32-bit build runs under qemu-i386 here. Prints one JSON object per image on stdout.
 *
 *   wamr-mem [--stack BYTES] IMAGE.wasm...      (--stack: the wasm stack, default 8 KiB)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm_export.h"
#include "wasmip_board.h"
#include "wasmip_wamr.h"

#ifndef WAMR_MEM_POOL_BYTES
#define WAMR_MEM_POOL_BYTES (2u << 20)
#endif

static uint8_t pool[WAMR_MEM_POOL_BYTES] __attribute__((aligned(8)));
static wasmip_board_t board;
static wasmip_wamr_t w;

static uint8_t *read_file(const char *path, uint32_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  uint8_t *buf = NULL;
  if (fseek(f, 0, SEEK_END) == 0) {
    long n = ftell(f);
    if (n > 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n)) != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
      free(buf);
      buf = NULL;
    }
    *len = (uint32_t)n;
  }
  fclose(f);
  return buf;
}

int main(int argc, char **argv) {
  uint32_t stack = 8192;
  int failed = 0, images = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--stack") && i + 1 < argc) {
      stack = (uint32_t)strtoul(argv[++i], NULL, 0);
      continue;
    }
    if (argv[i][0] == '-') {
      fprintf(stderr, "usage: %s [--stack BYTES] IMAGE.wasm...\n", argv[0]);
      return 2;
    }
    images++;
    uint32_t len = 0;
    uint8_t *buf = read_file(argv[i], &len);
    if (!buf) {
      printf("{\"image\":\"%s\",\"ok\":false,\"error\":\"cannot read the file\"}\n", argv[i]);
      failed = 1;
      continue;
    }
    if (wasmip_wamr_init(pool, sizeof pool) != 0) {
      printf("{\"image\":\"%s\",\"ok\":false,\"error\":\"wasmip_wamr_init failed\"}\n", argv[i]);
      free(buf);
      return 1;
    }
    uint32_t after_init = 0, total = 0, peak = 0;
    wasmip_wamr_pool_stats(&after_init, &total);
    wasmip_board_setup(&board, &w.rt, NULL); /* for the natives' board pointer: never started */
    if (wasmip_wamr_load(&w, buf, len, &board, stack) != 0) {
      printf("{\"image\":\"%s\",\"ok\":false,\"error\":\"load: %s\"}\n", argv[i], w.error);
      failed = 1;
    } else {
      wasmip_wamr_pool_stats(&peak, &total);
      mem_alloc_info_t info;
      uint32_t in_use = wasm_runtime_get_mem_alloc_info(&info) ? info.total_size - info.total_free_size : 0;
      wasm_memory_inst_t mem = wasm_runtime_get_default_memory(w.inst);
      uint64_t pages = mem ? wasm_memory_get_cur_page_count(mem) : 0;
      uint64_t max_pages = mem ? wasm_memory_get_max_page_count(mem) : 0;
      uint64_t page = mem ? wasm_memory_get_bytes_per_page(mem) : 65536;
      printf("{\"image\":\"%s\",\"ok\":true,\"image_bytes\":%u,\"stack_bytes\":%u,\"pool_bytes\":%u,\"pool_after_init\":%u,"
             "\"pool_peak\":%u,\"pool_in_use\":%u,\"pages\":%llu,\"max_pages\":%llu,\"linear_bytes\":%llu,\"footprint_bytes\":%llu,\"pointer_bits\":%u}\n",
             argv[i], len, stack, total, after_init, peak, in_use, (unsigned long long)pages, (unsigned long long)max_pages,
             (unsigned long long)(pages * page), (unsigned long long)(peak + pages * page), (unsigned)(8 * sizeof(void *)));
      wasmip_wamr_unload(&w);
    }
    wasmip_wamr_destroy();
    free(buf);
  }
  if (!images) {
    fprintf(stderr, "usage: %s [--stack BYTES] IMAGE.wasm...\n", argv[0]);
    return 2;
  }
  return failed;
}
