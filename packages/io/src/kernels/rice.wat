;; Rice decompression of one FITS tile (RICE_1; see formats/fits/rice.ts for the
;; format). The tile's bytes sit at $in, followed by zero padding (it reads at most 16 bytes past them);
;; the $n pixels are written at $out as integers of $width bytes (1, 2 or 4,
;; keeping the low bits). Returns 0, or -1 when the bytes end before the pixels.
;; Bits are read big-endian into a 64-bit buffer whose low $left bits are unread.
;; Build: packages/io/src/kernels/build.sh
(module
  (import "env" "memory" (memory 1))

  (func (export "decode") (param $in i32) (param $len i32) (param $out i32) (param $n i32)
                          (param $blocksize i32) (param $bytepix i32) (param $width i32) (result i32)
    (local $fsbits i32) (local $fsmax i32) (local $bbits i32)
    (local $i i32) (local $end i32) (local $fs i32) (local $z i32) (local $high i32)
    (local $diff i32) (local $last i32) (local $lowmask i32) (local $b i64) (local $l i32) (local $p i32)
    (global.set $pos (local.get $in))
    (global.set $limit (i32.add (i32.add (local.get $in) (local.get $len)) (i32.const 8)))
    (global.set $buf (i64.const 0))
    (global.set $left (i32.const 0))
    (local.set $fsbits (select (i32.const 3) (select (i32.const 4) (i32.const 5) (i32.eq (local.get $bytepix) (i32.const 2))) (i32.eq (local.get $bytepix) (i32.const 1))))
    (local.set $fsmax (select (i32.const 6) (select (i32.const 14) (i32.const 25) (i32.eq (local.get $bytepix) (i32.const 2))) (i32.eq (local.get $bytepix) (i32.const 1))))
    (local.set $bbits (i32.shl (local.get $bytepix) (i32.const 3)))
    (if (i32.eqz (local.get $n)) (then (return (i32.const 0))))

    ;; the first pixel, whole
    (if (call $refill) (then (return (i32.const -1))))
    (local.set $last (call $take (local.get $bbits)))

    (local.set $i (i32.const 0))
    (block $done
      (loop $block
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $end (select (local.get $n) (i32.add (local.get $i) (local.get $blocksize))
          (i32.gt_u (i32.add (local.get $i) (local.get $blocksize)) (local.get $n))))
        (if (call $refill) (then (return (i32.const -1))))
        (local.set $fs (i32.sub (call $take (local.get $fsbits)) (i32.const 1)))
        (if (i32.lt_s (local.get $fs) (i32.const 0))
          (then ;; every difference zero
            (loop $same
              (call $store (local.get $out) (local.get $i) (local.get $width) (local.get $last))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $same (i32.lt_u (local.get $i) (local.get $end)))))
          (else (if (i32.eq (local.get $fs) (local.get $fsmax))
            (then ;; differences stored whole
              (loop $raw
                (if (call $refill) (then (return (i32.const -1))))
                (local.set $diff (call $take (local.get $bbits)))
                (local.set $last (i32.add (local.get $last) (i32.xor (i32.shr_u (local.get $diff) (i32.const 1)) (i32.sub (i32.const 0) (i32.and (local.get $diff) (i32.const 1))))))
                (call $store (local.get $out) (local.get $i) (local.get $width) (local.get $last))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br_if $raw (i32.lt_u (local.get $i) (local.get $end)))))
            (else ;; a unary high part (zeros up to a one), then fs low bits
              ;; the reader's state in locals for this loop, the hot one
              (local.set $b (global.get $buf))
              (local.set $l (global.get $left))
              (local.set $p (global.get $pos))
              (local.set $lowmask (i32.sub (i32.shl (i32.const 1) (local.get $fs)) (i32.const 1)))
              (loop $pixel
                (if (i32.lt_u (local.get $l) (i32.const 33))
                  (then
                    (if (i32.gt_u (local.get $p) (global.get $limit)) (then (return (i32.const -1))))
                    (loop $byte
                      (local.set $b (i64.or (i64.shl (local.get $b) (i64.const 8)) (i64.load8_u (local.get $p))))
                      (local.set $p (i32.add (local.get $p) (i32.const 1)))
                      (local.set $l (i32.add (local.get $l) (i32.const 8)))
                      (br_if $byte (i32.le_u (local.get $l) (i32.const 56))))))
                ;; leading zeros of the unread window (64 when it is all zero)
                (local.set $z (i32.wrap_i64 (i64.clz (i64.shl (local.get $b) (i64.extend_i32_u (i32.sub (i32.const 64) (local.get $l)))))))
                (if (i32.le_u (i32.add (i32.add (local.get $z) (i32.const 1)) (local.get $fs)) (local.get $l))
                  (then
                    (local.set $l (i32.sub (local.get $l) (i32.add (i32.add (local.get $z) (i32.const 1)) (local.get $fs))))
                    (local.set $diff (i32.or (i32.shl (local.get $z) (local.get $fs))
                      (i32.and (i32.wrap_i64 (i64.shr_u (local.get $b) (i64.extend_i32_u (local.get $l)))) (local.get $lowmask)))))
                  (else ;; a long high part, across refills: by the functions on the globals
                    (global.set $buf (local.get $b))
                    (global.set $left (local.get $l))
                    (global.set $pos (local.get $p))
                    (local.set $high (i32.const 0))
                    (block $found
                      (loop $zeros
                        (local.set $z (i32.wrap_i64 (i64.clz (i64.shl (global.get $buf) (i64.extend_i32_u (i32.sub (i32.const 64) (global.get $left)))))))
                        (br_if $found (i32.lt_u (local.get $z) (global.get $left)))
                        (local.set $high (i32.add (local.get $high) (global.get $left)))
                        (global.set $left (i32.const 0))
                        (if (call $refill) (then (return (i32.const -1))))
                        (br $zeros)))
                    (local.set $high (i32.add (local.get $high) (local.get $z)))
                    (global.set $left (i32.sub (global.get $left) (i32.add (local.get $z) (i32.const 1))))
                    (if (call $refill) (then (return (i32.const -1))))
                    (local.set $diff (i32.or (i32.shl (local.get $high) (local.get $fs)) (call $take (local.get $fs))))
                    (local.set $b (global.get $buf))
                    (local.set $l (global.get $left))
                    (local.set $p (global.get $pos))))
                (local.set $last (i32.add (local.get $last) (i32.xor (i32.shr_u (local.get $diff) (i32.const 1)) (i32.sub (i32.const 0) (i32.and (local.get $diff) (i32.const 1))))))
                (if (i32.eq (local.get $width) (i32.const 2))
                  (then (i32.store16 (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 1))) (local.get $last)))
                  (else (call $store (local.get $out) (local.get $i) (local.get $width) (local.get $last))))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br_if $pixel (i32.lt_u (local.get $i) (local.get $end))))
              (global.set $buf (local.get $b))
              (global.set $left (local.get $l))
              (global.set $pos (local.get $p))))))
        ;; bits consumed beyond the tile's bytes: it is corrupt
        (if (i32.gt_s (i32.sub (i32.shl (i32.sub (global.get $pos) (local.get $in)) (i32.const 3)) (global.get $left))
                      (i32.shl (local.get $len) (i32.const 3)))
          (then (return (i32.const -1))))
        (br $block)))
    (i32.const 0))

  ;; the bit reader: next byte, where the padding ends, unread bits
  (global $pos (mut i32) (i32.const 0))
  (global $limit (mut i32) (i32.const 0))
  (global $buf (mut i64) (i64.const 0))
  (global $left (mut i32) (i32.const 0))

  ;; At least 33 unread bits, a byte at a time; 1 when that would read past the padding.
  (func $refill (result i32)
    (if (i32.ge_u (global.get $left) (i32.const 33)) (then (return (i32.const 0))))
    (if (i32.gt_u (global.get $pos) (global.get $limit)) (then (return (i32.const 1))))
    (loop $byte
      (global.set $buf (i64.or (i64.shl (global.get $buf) (i64.const 8)) (i64.load8_u (global.get $pos))))
      (global.set $pos (i32.add (global.get $pos) (i32.const 1)))
      (global.set $left (i32.add (global.get $left) (i32.const 8)))
      (br_if $byte (i32.le_u (global.get $left) (i32.const 56))))
    (i32.const 0))

  ;; The next $k (<= 32) bits, after a refill.
  (func $take (param $k i32) (result i32)
    (global.set $left (i32.sub (global.get $left) (local.get $k)))
    (i32.wrap_i64 (i64.and (i64.shr_u (global.get $buf) (i64.extend_i32_u (global.get $left)))
                           (i64.sub (i64.shl (i64.const 1) (i64.extend_i32_u (local.get $k))) (i64.const 1)))))

  (func $store (param $out i32) (param $i i32) (param $width i32) (param $v i32)
    (if (i32.eq (local.get $width) (i32.const 2))
      (then (i32.store16 (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 1))) (local.get $v)))
      (else (if (i32.eq (local.get $width) (i32.const 4))
        (then (i32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (local.get $v)))
        (else (i32.store8 (i32.add (local.get $out) (local.get $i)) (local.get $v))))))))
