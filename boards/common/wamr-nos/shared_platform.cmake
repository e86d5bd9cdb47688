# WAMR's platform for a microcontroller with no OS (wasmip boards): chosen by
# SHARED_PLATFORM_CONFIG=<this file> (CMakeLists.txt next to it).
set (PLATFORM_SHARED_DIR ${CMAKE_CURRENT_LIST_DIR})
add_definitions(-DBH_PLATFORM_WASMIP_NOS)
include_directories(${PLATFORM_SHARED_DIR})
include_directories(${SHARED_DIR}/platform/include)
set (PLATFORM_SHARED_SOURCE ${PLATFORM_SHARED_DIR}/nos_platform.c)
