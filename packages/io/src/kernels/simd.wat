;; In-place kernels over big arrays, with 128-bit SIMD: byte swapping (NetCDF
;; classic and FITS store big-endian) and replacing one bit pattern by another
;; (a fill value by NaN). Each works on whole 16-byte vectors; the caller does
;; the few trailing elements. Build: packages/io/src/kernels/build.sh
(module
  (import "env" "memory" (memory 1))

  (func $swap (param $ptr i32) (param $bytes i32) (param $order v128)
    (local $end i32)
    (local.set $end (i32.add (local.get $ptr) (i32.and (local.get $bytes) (i32.const -16))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $ptr) (local.get $end)))
        (v128.store (local.get $ptr) (i8x16.swizzle (v128.load (local.get $ptr)) (local.get $order)))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 16)))
        (br $next))))

  (func (export "swap16") (param $ptr i32) (param $bytes i32)
    (call $swap (local.get $ptr) (local.get $bytes) (v128.const i8x16 1 0 3 2 5 4 7 6 9 8 11 10 13 12 15 14)))
  (func (export "swap32") (param $ptr i32) (param $bytes i32)
    (call $swap (local.get $ptr) (local.get $bytes) (v128.const i8x16 3 2 1 0 7 6 5 4 11 10 9 8 15 14 13 12)))
  (func (export "swap64") (param $ptr i32) (param $bytes i32)
    (call $swap (local.get $ptr) (local.get $bytes) (v128.const i8x16 7 6 5 4 3 2 1 0 15 14 13 12 11 10 9 8)))

  ;; 32-bit words equal to $from become $to.
  (func (export "replace32") (param $ptr i32) (param $bytes i32) (param $from i32) (param $to i32)
    (local $end i32) (local $v v128) (local $f v128) (local $t v128)
    (local.set $f (i32x4.splat (local.get $from)))
    (local.set $t (i32x4.splat (local.get $to)))
    (local.set $end (i32.add (local.get $ptr) (i32.and (local.get $bytes) (i32.const -16))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $ptr) (local.get $end)))
        (local.set $v (v128.load (local.get $ptr)))
        (v128.store (local.get $ptr) (v128.bitselect (local.get $t) (local.get $v) (i32x4.eq (local.get $v) (local.get $f))))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 16)))
        (br $next))))

  ;; 64-bit words equal to $from become $to.
  (func (export "replace64") (param $ptr i32) (param $bytes i32) (param $from i64) (param $to i64)
    (local $end i32) (local $v v128) (local $f v128) (local $t v128)
    (local.set $f (i64x2.splat (local.get $from)))
    (local.set $t (i64x2.splat (local.get $to)))
    (local.set $end (i32.add (local.get $ptr) (i32.and (local.get $bytes) (i32.const -16))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $ptr) (local.get $end)))
        (local.set $v (v128.load (local.get $ptr)))
        (v128.store (local.get $ptr) (v128.bitselect (local.get $t) (local.get $v) (i64x2.eq (local.get $v) (local.get $f))))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 16)))
        (br $next))))
)
