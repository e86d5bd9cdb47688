/* The fuzz targets' fixed world (fuzz/harness.c). fuzz/corpus.ts parses this file to build the
 * seeds for the same addresses, so it is the only place these values are written down. */
#ifndef WASMIP_FUZZ_PARAMS_H
#define WASMIP_FUZZ_PARAMS_H

#define FUZZ_BOARD_MAC {0x02, 0x00, 0x00, 0x00, 0x00, 0x02}
#define FUZZ_PEER_MAC {0x02, 0x00, 0x00, 0x00, 0x00, 0x01}
#define FUZZ_BOARD_IP 0x0a000002u /* 10.0.0.2 */
#define FUZZ_PEER_IP 0x0a000001u  /* 10.0.0.1: gateway, DHCP and DNS server, TCP peer */
#define FUZZ_NETMASK 0xffffff00u
#define FUZZ_HTTP_PORT 80u
#define FUZZ_PEER_PORT 40000u /* the established target's connection: 10.0.0.1:40000 -> 10.0.0.2:80 */
#define FUZZ_PEER_ISN 0xfffff000u /* near the wrap, so relative sequence numbers cross it */
#define FUZZ_CLOCK_START 1000000u
#define FUZZ_RANDOM_SEED 0x2545f491u
#define FUZZ_DHCP_LEASE_S 3600u
#define FUZZ_DNS_NAME "example.test"
#define FUZZ_MDNS_NAME "sensor"       /* the mdns target's host name: the sensor template's, as captured */
#define FUZZ_MDNS_RUNNING 4u          /* mdns_state() once probed and announced (wasmip.h) */
#define FUZZ_MQTT_PORT 1883u          /* the broker at FUZZ_PEER_IP */
#define FUZZ_MQTT_CLIENT "sensor-fuzz"
#define FUZZ_MQTT_TOPIC "sensors/sensor-fuzz"
#define FUZZ_MQTT_KEEPALIVE_S 30u

#endif
