/* Stub of ESP-IDF esp_idf_version.h: claims v5.3.0 unless a check variant says otherwise (-D). */
#pragma once
#define ESP_IDF_VERSION_MAJOR 5
#ifndef ESP_IDF_VERSION_MINOR
#define ESP_IDF_VERSION_MINOR 3
#endif
#define ESP_IDF_VERSION_PATCH 0
#define ESP_IDF_VERSION_VAL(major, minor, patch) (((major) << 16) | ((minor) << 8) | (patch))
#define ESP_IDF_VERSION ESP_IDF_VERSION_VAL(ESP_IDF_VERSION_MAJOR, ESP_IDF_VERSION_MINOR, ESP_IDF_VERSION_PATCH)
