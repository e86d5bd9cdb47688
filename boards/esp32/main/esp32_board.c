/*
 * esp32_board.c - the ESP32 board's own part. The rest is shared: ../../common/wasmip_board.c (the
 * frame pool, the import glue, the poll/sleep loop, the DHCP boot) and ../../common/wasmip_wamr.c
 * (WAMR over a pool, the phy.* natives, load/instantiate, the runtime table), the same files the
 * Linux WAMR board builds and tests.
 *   - the stack task: WAMR's pool taken from the IDF heap, the embedded image loaded, the core
 *     started with the link's MAC and a static address or a DHCP lease, then wasmip_board_run();
 *   - the port: esp_timer clock, hardware RNG, ESP_LOGx, a task notification as the board's
 *     wait/wake, frames out through the link (esp32_link.h: EMAC or Wi-Fi station).
 * Written against ESP-IDF v5.x; compiled here only against stub headers (see ../README.md).
 */
#include <stdio.h>
#include <string.h>

#include "esp32_link.h"
#include "esp_heap_caps.h"
#include "esp_log.h"
#include "esp_random.h"
#include "esp_system.h"
#include "esp_timer.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "sdkconfig.h"
#include "wasm_export.h"
#include "wasmip_board.h"
#include "wasmip_wamr.h"

static const char *TAG = "wasmip";

/* The image, embedded by main/CMakeLists.txt (EMBED_FILES). */
extern const uint8_t fw_start[] __asm__("_binary_wasmip_firmware_wasm_start");
extern const uint8_t fw_end[] __asm__("_binary_wasmip_firmware_wasm_end");

#if defined(CONFIG_WASMIP_WAMR_BLOCK_CACHE) && (CONFIG_WASMIP_WAMR_BLOCK_CACHE & (CONFIG_WASMIP_WAMR_BLOCK_CACHE - 1)) != 0
#error "CONFIG_WASMIP_WAMR_BLOCK_CACHE must be a power of two (WAMR indexes its cache with a mask)"
#endif

/* The pool is taken from the heap at boot rather than placed in .bss: a size that does not fit is
 * then a log line naming the option, not a linker error about dram0_0_seg. */
#if CONFIG_WASMIP_POOL_IN_PSRAM
#define POOL_CAPS (MALLOC_CAP_SPIRAM | MALLOC_CAP_8BIT)
#else
#define POOL_CAPS (MALLOC_CAP_INTERNAL | MALLOC_CAP_8BIT)
#endif
#define POOL_BYTES ((uint32_t)CONFIG_WASMIP_WAMR_POOL_KB * 1024u)
#define WASM_STACK_BYTES ((uint32_t)CONFIG_WASMIP_WAMR_STACK_KB * 1024u)
/* How long the boot waits for the link before it starts DHCP anyway (the client retransmits). */
#define LINK_WAIT_MS 10000u

static wasmip_board_t board; /* the frame pool: WASMIP_RXQ_SLOTS x 1518 bytes, static */
static wasmip_wamr_t wamr;
static TaskHandle_t stack_task;

/* ---------------- port: the link, esp_timer, FreeRTOS ---------------- */

static int port_tx(void *ctx, const uint8_t *frame, uint32_t len) {
  (void)ctx;
  return esp32_link_tx(frame, len);
}
static uint32_t port_now_ms(void *ctx) {
  (void)ctx;
  return (uint32_t)(esp_timer_get_time() / 1000);
}
static uint32_t port_random(void *ctx) {
  (void)ctx;
  return esp_random();
}
static void port_log(void *ctx, uint32_t level, const char *msg, uint32_t len) {
  (void)ctx;
  if (level == WASMIP_LOG_ERROR) ESP_LOGE(TAG, "%.*s", (int)len, msg);
  else if (level == WASMIP_LOG_WARN) ESP_LOGW(TAG, "%.*s", (int)len, msg);
  else if (level == WASMIP_LOG_INFO) ESP_LOGI(TAG, "%.*s", (int)len, msg);
  else ESP_LOGD(TAG, "%.*s", (int)len, msg);
}
static void port_wait(void *ctx, uint32_t timeout_ms) {
  (void)ctx;
  TickType_t t = pdMS_TO_TICKS(timeout_ms);
  ulTaskNotifyTake(pdTRUE, t ? t : 1);
}
static void port_wake(void *ctx) {
  (void)ctx;
  if (stack_task) xTaskNotifyGive(stack_task);
}

static void port_net_event(void *ctx, uint32_t ev) {
  (void)ctx;
  wasmip_board_log_events(&board, ev);
  if (ev & WASMIP_NET_EV_MULTICAST) esp32_link_multicast(&board);
}

static const wasmip_port_t port = {NULL, port_tx, port_now_ms, port_random, port_log, port_wait, port_wake, NULL, NULL, port_net_event};

/* ---------------- boot ---------------- */

