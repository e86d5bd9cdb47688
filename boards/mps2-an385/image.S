/* image.S - the firmware image WAMR runs (RUNTIME=wamr-*), embedded in flash as it is: the .wasm
 * for the interpreters, wamrc's XIP AOT image for wamr-aot. WASMIP_IMAGE is its path. Aligned to
 * 8: the AOT loader reads words in place and the XIP code runs from here. */
  .section .rodata.wasmip_image, "a"
  .balign 8
  .global wasmip_image
wasmip_image:
  .incbin WASMIP_IMAGE
  .global wasmip_image_end
wasmip_image_end:
