/* Stub of ESP-IDF esp_log.h: the macros keep printf format checking. */
#pragma once
void esp_log_stub(const char *tag, const char *format, ...) __attribute__((format(printf, 2, 3)));
#define ESP_LOGE(tag, ...) esp_log_stub(tag, __VA_ARGS__)
#define ESP_LOGW(tag, ...) esp_log_stub(tag, __VA_ARGS__)
#define ESP_LOGI(tag, ...) esp_log_stub(tag, __VA_ARGS__)
#define ESP_LOGD(tag, ...) esp_log_stub(tag, __VA_ARGS__)
