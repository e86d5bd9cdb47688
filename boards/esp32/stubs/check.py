#!/usr/bin/env python3
"""make -C boards/esp32 stub-check: compile the board's C files for several menuconfig choices,
without ESP-IDF.

For each variant, kconfiglib (Debian: python3-kconfiglib) reads the board's real
main/Kconfig.projbuild (plus stand-ins for the two outside symbols it refers to, SPIRAM and
WAMR_INTERP_FAST), applies sdkconfig.defaults and the variant's lines, and writes sdkconfig.h as
ESP-IDF would; gcc then compiles main/*.c and the shared board code against the stub ESP-IDF
headers in stubs/include and WAMR's real wasm_export.h. Variants marked to fail must stop with
their configuration message. Nothing is linked or run: see stubs/include/README.md.
"""
import os
import subprocess
import sys
import tempfile

import kconfiglib

HERE = os.path.dirname(os.path.abspath(__file__))
BOARD = os.path.dirname(HERE)
ROOT = os.path.dirname(os.path.dirname(BOARD))
WAMR = os.environ.get("WAMR_PATH") or os.environ.get("WAMR_ROOT") or os.path.join(os.path.dirname(ROOT), "shared/vendor/wamr-2.4.5")
CC = os.environ.get("CC", "gcc")
CFLAGS = os.environ.get("STUB_CFLAGS", "-m32").split() + ["-std=c11", "-Wall", "-Wextra", "-Werror", "-fsyntax-only"]
SOURCES = [os.path.join(BOARD, "main", f) for f in sorted(os.listdir(os.path.join(BOARD, "main"))) if f.endswith(".c")]
SOURCES += [os.path.join(ROOT, "boards/common", f) for f in ("wasmip_board.c", "wasmip_wamr.c")]

# name, sdkconfig lines, text the build must stop with (None: must compile)
VARIANTS = [
    ("eth-wt32-eth01", [], None),
    ("eth-olimex-esp32-poe", ["CONFIG_WASMIP_ETH_BOARD_OLIMEX_ESP32_POE=y"], None),
    ("eth-custom", ["CONFIG_WASMIP_ETH_BOARD_CUSTOM=y"], None),
    ("eth-idf-5.5 (MAC filter ioctls)", ["-DESP_IDF_VERSION_MINOR=5"], None),
    ("eth-custom-lan87xx-static-fast",
     ["CONFIG_WASMIP_ETH_BOARD_CUSTOM=y", "CONFIG_WASMIP_PHY_LAN87XX=y", "CONFIG_WASMIP_RMII_CLK_OUT=y",
      "CONFIG_WASMIP_RMII_CLK_GPIO=16", "CONFIG_WASMIP_DHCP=n", "CONFIG_WASMIP_GATEWAY=\"192.168.1.1\"",
      "CONFIG_WAMR_INTERP_FAST=y", "CONFIG_WASMIP_APP=\"build/sensor.wasm\""], None),
    ("wifi-sta", ["CONFIG_WASMIP_NETIF_WIFI_STA=y", "CONFIG_WASMIP_WIFI_SSID=\"wasmip-test\"",
                  "CONFIG_WASMIP_WIFI_PASSWORD=\"correct horse\""], None),
    ("wifi-sta-open-psram", ["CONFIG_WASMIP_NETIF_WIFI_STA=y", "CONFIG_WASMIP_WIFI_SSID=\"open\"", "CONFIG_SPIRAM=y"], None),
    ("bad: wifi without an SSID", ["CONFIG_WASMIP_NETIF_WIFI_STA=y"], "CONFIG_WASMIP_WIFI_SSID is empty"),
    ("bad: wifi password too short", ["CONFIG_WASMIP_NETIF_WIFI_STA=y", "CONFIG_WASMIP_WIFI_SSID=\"x\"",
                                      "CONFIG_WASMIP_WIFI_PASSWORD=\"1234567\""], "CONFIG_WASMIP_WIFI_PASSWORD: 8 to 63"),
    ("bad: clock input on GPIO17", ["CONFIG_WASMIP_ETH_BOARD_CUSTOM=y", "CONFIG_WASMIP_RMII_CLK_GPIO=17"],
     "takes the RMII clock in on GPIO0 only"),
    ("bad: MDIO on an RMII data pin", ["CONFIG_WASMIP_ETH_BOARD_CUSTOM=y", "CONFIG_WASMIP_MDIO_GPIO=25"],
     "CONFIG_WASMIP_MDC_GPIO / CONFIG_WASMIP_MDIO_GPIO"),
    ("bad: block cache not a power of two", ["CONFIG_WASMIP_WAMR_BLOCK_CACHE=1000"],
     "CONFIG_WASMIP_WAMR_BLOCK_CACHE must be a power of two"),
]
SHOWN = ["WASMIP_APP", "WASMIP_PHY_ADDR", "WASMIP_RMII_CLK_OUT", "WASMIP_RMII_CLK_GPIO", "WASMIP_PHY_RST_GPIO",
         "WASMIP_PHY_POWER_GPIO", "WASMIP_MDC_GPIO", "WASMIP_MDIO_GPIO", "WASMIP_DHCP", "WASMIP_WAMR_BLOCK_CACHE", "WASMIP_WAMR_POOL_KB",
         "WASMIP_POOL_IN_PSRAM"]

