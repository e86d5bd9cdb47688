/* Stub of ESP-IDF v5.x esp_err.h (declarations only). */
#pragma once
#include <stdlib.h>
typedef int esp_err_t;
#define ESP_OK 0
#define ESP_FAIL (-1)
#define ESP_ERR_NO_MEM 0x101
#define ESP_ERR_INVALID_ARG 0x102
#define ESP_ERR_INVALID_STATE 0x103
const char *esp_err_to_name(esp_err_t code);
#define ESP_ERROR_CHECK(x)          \
  do {                              \
    esp_err_t err_rc_ = (x);        \
    if (err_rc_ != ESP_OK) abort(); \
  } while (0)
