/*
 * esp32_eth.c - the Ethernet link: the ESP32's internal EMAC and an RMII PHY through esp_eth in
 * standalone mode (no esp_netif glue: frames go straight to the board's pool). The board's pins come
 * from menuconfig -> wasmip -> Ethernet board: a preset (WT32-ETH01, Olimex ESP32-POE) or Custom.
 * Written against ESP-IDF v5.x; compiled here only against stub headers (see ../README.md).
 */
#include "sdkconfig.h"

#if CONFIG_WASMIP_NETIF_ETH

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "driver/gpio.h"
#include "esp32_link.h"
#include "esp_eth.h"
#include "esp_event.h"
#include "esp_idf_version.h"
#include "esp_log.h"
#include "esp_mac.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"

#if ESP_IDF_VERSION_MAJOR != 5
/* v6 moved the PHY drivers out of ESP-IDF (esp-eth-drivers) and renamed the SMI fields. */
#error "boards/esp32 is written for ESP-IDF v5.x"
#endif

/* ---- the board's wiring, checked at compile time (menuconfig: wasmip -> Ethernet board) ---- */

#if CONFIG_WASMIP_ETH_BOARD_WT32_ETH01
#define ETH_BOARD_NAME "WT32-ETH01"
#elif CONFIG_WASMIP_ETH_BOARD_OLIMEX_ESP32_POE
#define ETH_BOARD_NAME "Olimex ESP32-POE"
#else
#define ETH_BOARD_NAME "custom board"
#endif

/* The presets carry LAN8720s; the PHY choice exists only for Custom. */
#if CONFIG_WASMIP_PHY_IP101
#define PHY_NAME "IP101"
#define PHY_NEW esp_eth_phy_new_ip101
#elif CONFIG_WASMIP_PHY_RTL8201
#define PHY_NAME "RTL8201"
#define PHY_NEW esp_eth_phy_new_rtl8201
#elif CONFIG_WASMIP_PHY_DP83848
#define PHY_NAME "DP83848"
#define PHY_NEW esp_eth_phy_new_dp83848
#elif CONFIG_WASMIP_PHY_KSZ80XX
#define PHY_NAME "KSZ80xx"
#define PHY_NEW esp_eth_phy_new_ksz80xx
#else
#define PHY_NAME "LAN87xx"
#define PHY_NEW esp_eth_phy_new_lan87xx
#endif

/* The ESP32's EMAC takes the 50 MHz RMII clock in on GPIO0 only, and drives it out on GPIO0
 * (EMAC_APPL_CLK_OUT_GPIO), GPIO16 (EMAC_CLK_OUT_GPIO) or GPIO17 (EMAC_CLK_OUT_180_GPIO). */
#if !CONFIG_WASMIP_RMII_CLK_OUT && CONFIG_WASMIP_RMII_CLK_GPIO != 0
#error "CONFIG_WASMIP_RMII_CLK_GPIO: the ESP32 takes the RMII clock in on GPIO0 only (menuconfig: wasmip -> Ethernet board)"
#endif
#if CONFIG_WASMIP_RMII_CLK_OUT && CONFIG_WASMIP_RMII_CLK_GPIO != 0 && CONFIG_WASMIP_RMII_CLK_GPIO != 16 && \
    CONFIG_WASMIP_RMII_CLK_GPIO != 17
#error "CONFIG_WASMIP_RMII_CLK_GPIO: the ESP32 drives the RMII clock out on GPIO0, 16 or 17 only (menuconfig: wasmip -> Ethernet board)"
#endif

/* GPIO19, 21, 22 (TX), 25, 26, 27 (RX) are wired to the EMAC; the clock pin is taken too. */
#define ETH_PIN_TAKEN(p)                                                                                      \
  ((p) == 19 || (p) == 21 || (p) == 22 || (p) == 25 || (p) == 26 || (p) == 27 || (p) == CONFIG_WASMIP_RMII_CLK_GPIO)
#if ETH_PIN_TAKEN(CONFIG_WASMIP_MDC_GPIO) || ETH_PIN_TAKEN(CONFIG_WASMIP_MDIO_GPIO) || \
    CONFIG_WASMIP_MDC_GPIO == CONFIG_WASMIP_MDIO_GPIO
#error "CONFIG_WASMIP_MDC_GPIO / CONFIG_WASMIP_MDIO_GPIO: on an RMII data or clock pin, or both the same (menuconfig: wasmip -> Ethernet board)"
#endif
#if CONFIG_WASMIP_PHY_POWER_GPIO >= 0 &&                                                                      \
    (ETH_PIN_TAKEN(CONFIG_WASMIP_PHY_POWER_GPIO) || CONFIG_WASMIP_PHY_POWER_GPIO == CONFIG_WASMIP_MDC_GPIO || \
     CONFIG_WASMIP_PHY_POWER_GPIO == CONFIG_WASMIP_MDIO_GPIO || CONFIG_WASMIP_PHY_POWER_GPIO == CONFIG_WASMIP_PHY_RST_GPIO)
