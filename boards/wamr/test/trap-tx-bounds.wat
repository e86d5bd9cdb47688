;; A deliberately broken firmware image: init() succeeds; the first poll() hands phy.tx a frame
;; that runs past the end of linear memory (65000 + 1514 > 65536). WAMR checks the "*~" pair
;; before the native runs and traps: the board never sees a pointer outside the module's memory.
(module
  (import "phy" "tx" (func $tx (param i32 i32)))
  (import "phy" "now_ms" (func $now (result i32)))
  (memory (export "memory") 1 1)
  (func (export "init") (param i32 i32 i32 i32 i32) (result i32) (i32.const 0))
  (func (export "set_ipv4") (param i32 i32 i32) (result i32) (i32.const 0))
  (func (export "rx_buffer") (result i32) (i32.const 1024))
  (func (export "rx_buffer_size") (result i32) (i32.const 1514))
  (func (export "input") (param i32) (result i32) (i32.const 0))
  (func (export "poll") (param i32) (result i32)
    (call $tx (i32.const 65000) (i32.const 1514))
    (drop (call $now)) (i32.const 1000))
  (func (export "counter_count") (result i32) (i32.const 0))
  (func (export "counter") (param i32) (result i32) (i32.const 0))
  (func (export "counter_name") (param i32) (result i32) (i32.const 0))
  (func (export "counter_kind") (param i32) (result i32) (i32.const 0))
  (func (export "memory_used") (result i32) (i32.const 4096))
  (func (export "set_log_level") (param i32)))
