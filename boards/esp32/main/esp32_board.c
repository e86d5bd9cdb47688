/*
 * esp32_board.c - the ESP32-specific part of the wasmip board (everything else is
 * boards/common/wasmip_board.c, compiled and tested here through boards/posix):
 *   - esp_eth in standalone mode: internal EMAC + RMII PHY (LAN8720 or IP101 from Kconfig);
 *     its receive callback feeds the shared frame pool, esp_eth_transmit sends, link events
 *     go to wasmip_board_link();
 *   - WAMR: the embedded firmware .wasm, run through the glue every WAMR board shares
 *     (boards/common/wasmip_wamr.c: the pool, the phy.* natives, the exports, the runtime table);
 *   - FreeRTOS: the stack task sleeps on a task notification (the board's wait/wake).
 * Written against ESP-IDF v5.x and WAMR 2.x documented APIs; NOT compiled here (no ESP-IDF on the
 * machine that wrote it): see ../README.md.
 */
#include <stdlib.h>
#include <string.h>

#include "esp_eth.h"
#include "esp_event.h"
#include "esp_idf_version.h"
#include "esp_log.h"
#include "esp_mac.h"
#include "esp_random.h"
#include "esp_timer.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "wasmip_board.h"
#include "wasmip_wamr.h" /* boards/common/wasmip_wamr.c must be in this component's SRCS */

static const char *TAG = "wasmip";

extern const uint8_t fw_start[] asm("_binary_wasmip_firmware_wasm_start");
extern const uint8_t fw_end[] asm("_binary_wasmip_firmware_wasm_end");

#if CONFIG_WASMIP_HEAP_IN_PSRAM
static EXT_RAM_BSS_ATTR uint8_t wamr_heap[CONFIG_WASMIP_WAMR_HEAP_KB * 1024];
#else
static uint8_t wamr_heap[CONFIG_WASMIP_WAMR_HEAP_KB * 1024];
#endif

static wasmip_board_t board; /* the frame pool: WASMIP_RXQ_SLOTS x 1514 bytes, static */
static esp_eth_handle_t eth;
static TaskHandle_t stack_task;
static wasmip_wamr_t wamr; /* the module, its instance and exec env, the runtime table */

/* ---------------- port: esp_eth, esp_timer, FreeRTOS ---------------- */

static int port_tx(void *ctx, const uint8_t *frame, uint32_t len) {
  (void)ctx;
  return esp_eth_transmit(eth, (void *)frame, len) == ESP_OK ? 0 : -1;
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
  ulTaskNotifyTake(pdTRUE, pdMS_TO_TICKS(timeout_ms) ? pdMS_TO_TICKS(timeout_ms) : 1);
}
static void port_wake(void *ctx) {
  (void)ctx;
  if (stack_task) xTaskNotifyGive(stack_task);
}

static const wasmip_port_t port = {NULL, port_tx, port_now_ms, port_random, port_log, port_wait, port_wake, NULL, NULL};

/* esp_eth's receive callback (the EMAC rx task): copy into the pool, free the driver's buffer. */
static esp_err_t on_rx(esp_eth_handle_t h, uint8_t *buf, uint32_t len, void *priv) {
  (void)h;
  (void)priv;
  wasmip_board_rx(&board, buf, len); /* a full pool drops and counts (stats.rx_pool_full) */
  free(buf);
  return ESP_OK;
}

static void on_eth_event(void *arg, esp_event_base_t base, int32_t id, void *data) {
  (void)arg;
  (void)base;
  (void)data;
  if (id == ETHERNET_EVENT_CONNECTED) wasmip_board_link(&board, 1);
  else if (id == ETHERNET_EVENT_DISCONNECTED || id == ETHERNET_EVENT_STOP) wasmip_board_link(&board, 0);
}