#error "CONFIG_WASMIP_PHY_POWER_GPIO collides with another Ethernet pin (menuconfig: wasmip -> Ethernet board)"
#endif
#if CONFIG_WASMIP_PHY_RST_GPIO >= 0 &&                                                                      \
    (ETH_PIN_TAKEN(CONFIG_WASMIP_PHY_RST_GPIO) || CONFIG_WASMIP_PHY_RST_GPIO == CONFIG_WASMIP_MDC_GPIO || \
     CONFIG_WASMIP_PHY_RST_GPIO == CONFIG_WASMIP_MDIO_GPIO)
#error "CONFIG_WASMIP_PHY_RST_GPIO collides with another Ethernet pin (menuconfig: wasmip -> Ethernet board)"
#endif

/* After the power / oscillator enable pin goes high: the oscillator and the PHY's own power-on reset
 * must settle before the driver talks to it over SMI (LAN8720: a few ms; generous at boot). */
#define PHY_POWER_UP_MS 50

#define STR_(x) #x
#define STR(x) STR_(x)

const char *const esp32_link_name =
    "Ethernet (" ETH_BOARD_NAME ", " PHY_NAME " at SMI address " STR(CONFIG_WASMIP_PHY_ADDR) ", RMII clock "
#if CONFIG_WASMIP_RMII_CLK_OUT
    "out on GPIO" STR(CONFIG_WASMIP_RMII_CLK_GPIO)
#else
    "in on GPIO0"
#endif
    ")";

static const char *TAG = "wasmip-eth";
static esp_eth_handle_t eth;
static wasmip_board_t *board;

esp_err_t esp32_link_mac(uint8_t mac[6]) {
  return esp_read_mac(mac, ESP_MAC_ETH);
}

/* esp_eth's receive callback (the EMAC rx task): copy into the pool, free the driver's buffer. */
static esp_err_t on_rx(esp_eth_handle_t h, uint8_t *buf, uint32_t len, void *priv) {
  (void)h;
  (void)priv;
  wasmip_board_rx(board, buf, len); /* a full pool drops and counts (stats.rx_pool_full) */
  free(buf);
  return ESP_OK;
}

static void on_eth_event(void *arg, esp_event_base_t base, int32_t id, void *data) {
  (void)arg;
  (void)base;
  (void)data;
  if (id == ETHERNET_EVENT_CONNECTED) {
    ESP_LOGI(TAG, "link up");
    wasmip_board_link(board, 1);
  } else if (id == ETHERNET_EVENT_DISCONNECTED || id == ETHERNET_EVENT_STOP) {
    ESP_LOGW(TAG, "link down");
    wasmip_board_link(board, 0);
  }
}

esp_err_t esp32_link_start(wasmip_board_t *b) {
  board = b;
#if CONFIG_WASMIP_PHY_POWER_GPIO >= 0
  /* WT32-ETH01: enables the 50 MHz oscillator on GPIO0 (kept off through reset, GPIO0 being a boot
   * strap); ESP32-POE: switches the LAN8720's supply. Active high on both. */
  gpio_reset_pin(CONFIG_WASMIP_PHY_POWER_GPIO);
  gpio_set_direction(CONFIG_WASMIP_PHY_POWER_GPIO, GPIO_MODE_OUTPUT);
  gpio_set_level(CONFIG_WASMIP_PHY_POWER_GPIO, 1);
  vTaskDelay(pdMS_TO_TICKS(PHY_POWER_UP_MS));
#endif
  eth_mac_config_t mac_config = ETH_MAC_DEFAULT_CONFIG();
  eth_esp32_emac_config_t emac_config = ETH_ESP32_EMAC_DEFAULT_CONFIG();
  /* The clock is set here, not by esp_eth's Kconfig (which v6 removes). clock_gpio is an enum whose
   * values are the GPIO numbers on v5.x ESP32, an int later: the number fits both. */
#if CONFIG_WASMIP_RMII_CLK_OUT /* a bool set to n is not defined at all in sdkconfig.h */
  emac_config.clock_config.rmii.clock_mode = EMAC_CLK_OUT;
#else
  emac_config.clock_config.rmii.clock_mode = EMAC_CLK_EXT_IN;
#endif
  emac_config.clock_config.rmii.clock_gpio = CONFIG_WASMIP_RMII_CLK_GPIO;
  /* smi_mdc_gpio_num/smi_mdio_gpio_num exist on every v5.x (later ones keep them as deprecated
   * aliases of smi_gpio.mdc_num/mdio_num). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  emac_config.smi_mdc_gpio_num = CONFIG_WASMIP_MDC_GPIO;
  emac_config.smi_mdio_gpio_num = CONFIG_WASMIP_MDIO_GPIO;
#pragma GCC diagnostic pop
  esp_eth_mac_t *mac = esp_eth_mac_new_esp32(&emac_config, &mac_config);

  eth_phy_config_t phy_config = ETH_PHY_DEFAULT_CONFIG();
  phy_config.phy_addr = CONFIG_WASMIP_PHY_ADDR;
  phy_config.reset_gpio_num = CONFIG_WASMIP_PHY_RST_GPIO;
  esp_eth_phy_t *phy = PHY_NEW(&phy_config);
  if (!mac || !phy) {
    ESP_LOGE(TAG, "esp_eth_mac_new_esp32 / esp_eth_phy_new failed (out of memory?)");
    return ESP_FAIL;
  }

  esp_eth_config_t config = ETH_DEFAULT_CONFIG(mac, phy);
  esp_err_t err = esp_eth_driver_install(&config, &eth);
  if (err != ESP_OK) {
    /* Most often the PHY did not answer on SMI: wrong address, MDC/MDIO, clock or power pin. */
    ESP_LOGE(TAG, "esp_eth_driver_install: %s. Check the board preset or the Custom pins (menuconfig: wasmip -> Ethernet board): %s",
             esp_err_to_name(err), esp32_link_name);
    return err;
  }
  ESP_ERROR_CHECK(esp_eth_update_input_path(eth, on_rx, NULL)); /* standalone: no esp_netif glue */
  err = esp_event_loop_create_default();
  if (err != ESP_OK && err != ESP_ERR_INVALID_STATE) return err; /* INVALID_STATE: it exists already */
  ESP_ERROR_CHECK(esp_event_handler_register(ETH_EVENT, ESP_EVENT_ANY_ID, on_eth_event, NULL));
  return esp_eth_start(eth);
}