static void ip_str(uint32_t ip, char *buf, size_t n) {
  snprintf(buf, n, "%u.%u.%u.%u", (unsigned)(ip >> 24), (unsigned)(ip >> 16 & 255), (unsigned)(ip >> 8 & 255), (unsigned)(ip & 255));
}

/* WAMR's pool and the image: 0, or -1 after a log line that says which memory ran out. */
static int load_image(void) {
  const uint32_t size = (uint32_t)(fw_end - fw_start);
  ESP_LOGI(TAG, "image %s: %u bytes; IDF heap: %u bytes free, largest block %u", CONFIG_WASMIP_APP, (unsigned)size,
           (unsigned)heap_caps_get_free_size(MALLOC_CAP_8BIT), (unsigned)heap_caps_get_largest_free_block(MALLOC_CAP_8BIT));
  uint8_t *pool = heap_caps_malloc(POOL_BYTES, POOL_CAPS);
  if (!pool) {
    ESP_LOGE(TAG,
             "no %u-byte block for the WAMR pool (largest free: %u): lower CONFIG_WASMIP_WAMR_POOL_KB, or choose "
             "CONFIG_WAMR_INTERP_CLASSIC (a much smaller pool), or use a board with PSRAM (CONFIG_SPIRAM, "
             "CONFIG_WASMIP_POOL_IN_PSRAM); boards/esp32/README.md, Memory",
             (unsigned)POOL_BYTES, (unsigned)heap_caps_get_largest_free_block(POOL_CAPS));
    return -1;
  }
  if (wasmip_wamr_init(pool, POOL_BYTES) != 0) {
    ESP_LOGE(TAG, "wasm_runtime_full_init failed on a %u-byte pool", (unsigned)POOL_BYTES);
    return -1;
  }
  /* WAMR's loader may patch the bytes it is given (wasmip_wamr.h): a RAM copy of the flash image,
   * from the pool, once. */
  uint8_t *code = wasm_runtime_malloc(size);
  if (!code) {
    ESP_LOGE(TAG, "no room for the %u-byte image copy in the %u-byte WAMR pool: raise CONFIG_WASMIP_WAMR_POOL_KB",
             (unsigned)size, (unsigned)POOL_BYTES);
    return -1;
  }
  memcpy(code, fw_start, size);
  uint32_t peak = 0, total = 0;
  if (wasmip_wamr_load(&wamr, code, size, &board, WASM_STACK_BYTES) != 0) {
    wasmip_wamr_pool_stats(&peak, &total);
    ESP_LOGE(TAG,
             "loading %s: %s. The WAMR pool (CONFIG_WASMIP_WAMR_POOL_KB) reached %u of %u bytes; linear memory is "
             "not in it but one block from the IDF heap (heap_caps_malloc), whose largest free block is %u bytes",
             CONFIG_WASMIP_APP, wamr.error, (unsigned)peak, (unsigned)total,
             (unsigned)heap_caps_get_largest_free_block(MALLOC_CAP_8BIT));
    return -1;
  }
  wasmip_wamr_pool_stats(&peak, &total);
  ESP_LOGI(TAG, "WAMR pool: peak %u of %u bytes (CONFIG_WASMIP_WAMR_POOL_KB); linear memory: %u bytes from the IDF heap; "
           "IDF heap left: %u bytes, largest block %u",
           (unsigned)peak, (unsigned)total, (unsigned)wasmip_wamr_memory_size(&wamr),
           (unsigned)heap_caps_get_free_size(MALLOC_CAP_8BIT), (unsigned)heap_caps_get_largest_free_block(MALLOC_CAP_8BIT));
  return 0;
}

#if CONFIG_WASMIP_DHCP
/* DHCP: wait (a bounded while) for the link so the first DISCOVER is not dropped, start the core's
 * client, step the stack until it is bound. 0, 1 (stopped), or WASMIP_BOARD_TRAPPED. */