static void eth_start(void) {
  eth_mac_config_t mac_config = ETH_MAC_DEFAULT_CONFIG();
  eth_esp32_emac_config_t emac_config = ETH_ESP32_EMAC_DEFAULT_CONFIG();
#if ESP_IDF_VERSION >= ESP_IDF_VERSION_VAL(5, 2, 0)
  emac_config.smi_gpio.mdc_num = CONFIG_WASMIP_MDC_GPIO;
  emac_config.smi_gpio.mdio_num = CONFIG_WASMIP_MDIO_GPIO;
#else
  emac_config.smi_mdc_gpio_num = CONFIG_WASMIP_MDC_GPIO;
  emac_config.smi_mdio_gpio_num = CONFIG_WASMIP_MDIO_GPIO;
#endif
  esp_eth_mac_t *mac = esp_eth_mac_new_esp32(&emac_config, &mac_config);
  eth_phy_config_t phy_config = ETH_PHY_DEFAULT_CONFIG();
  phy_config.phy_addr = CONFIG_WASMIP_PHY_ADDR;
  phy_config.reset_gpio_num = CONFIG_WASMIP_PHY_RST_GPIO;
#if CONFIG_WASMIP_PHY_IP101
  esp_eth_phy_t *phy = esp_eth_phy_new_ip101(&phy_config);
#else
  esp_eth_phy_t *phy = esp_eth_phy_new_lan87xx(&phy_config);
#endif
  esp_eth_config_t config = ETH_DEFAULT_CONFIG(mac, phy);
  ESP_ERROR_CHECK(esp_eth_driver_install(&config, &eth));
  ESP_ERROR_CHECK(esp_eth_update_input_path(eth, on_rx, NULL)); /* standalone: no esp_netif glue */
  ESP_ERROR_CHECK(esp_event_loop_create_default());
  ESP_ERROR_CHECK(esp_event_handler_register(ETH_EVENT, ESP_EVENT_ANY_ID, on_eth_event, NULL));
  ESP_ERROR_CHECK(esp_eth_start(eth));
}

/* Everything that touches WAMR runs in this one task: WAMR's exec env records the native stack
 * bounds of the task that creates it, so it is created here, where it is used. */
static void wasmip_task(void *arg) {
  (void)arg;
  stack_task = xTaskGetCurrentTaskHandle();
  if (wasmip_wamr_init(wamr_heap, sizeof wamr_heap)) {
    ESP_LOGE(TAG, "wasmip_wamr_init (WAMR over a %d KiB pool) failed", CONFIG_WASMIP_WAMR_HEAP_KB);
    goto fail;
  }
  /* The loader may patch the bytecode and keeps pointers into it: give it a RAM copy of the flash
   * image, allocated once, at start, from WAMR's own pool. */
  uint32_t size = (uint32_t)(fw_end - fw_start);
  uint8_t *code = wasm_runtime_malloc(size);
  if (!code) {
    ESP_LOGE(TAG, "no room for the %u-byte module in the WAMR pool", (unsigned)size);
    goto fail;
  }
  memcpy(code, fw_start, size);
  if (wasmip_wamr_load(&wamr, code, size, &board, CONFIG_WASMIP_WAMR_STACK_KB * 1024)) {
    ESP_LOGE(TAG, "loading the firmware image (WAMR pool %d KiB): %s", CONFIG_WASMIP_WAMR_HEAP_KB, wamr.error);
    goto fail;
  }
  uint32_t pool_peak = 0, pool_total = 0;
  if (wasmip_wamr_pool_stats(&pool_peak, &pool_total) == 0)
    ESP_LOGI(TAG, "WAMR pool: peak %u of %u bytes after load", (unsigned)pool_peak, (unsigned)pool_total);

  wasmip_board_setup(&board, &wamr.rt, &port);
  board.link_up = 0; /* until esp_eth reports ETHERNET_EVENT_CONNECTED */
  uint8_t mac[6];
  ESP_ERROR_CHECK(esp_read_mac(mac, ESP_MAC_ETH)); /* from the chip's eFuse */
  uint32_t ip = 0, gw = 0, mask = 0;
  char cidr[40];
  strlcpy(cidr, CONFIG_WASMIP_IP, sizeof cidr - 4);
  size_t n = strlen(cidr);
  cidr[n] = '/';
  itoa(CONFIG_WASMIP_PREFIX, cidr + n + 1, 10);
  if (wasmip_parse_cidr(cidr, &ip, &mask) || (CONFIG_WASMIP_GATEWAY[0] && wasmip_parse_ip(CONFIG_WASMIP_GATEWAY, &gw))) {
    ESP_LOGE(TAG, "bad address in menuconfig: %s gw %s", cidr, CONFIG_WASMIP_GATEWAY);
    goto fail;
  }
  uint32_t a[1] = {CONFIG_WASMIP_LOG_LEVEL};
  if (wasmip_board_call(&board, WASMIP_FN_SET_LOG_LEVEL, a) != 0) goto trapped;
  int32_t rc = wasmip_board_start(&board, mac, ip, mask, gw);
  if (rc == WASMIP_BOARD_TRAPPED) goto trapped;
  if (rc != 0) {
    ESP_LOGE(TAG, "wasmip init refused the configuration (%d)", (int)rc);
    goto fail;
  }
  if (wasmip_board_call(&board, WASMIP_FN_MEMORY_USED, a) == 0)
    ESP_LOGI(TAG, "%s: %u-byte module, core uses %u bytes of linear memory, %u rx slots", CONFIG_WASMIP_APP, (unsigned)size,
             (unsigned)a[0], (unsigned)WASMIP_RXQ_SLOTS);
  eth_start(); /* frames flow into the pool from here on */

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
