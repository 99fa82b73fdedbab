;; Time sums of one step into float64 accumulators, with 128-bit SIMD: the
;; inner loop of timmean, yearmonmean and the like. For each cell j of a step
;; of n values x (float32 or float64, NaN for missing):
;;   valid x:   sum[j] += x        (weighted: sum[j] += w·x)
;;   missing x: missing[j] += 1    (weighted: also missingWeight[j] += w)
;; A missing value adds +0 to the sum and a valid one adds +0 to the counts,
;; which leaves them bit for bit as skipping would (a sum never holds -0);
;; counts are only touched where a vector has a missing value.
;; Pointers are byte offsets in the shared memory; n is a multiple of 4
;; (float32) or 2 (float64): the caller does the few values left over.
;; Build: packages/io/src/kernels/build.sh
(module
  (import "env" "memory" (memory 1))

  (func (export "sumF32") (param $x i32) (param $n i32) (param $sum i32) (param $missing i32)
    (local $end i32) (local $v v128) (local $miss v128) (local $one v128)
    (local.set $one (f64x2.splat (f64.const 1)))
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $v (v128.load (local.get $x)))
        (local.set $miss (f32x4.ne (local.get $v) (local.get $v)))
        (local.set $v (v128.andnot (local.get $v) (local.get $miss)))
        (v128.store (local.get $sum) (f64x2.add (v128.load (local.get $sum)) (f64x2.promote_low_f32x4 (local.get $v))))
        (v128.store offset=16 (local.get $sum) (f64x2.add (v128.load offset=16 (local.get $sum))
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))
        (if (v128.any_true (local.get $miss)) (then
          (v128.store (local.get $missing) (f64x2.add (v128.load (local.get $missing))
            (v128.and (i64x2.extend_low_i32x4_s (local.get $miss)) (local.get $one))))
          (v128.store offset=16 (local.get $missing) (f64x2.add (v128.load offset=16 (local.get $missing))
            (v128.and (i64x2.extend_high_i32x4_s (local.get $miss)) (local.get $one))))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $sum (i32.add (local.get $sum) (i32.const 32)))
        (local.set $missing (i32.add (local.get $missing) (i32.const 32)))
        (br $next))))

  (func (export "sumF32Weighted") (param $x i32) (param $n i32) (param $w f64) (param $sum i32) (param $missing i32) (param $mw i32)
    (local $end i32) (local $v v128) (local $miss v128) (local $m v128) (local $one v128) (local $ws v128)
    (local.set $one (f64x2.splat (f64.const 1)))
    (local.set $ws (f64x2.splat (local.get $w)))
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $v (v128.load (local.get $x)))
        (local.set $miss (f32x4.ne (local.get $v) (local.get $v)))
        (local.set $v (v128.andnot (local.get $v) (local.get $miss)))
        (v128.store (local.get $sum) (f64x2.add (v128.load (local.get $sum))
          (f64x2.mul (local.get $ws) (f64x2.promote_low_f32x4 (local.get $v)))))
        (v128.store offset=16 (local.get $sum) (f64x2.add (v128.load offset=16 (local.get $sum))
          (f64x2.mul (local.get $ws) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))))
        (if (v128.any_true (local.get $miss)) (then
          (local.set $m (i64x2.extend_low_i32x4_s (local.get $miss)))
          (v128.store (local.get $missing) (f64x2.add (v128.load (local.get $missing)) (v128.and (local.get $m) (local.get $one))))
          (v128.store (local.get $mw) (f64x2.add (v128.load (local.get $mw)) (v128.and (local.get $m) (local.get $ws))))
          (local.set $m (i64x2.extend_high_i32x4_s (local.get $miss)))
          (v128.store offset=16 (local.get $missing) (f64x2.add (v128.load offset=16 (local.get $missing)) (v128.and (local.get $m) (local.get $one))))
          (v128.store offset=16 (local.get $mw) (f64x2.add (v128.load offset=16 (local.get $mw)) (v128.and (local.get $m) (local.get $ws))))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $sum (i32.add (local.get $sum) (i32.const 32)))
        (local.set $missing (i32.add (local.get $missing) (i32.const 32)))
        (local.set $mw (i32.add (local.get $mw) (i32.const 32)))
        (br $next))))
)
