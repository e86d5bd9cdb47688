/*
 * esp32_wifi.c - the Wi-Fi station link. ESP-IDF's Wi-Fi driver hands the station interface's
 * traffic over as Ethernet II frames (what lwIP's wlanif and esp_netif consume), so the same board
 * code serves it: the driver's receive callback feeds the board's pool, esp_wifi_internal_tx sends,
 * association is the link. No esp_netif, no lwIP: the core is the only stack on the interface.
 * Written against ESP-IDF v5.x; compiled here only against stub headers (see ../README.md).
 */
#include "sdkconfig.h"

#if CONFIG_WASMIP_NETIF_WIFI_STA

#include <stdbool.h>
#include <string.h>

#include "esp32_link.h"
#include "esp_event.h"
#include "esp_log.h"
#include "esp_mac.h"
#include "esp_private/wifi.h" /* esp_wifi_internal_reg_rxcb/_tx/_free_rx_buffer, as esp_netif uses them */
#include "esp_wifi.h"
#include "nvs_flash.h"

/* Checked at compile time: menuconfig -> wasmip -> Wi-Fi station. (sizeof counts the NUL.) */
_Static_assert(sizeof(CONFIG_WASMIP_WIFI_SSID) > 1, "CONFIG_WASMIP_WIFI_SSID is empty: set it (menuconfig: wasmip -> Wi-Fi station -> SSID)");
_Static_assert(sizeof(CONFIG_WASMIP_WIFI_SSID) <= 33, "CONFIG_WASMIP_WIFI_SSID: at most 32 bytes");
_Static_assert(sizeof(CONFIG_WASMIP_WIFI_PASSWORD) == 1 ||
                   (sizeof(CONFIG_WASMIP_WIFI_PASSWORD) >= 9 && sizeof(CONFIG_WASMIP_WIFI_PASSWORD) <= 64),
               "CONFIG_WASMIP_WIFI_PASSWORD: 8 to 63 characters, or empty for an open network");

const char *const esp32_link_name = "Wi-Fi station (SSID \"" CONFIG_WASMIP_WIFI_SSID "\")";

static const char *TAG = "wasmip-wifi";
static wasmip_board_t *board;
static volatile bool associated; /* written by the event task */
static volatile bool addressed;  /* written by the stack task */

esp_err_t esp32_link_mac(uint8_t mac[6]) {
  /* The address the driver sends the station's frames from. */
  return esp_read_mac(mac, ESP_MAC_WIFI_STA);
}

/* The driver's receive callback (Wi-Fi task): copy into the pool, give the driver its buffer back. */
static esp_err_t on_rx(void *buffer, uint16_t len, void *eb) {
  wasmip_board_rx(board, buffer, len); /* a full pool drops and counts (stats.rx_pool_full) */
  esp_wifi_internal_free_rx_buffer(eb);
  return ESP_OK;
}

static void on_wifi_event(void *arg, esp_event_base_t base, int32_t id, void *data) {
  (void)arg;
  (void)base;
  if (id == WIFI_EVENT_STA_START) {
    esp_wifi_connect();
  } else if (id == WIFI_EVENT_STA_CONNECTED) {
    /* The station's data path exists from association on: register here, as esp_netif does. */
    esp_err_t err = esp_wifi_internal_reg_rxcb(WIFI_IF_STA, on_rx);
    if (err != ESP_OK) ESP_LOGE(TAG, "esp_wifi_internal_reg_rxcb: %s", esp_err_to_name(err));
    associated = true;
    ESP_LOGI(TAG, "associated with \"%s\"", CONFIG_WASMIP_WIFI_SSID);
    if (addressed) esp_wifi_internal_set_sta_ip();
    wasmip_board_link(board, 1);
  } else if (id == WIFI_EVENT_STA_DISCONNECTED) {
    const wifi_event_sta_disconnected_t *d = data;
    associated = false;
    wasmip_board_link(board, 0);
    esp_wifi_internal_reg_rxcb(WIFI_IF_STA, NULL);
    ESP_LOGW(TAG, "not associated with \"%s\" (reason %d): retrying", CONFIG_WASMIP_WIFI_SSID, d ? (int)d->reason : -1);
    esp_wifi_connect(); /* a server keeps trying; the driver paces each attempt with its scan */
  }
}

esp_err_t esp32_link_start(wasmip_board_t *b) {
  board = b;
  /* The driver keeps PHY calibration data in NVS. */
  esp_err_t err = nvs_flash_init();
  if (err == ESP_ERR_NVS_NO_FREE_PAGES || err == ESP_ERR_NVS_NEW_VERSION_FOUND) {
    ESP_ERROR_CHECK(nvs_flash_erase());
    err = nvs_flash_init();
  }
  if (err != ESP_OK) return err;
  err = esp_event_loop_create_default();
  if (err != ESP_OK && err != ESP_ERR_INVALID_STATE) return err; /* INVALID_STATE: it exists already */
  ESP_ERROR_CHECK(esp_event_handler_register(WIFI_EVENT, ESP_EVENT_ANY_ID, on_wifi_event, NULL));

  wifi_init_config_t init = WIFI_INIT_CONFIG_DEFAULT();
  err = esp_wifi_init(&init);
  if (err != ESP_OK) {
    ESP_LOGE(TAG, "esp_wifi_init: %s (the driver's buffers come from the IDF heap, like linear memory)", esp_err_to_name(err));
    return err;
  }
  ESP_ERROR_CHECK(esp_wifi_set_storage(WIFI_STORAGE_RAM)); /* the network comes from menuconfig, not flash */
  ESP_ERROR_CHECK(esp_wifi_set_mode(WIFI_MODE_STA));
  wifi_config_t wc;
  memset(&wc, 0, sizeof wc);
  memcpy(wc.sta.ssid, CONFIG_WASMIP_WIFI_SSID, sizeof CONFIG_WASMIP_WIFI_SSID - 1);
  memcpy(wc.sta.password, CONFIG_WASMIP_WIFI_PASSWORD, sizeof CONFIG_WASMIP_WIFI_PASSWORD - 1);
  wc.sta.threshold.authmode = sizeof CONFIG_WASMIP_WIFI_PASSWORD > 1 ? WIFI_AUTH_WPA2_PSK : WIFI_AUTH_OPEN;
  ESP_ERROR_CHECK(esp_wifi_set_config(WIFI_IF_STA, &wc));
  /* No modem sleep: a sleeping station picks buffered frames up only at DTIM beacons (100 ms and
   * more), on every request the board answers. */
  ESP_ERROR_CHECK(esp_wifi_set_ps(WIFI_PS_NONE));
  return esp_wifi_start(); /* WIFI_EVENT_STA_START -> esp_wifi_connect() */
}

int esp32_link_tx(const uint8_t *frame, uint32_t len) {
  /* The driver copies the frame before it returns; it refuses while not associated. */
  return esp_wifi_internal_tx(WIFI_IF_STA, (void *)frame, (uint16_t)len) == ESP_OK ? 0 : -1;
}

void esp32_link_addressed(void) {
  /* lwIP's glue tells the driver once the station has an address (IP_EVENT_STA_GOT_IP); so do we,
   * and again on each association. */
  addressed = true;
  if (associated) esp_wifi_internal_set_sta_ip();
}

void esp32_link_multicast(wasmip_board_t *b) {
  /* The station's raw receive path has no multicast filter to program: it passes what the AP
   * forwards, and the core drops the groups it has not joined (eth_not_for_us). */
  (void)b;
}

#endif /* CONFIG_WASMIP_NETIF_WIFI_STA */