TOP = """mainmenu "wasmip esp32 stub check"
# Stand-ins for symbols of other components that wasmip's Kconfig refers to.
config SPIRAM
    bool "PSRAM (esp_psram)"
config WAMR_INTERP_FAST
    bool "WAMR fast interpreter (wamr component)"
    default y
source "{kconfig}"
"""


def sdkconfig_h(tmp, lines):
    top = os.path.join(tmp, "Kconfig")
    with open(top, "w") as f:
        f.write(TOP.format(kconfig=os.path.join(BOARD, "main/Kconfig.projbuild")))
    frag = os.path.join(tmp, "variant.sdkconfig")
    with open(frag, "w") as f:
        f.write("\n".join(lines) + "\n")
    kconf = kconfiglib.Kconfig(top, warn_to_stderr=False)
    kconf.load_config(os.path.join(BOARD, "sdkconfig.defaults"))  # unknown (ESP-IDF) symbols are ignored
    kconf.load_config(frag, replace=False)
    inc = os.path.join(tmp, "include")
    os.makedirs(inc, exist_ok=True)
    kconf.write_autoconf(os.path.join(inc, "sdkconfig.h"))
    shown = []
    for name in SHOWN:
        sym = kconf.syms.get(name)
        if sym is not None and sym.visibility or (sym is not None and sym.str_value and sym.config_string):
            shown.append(f"{name}={sym.str_value}")
    return inc, " ".join(shown), [w for w in kconf.warnings
                                    # ESP-IDF's own symbols (sdkconfig.defaults) are unknown here; overrides are meant.
                                    if "WASMIP_" in w and "set more than once" not in w]


def main():
    if not os.path.exists(os.path.join(WAMR, "core/iwasm/include/wasm_export.h")):
        print(f"stub-check: no WAMR at {WAMR}: set WAMR_PATH", file=sys.stderr)
        return 2
    failed = 0
    for name, lines, must_fail in VARIANTS:
        defines = [l for l in lines if l.startswith("-D")]  # compiler flags, not sdkconfig lines
        lines = [l for l in lines if not l.startswith("-D")]
        with tempfile.TemporaryDirectory() as tmp:
            inc, shown, warnings = sdkconfig_h(tmp, lines)
            errors = []
            for src in SOURCES:
                cmd = [CC, *CFLAGS, f"-I{inc}", f"-I{HERE}/include", f"-I{BOARD}/main", f"-I{ROOT}/boards/common",
                       f"-I{ROOT}/boards/include", f"-I{WAMR}/core/iwasm/include", "-DWASMIP_RXQ_SLOTS=8u", *defines, "-c", src]
                r = subprocess.run(cmd, capture_output=True, text=True)
                if r.returncode:
                    errors.append((os.path.relpath(src, ROOT), r.stderr))
            if must_fail is None:
                ok = not errors and not warnings
            else:
                ok = any(must_fail in e for _, e in errors)
            failed += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {name}: " + (" ".join([*defines, shown]) if must_fail is None else f"stops with \"{must_fail}\""))
            if not ok:
                for w in warnings:
                    print(f"     kconfig: {w}")
                for src, e in errors:
                    print(f"     {src}:\n" + "\n".join("       " + l for l in e.strip().splitlines()[:12]))
    print(f"{len(VARIANTS) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
