/* Stub of ESP-IDF v5.x esp_eth.h and what it includes (esp_eth_driver.h, esp_eth_mac_esp.h,
 * esp_eth_phy.h, esp_eth_com.h), ESP32 target, declarations only. The EMAC config has the v5.3
 * form: smi_gpio in a union with the deprecated smi_mdc/mdio_gpio_num, clock_gpio an enum. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "esp_err.h"
#include "esp_event.h"
#include "esp_idf_version.h"

typedef void *esp_eth_handle_t;
typedef struct esp_eth_mac_s esp_eth_mac_t;
typedef struct esp_eth_phy_s esp_eth_phy_t;

typedef enum { ETHERNET_EVENT_START, ETHERNET_EVENT_STOP, ETHERNET_EVENT_CONNECTED, ETHERNET_EVENT_DISCONNECTED } eth_event_t;
extern esp_event_base_t const ETH_EVENT;

typedef struct {
  uint32_t sw_reset_timeout_ms;
  uint32_t rx_task_stack_size;
  uint32_t rx_task_prio;
  uint32_t flags;
} eth_mac_config_t;
#define ETH_MAC_DEFAULT_CONFIG() {.sw_reset_timeout_ms = 100, .rx_task_stack_size = 4096, .rx_task_prio = 15, .flags = 0}

typedef enum { EMAC_DATA_INTERFACE_RMII, EMAC_DATA_INTERFACE_MII } eth_data_interface_t;
typedef enum { EMAC_CLK_DEFAULT, EMAC_CLK_EXT_IN, EMAC_CLK_OUT } emac_rmii_clock_mode_t;
typedef enum { EMAC_CLK_IN_GPIO = 0, EMAC_APPL_CLK_OUT_GPIO = 0, EMAC_CLK_OUT_GPIO = 16, EMAC_CLK_OUT_180_GPIO = 17 } emac_rmii_clock_gpio_t;
typedef union {
  struct {
    emac_rmii_clock_mode_t clock_mode;
    emac_rmii_clock_gpio_t clock_gpio;
  } rmii;
} eth_mac_clock_config_t;
typedef struct {
  int mdc_num;
  int mdio_num;
} emac_esp_smi_gpio_config_t;
typedef enum { ETH_DMA_BURST_LEN_32, ETH_DMA_BURST_LEN_16 } eth_mac_dma_burst_len_t;
typedef struct {
  union {
    emac_esp_smi_gpio_config_t smi_gpio;
    struct {
      int smi_mdc_gpio_num __attribute__((deprecated("Please use smi_gpio instead")));
      int smi_mdio_gpio_num __attribute__((deprecated("Please use smi_gpio instead")));
    };
  };
  eth_data_interface_t interface;
  eth_mac_clock_config_t clock_config;
  eth_mac_dma_burst_len_t dma_burst_len;
  int intr_priority;
} eth_esp32_emac_config_t;
#define ETH_ESP32_EMAC_DEFAULT_CONFIG()                                                                      \
  {                                                                                                          \
    .smi_gpio = {.mdc_num = 23, .mdio_num = 18}, .interface = EMAC_DATA_INTERFACE_RMII,                      \
    .clock_config = {.rmii = {.clock_mode = EMAC_CLK_EXT_IN, .clock_gpio = EMAC_CLK_IN_GPIO}},               \
    .dma_burst_len = ETH_DMA_BURST_LEN_32, .intr_priority = 0,                                               \
  }
esp_eth_mac_t *esp_eth_mac_new_esp32(const eth_esp32_emac_config_t *esp32_config, const eth_mac_config_t *config);

#define ESP_ETH_PHY_ADDR_AUTO (-1)
typedef struct {
  int32_t phy_addr;
  uint32_t reset_timeout_ms;
  uint32_t autonego_timeout_ms;
  int reset_gpio_num;
} eth_phy_config_t;
#define ETH_PHY_DEFAULT_CONFIG() \
  {.phy_addr = ESP_ETH_PHY_ADDR_AUTO, .reset_timeout_ms = 100, .autonego_timeout_ms = 4000, .reset_gpio_num = 5}
esp_eth_phy_t *esp_eth_phy_new_lan87xx(const eth_phy_config_t *config);
esp_eth_phy_t *esp_eth_phy_new_ip101(const eth_phy_config_t *config);
esp_eth_phy_t *esp_eth_phy_new_rtl8201(const eth_phy_config_t *config);
esp_eth_phy_t *esp_eth_phy_new_dp83848(const eth_phy_config_t *config);
esp_eth_phy_t *esp_eth_phy_new_ksz80xx(const eth_phy_config_t *config);

typedef struct {
  esp_eth_mac_t *mac;
  esp_eth_phy_t *phy;
  uint32_t check_link_period_ms;
  esp_err_t (*stack_input)(esp_eth_handle_t eth_handle, uint8_t *buffer, uint32_t length, void *priv);
} esp_eth_config_t;
#define ETH_DEFAULT_CONFIG(emac, ephy) {.mac = emac, .phy = ephy, .check_link_period_ms = 2000, .stack_input = NULL}
esp_err_t esp_eth_driver_install(const esp_eth_config_t *config, esp_eth_handle_t *out_hdl);
esp_err_t esp_eth_update_input_path(esp_eth_handle_t hdl,
                                    esp_err_t (*stack_input)(esp_eth_handle_t hdl, uint8_t *buffer, uint32_t length, void *priv),
                                    void *priv);
esp_err_t esp_eth_start(esp_eth_handle_t hdl);
esp_err_t esp_eth_transmit(esp_eth_handle_t hdl, void *buf, size_t length);
/* esp_eth_driver.h's ioctl commands; the multicast ones (S_ALL_MULTICAST: a bool *, ADD/DEL_MAC_FILTER:
 * a 6-byte MAC) in the order of ESP-IDF's enum from v5.5. */
typedef enum {
  ETH_CMD_G_MAC_ADDR, ETH_CMD_S_MAC_ADDR, ETH_CMD_G_PHY_ADDR, ETH_CMD_S_PHY_ADDR, ETH_CMD_G_AUTONEGO, ETH_CMD_S_AUTONEGO,
  ETH_CMD_G_SPEED, ETH_CMD_S_SPEED, ETH_CMD_S_PROMISCUOUS, ETH_CMD_S_FLOW_CTRL, ETH_CMD_G_DUPLEX_MODE, ETH_CMD_S_DUPLEX_MODE,
  ETH_CMD_S_PHY_LOOPBACK, ETH_CMD_READ_PHY_REG, ETH_CMD_WRITE_PHY_REG,
#if ESP_IDF_VERSION_MAJOR > 5 || ESP_IDF_VERSION_MINOR >= 5
  ETH_CMD_S_ALL_MULTICAST, ETH_CMD_ADD_MAC_FILTER, ETH_CMD_DEL_MAC_FILTER,
#endif
} esp_eth_io_cmd_t;
esp_err_t esp_eth_ioctl(esp_eth_handle_t hdl, esp_eth_io_cmd_t cmd, void *data);
