/*
 * esp32_link.h - the driver under the board, chosen in menuconfig (wasmip -> Network interface):
 * esp32_eth.c (internal EMAC + RMII PHY, esp_eth in standalone mode) or esp32_wifi.c (the Wi-Fi
 * station, its frames taken raw from the driver). Both hand whole Ethernet II frames (no FCS) to
 * wasmip_board_rx() from the driver's task and report the link with wasmip_board_link().
 */
#ifndef ESP32_LINK_H
#define ESP32_LINK_H

#include <stdint.h>

#include "esp_err.h"
#include "wasmip_board.h"

/* "Ethernet (...)" or "Wi-Fi station (SSID)": for the boot log. */
extern const char *const esp32_link_name;

/* The interface's MAC address from eFuse. No driver is started: the core's init() needs it first. */
esp_err_t esp32_link_mac(uint8_t mac[6]);

/* Install and start the driver. Called once, after WAMR has its memory (the drivers' buffers come
 * from the same IDF heap as linear memory). From here on frames go to b; the link starts down. */
esp_err_t esp32_link_start(wasmip_board_t *b);

/* Send one frame from the stack task (port->tx). 0, or -1 when the driver refused it. */
int esp32_link_tx(const uint8_t *frame, uint32_t len);

/* The core has an address (static, or a DHCP lease): the Wi-Fi driver is told, as lwIP does. */
void esp32_link_addressed(void);

/* The multicast groups the core listens to changed (WASMIP_NET_EV_MULTICAST; and once at start):
 * the driver's receive filter follows them where it has one (wasmip_board_multicast_macs). From
 * the stack task. */
void esp32_link_multicast(wasmip_board_t *b);

#endif /* ESP32_LINK_H */
