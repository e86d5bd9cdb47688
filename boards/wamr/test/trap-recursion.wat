;; A deliberately broken firmware image: init() recurses without end. WAMR's wasm stack (the
;; board's --stack-kb) must stop it with a trap before the C stack runs out.
(module
  (import "phy" "now_ms" (func $now (result i32)))
  (memory (export "memory") 1 1)
  (func $deep (param $n i32) (result i32)
    (i32.add (call $deep (i32.add (local.get $n) (i32.const 1))) (i32.const 1)))
  (func (export "init") (param i32 i32 i32 i32 i32) (result i32) (call $deep (i32.const 0)))
  (func (export "set_ipv4") (param i32 i32 i32) (result i32) (i32.const 0))
  (func (export "rx_buffer") (result i32) (i32.const 1024))
  (func (export "rx_buffer_size") (result i32) (i32.const 1514))
  (func (export "input") (param i32) (result i32) (i32.const 0))
  (func (export "poll") (param i32) (result i32) (drop (call $now)) (i32.const 1000))
  (func (export "counter_count") (result i32) (i32.const 0))
  (func (export "counter") (param i32) (result i32) (i32.const 0))
  (func (export "counter_name") (param i32) (result i32) (i32.const 0))
  (func (export "counter_kind") (param i32) (result i32) (i32.const 0))
  (func (export "memory_used") (result i32) (i32.const 4096))
  (func (export "set_log_level") (param i32)))