int esp32_link_tx(const uint8_t *frame, uint32_t len) {
  /* esp_eth_transmit copies the frame into a DMA buffer before it returns. */
  return esp_eth_transmit(eth, (void *)frame, len) == ESP_OK ? 0 : -1;
}

void esp32_link_addressed(void) {}

#if ESP_IDF_VERSION >= ESP_IDF_VERSION_VAL(5, 5, 0)
/* ESP-IDF v5.5's EMAC driver takes multicast addresses into its filter (ETH_CMD_ADD_MAC_FILTER /
 * DEL_MAC_FILTER: the EMAC's spare perfect-match address registers) and otherwise passes none;
 * in standalone mode nobody else adds them (lwIP's glue would), so the board does. When the
 * filter is full it falls back to every multicast frame (ETH_CMD_S_ALL_MULTICAST): the core
 * drops the groups it has not joined. */
#define MCAST_MAX 16 /* more than the core lists (WASMIP_CONFIG_MCAST_GROUPS + all systems) */
static uint8_t mcast_in[MCAST_MAX][6]; /* in the driver's filter now */
static uint32_t mcast_in_n;
static uint8_t mcast_want[MCAST_MAX][6];
static uint32_t mcast_want_n;
static bool mcast_all;

static void want_mac(void *arg, const uint8_t mac[6]) {
  bool *over = arg;
  if (mcast_want_n < MCAST_MAX) memcpy(mcast_want[mcast_want_n++], mac, 6);
  else *over = true;
}

static bool mac_listed(uint8_t (*list)[6], uint32_t n, const uint8_t mac[6]) {
  for (uint32_t i = 0; i < n; i++)
    if (memcmp(list[i], mac, 6) == 0) return true;
  return false;
}

void esp32_link_multicast(wasmip_board_t *b) {
  bool over = false;
  mcast_want_n = 0;
  int n = wasmip_board_multicast_macs(b, want_mac, &over);
  bool all = n < 0 || over; /* an image that cannot say: everything */
  /* Out first (room for the new ones), then in; a refused add means the filter is full. */
  for (uint32_t i = 0; i < mcast_in_n;) {
    if (!all && mac_listed(mcast_want, mcast_want_n, mcast_in[i])) {
      i++;
      continue;
    }
    esp_eth_ioctl(eth, ETH_CMD_DEL_MAC_FILTER, mcast_in[i]);
    memcpy(mcast_in[i], mcast_in[--mcast_in_n], 6);
  }
  for (uint32_t i = 0; i < mcast_want_n && !all; i++) {
    if (mac_listed(mcast_in, mcast_in_n, mcast_want[i])) continue;
    if (esp_eth_ioctl(eth, ETH_CMD_ADD_MAC_FILTER, mcast_want[i]) != ESP_OK) all = true;
    else memcpy(mcast_in[mcast_in_n++], mcast_want[i], 6);
  }
  if (all != mcast_all) {
    esp_err_t err = esp_eth_ioctl(eth, ETH_CMD_S_ALL_MULTICAST, &all);
    if (err == ESP_OK) mcast_all = all;
    ESP_LOGI(TAG, "multicast: %s (%s)", all ? "every group" : "the joined groups only", esp_err_to_name(err));
  }
  ESP_LOGD(TAG, "multicast: %u addresses in the EMAC filter", (unsigned)mcast_in_n);
}
#else
void esp32_link_multicast(wasmip_board_t *b) {
  /* Before v5.5 esp_eth has no multicast filter command: the EMAC passes what its driver set it
   * up to pass, and the core drops the groups it has not joined. */
  (void)b;
}
#endif

#endif /* CONFIG_WASMIP_NETIF_ETH */