static int dhcp_boot(void) {
  if (!wasmip_board_has_dhcp(&board)) {
    ESP_LOGE(TAG, "CONFIG_WASMIP_DHCP is on but %s has no DHCP client (no dhcp_start export): turn it off and set an "
             "address (menuconfig: wasmip)", CONFIG_WASMIP_APP);
    return 1;
  }
  const uint32_t t0 = port_now_ms(NULL);
  while (!board.link_up && port_now_ms(NULL) - t0 < LINK_WAIT_MS) {
    int32_t d = wasmip_board_step(&board); /* link events do not wake the task: poll */
    if (d < 0) return WASMIP_BOARD_TRAPPED;
    port_wait(NULL, d > 100 ? 100u : (uint32_t)d);
  }
  int32_t r = wasmip_board_dhcp_start(&board, CONFIG_WASMIP_DHCP_HOSTNAME);
  if (r == WASMIP_BOARD_TRAPPED) return r;
  if (r != 0) {
    ESP_LOGE(TAG, "dhcp_start refused (%d)", (int)r);
    return 1;
  }
  ESP_LOGI(TAG, "DHCP: asking for a lease (host name \"%s\")", CONFIG_WASMIP_DHCP_HOSTNAME);
  uint32_t ip = 0, gw = 0;
  int l = wasmip_board_dhcp_wait_lease(&board, &ip, &gw);
  if (l != 0) return l;
  char ips[16], gws[16];
  ip_str(ip, ips, sizeof ips);
  ip_str(gw, gws, sizeof gws);
  ESP_LOGI(TAG, "DHCP: leased %s, gateway %s", ips, gws);
  esp32_link_addressed();
  return 0;
}
#else
/* The static address from menuconfig. 0, or 1 after a log line naming the option. */
static int static_address(uint32_t *ip, uint32_t *mask, uint32_t *gw) {
  char cidr[24];
  int n = snprintf(cidr, sizeof cidr, "%s/%d", CONFIG_WASMIP_IP, CONFIG_WASMIP_PREFIX);
  if (n < 0 || (size_t)n >= sizeof cidr || wasmip_parse_cidr(cidr, ip, mask) != 0) {
    ESP_LOGE(TAG, "CONFIG_WASMIP_IP \"%s\" is not an IPv4 address (menuconfig: wasmip)", CONFIG_WASMIP_IP);
    return 1;
  }
  *gw = 0;
  if (CONFIG_WASMIP_GATEWAY[0] && wasmip_parse_ip(CONFIG_WASMIP_GATEWAY, gw) != 0) {
    ESP_LOGE(TAG, "CONFIG_WASMIP_GATEWAY \"%s\" is not an IPv4 address (menuconfig: wasmip)", CONFIG_WASMIP_GATEWAY);
    return 1;
  }
  return 0;
}
#endif

/* Everything that touches WAMR runs in this one task: WAMR's exec env records the native stack
 * bounds of the task that creates it, so it is created here, where it is used. */
static void wasmip_task(void *arg) {
  (void)arg;
  stack_task = xTaskGetCurrentTaskHandle();
  ESP_LOGI(TAG, "%s over %s", CONFIG_WASMIP_APP, esp32_link_name);
  if (load_image() != 0) goto fail;

  wasmip_board_setup(&board, &wamr.rt, &port);
  /* The interpreter's checksum loop costs far more than the CPU's (wasmip_checksum). */
  wasmip_board_set_offload(&board, WASMIP_OFFLOAD_SUM);
  board.link_up = 0; /* until the link reports it: frames both ways are dropped and counted */
  uint8_t mac[6];
  esp_err_t err = esp32_link_mac(mac);
  if (err != ESP_OK) {
    ESP_LOGE(TAG, "esp_read_mac: %s", esp_err_to_name(err));
    goto fail;
  }
  uint32_t ip = 0, mask = 0, gw = 0; /* DHCP: no address until the lease */
#if !CONFIG_WASMIP_DHCP
  if (static_address(&ip, &mask, &gw) != 0) goto fail;
#endif
  uint32_t a[1] = {CONFIG_WASMIP_LOG_LEVEL};
  if (wasmip_board_call(&board, WASMIP_FN_SET_LOG_LEVEL, a) != 0) goto trapped;
  int32_t rc = wasmip_board_start(&board, mac, ip, mask, gw);
  if (rc == WASMIP_BOARD_TRAPPED) goto trapped;
  if (rc != 0) {
    ESP_LOGE(TAG, "init refused the configuration (%d)", (int)rc);
    goto fail;
  }
  if (wasmip_board_call(&board, WASMIP_FN_MEMORY_USED, a) != 0) goto trapped;
  ESP_LOGI(TAG, "core: %u bytes of linear memory in use, %u rx slots", (unsigned)a[0], (unsigned)WASMIP_RXQ_SLOTS);

  /* The link's buffers come from the same heap as linear memory: started after WAMR has its memory. */
  err = esp32_link_start(&board);
  if (err != ESP_OK) {
    ESP_LOGE(TAG, "starting %s: %s", esp32_link_name, esp_err_to_name(err));
    goto fail;
  }
  esp32_link_multicast(&board); /* the groups init joined; later changes come as events */
#if CONFIG_WASMIP_DHCP
  int d = dhcp_boot();
  if (d == WASMIP_BOARD_TRAPPED) goto trapped;
  if (d != 0) goto fail;
#else
  esp32_link_addressed();
#endif

  if (wasmip_board_run(&board) == WASMIP_BOARD_TRAPPED) goto trapped;
  vTaskDelete(NULL);
  return;
trapped: {
  char msg[160];
  wasmip_board_describe_trap(&board, msg, sizeof msg);
  ESP_LOGE(TAG, "%s: restarting", msg);
}
fail:
  vTaskDelay(pdMS_TO_TICKS(1000));
  esp_restart();
}

void app_main(void) {
  xTaskCreate(wasmip_task, "wasmip", CONFIG_WASMIP_TASK_STACK_KB * 1024, NULL, 5, NULL);
}
