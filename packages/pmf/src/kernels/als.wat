;; The O(n·m·k²) parts of PMF's alternating least squares, with 128-bit SIMD.
;; Matrices are float64, row-major, padded with zeros: species to a multiple
;; of 4 (mp; there x = 1/u = 0, so the weights are 0 and add nothing), samples
;; to an even number, factors and pairs of factors to multiples of 4. The
;; normal equations are two matrix products each, summed in registers.
;; Pointers are byte offsets in the shared memory. Build: build.sh.
(module
  (import "env" "memory" (memory 1))

  ;; The weights of the current G·F and its Q. For each element, with the
  ;; scaled residual s = |x − (G·F)|/u and w0 = 1/u²: w = w0 and Q += s²,
  ;; or in robust mode where s > α: w = w0·α/s and Q += α·s. wx = w·x.
  (func (export "weights") (param $x i32) (param $su i32) (param $g i32) (param $f i32) (param $w i32) (param $wx i32)
      (param $n i32) (param $mp i32) (param $k i32) (param $alpha f64) (param $robust i32) (result f64)
    (local $i i32) (local $j i32) (local $c i32) (local $gi i32) (local $fp i32) (local $off i32) (local $rowBytes i32)
    (local $acc v128) (local $s v128) (local $w0 v128) (local $wv v128) (local $q v128) (local $a v128)
    (local $sel v128) (local $xv v128) (local $uv v128)
    (local.set $a (f64x2.splat (local.get $alpha)))
    (local.set $rowBytes (i32.shl (local.get $mp) (i32.const 3)))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $gi (i32.add (local.get $g) (i32.shl (i32.mul (local.get $i) (local.get $k)) (i32.const 3))))
        (local.set $j (i32.const 0))
        (block $colsDone
          (loop $cols
            (br_if $colsDone (i32.ge_u (local.get $j) (local.get $rowBytes)))
            ;; acc = Σ_c g[i, c]·f[c, j…j+1]
            (local.set $acc (v128.const f64x2 0 0))
            (local.set $fp (i32.add (local.get $f) (local.get $j)))
            (local.set $c (i32.const 0))
            (block $kDone
              (loop $factors
                (br_if $kDone (i32.ge_u (local.get $c) (local.get $k)))
                (local.set $acc (f64x2.add (local.get $acc)
                  (f64x2.mul (f64x2.splat (f64.load (i32.add (local.get $gi) (i32.shl (local.get $c) (i32.const 3))))) (v128.load (local.get $fp)))))
                (local.set $fp (i32.add (local.get $fp) (local.get $rowBytes)))
                (local.set $c (i32.add (local.get $c) (i32.const 1)))
                (br $factors)))
            (local.set $off (i32.add (i32.mul (local.get $i) (local.get $rowBytes)) (local.get $j)))
            (local.set $xv (v128.load (i32.add (local.get $x) (local.get $off))))
            (local.set $uv (v128.load (i32.add (local.get $su) (local.get $off))))
            (local.set $s (f64x2.mul (f64x2.abs (f64x2.sub (local.get $xv) (local.get $acc))) (local.get $uv)))
            (local.set $w0 (f64x2.mul (local.get $uv) (local.get $uv)))
            (local.set $sel (v128.const i64x2 0 0))
            (if (local.get $robust) (then (local.set $sel (f64x2.gt (local.get $s) (local.get $a)))))
            (local.set $wv (v128.bitselect (f64x2.div (f64x2.mul (local.get $w0) (local.get $a)) (local.get $s)) (local.get $w0) (local.get $sel)))
            (v128.store (i32.add (local.get $w) (local.get $off)) (local.get $wv))
            (v128.store (i32.add (local.get $wx) (local.get $off)) (f64x2.mul (local.get $wv) (local.get $xv)))
            (local.set $q (f64x2.add (local.get $q)
              (v128.bitselect (f64x2.mul (local.get $a) (local.get $s)) (f64x2.mul (local.get $s) (local.get $s)) (local.get $sel))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $cols)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows)))
    (f64.add (f64x2.extract_lane 0 (local.get $q)) (f64x2.extract_lane 1 (local.get $q))))

  ;; out[r, j] = Σ_i L[i, r]·R[i, j] (out = Lᵀ·R): L is n × rows, R is n × mp,
  ;; out rows × mp; rows and mp multiples of 4. Tiles of 4 × 4 outputs are
  ;; summed in registers down the samples.
  (func (export "gemmTN") (param $L i32) (param $R i32) (param $out i32) (param $n i32) (param $rows i32) (param $mp i32)
    (local $r i32) (local $j i32) (local $i i32) (local $lp i32) (local $rp i32) (local $op i32)
    (local $lStride i32) (local $rStride i32)
    (local $l0 v128) (local $l1 v128) (local $l2 v128) (local $l3 v128) (local $v0 v128) (local $v1 v128)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128)
    (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128)
    (local.set $lStride (i32.shl (local.get $rows) (i32.const 3)))
    (local.set $rStride (i32.shl (local.get $mp) (i32.const 3)))
    (block $rDone
      (loop $rLoop
        (br_if $rDone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $j (i32.const 0))
        (block $jDone
          (loop $jLoop
            (br_if $jDone (i32.ge_u (local.get $j) (local.get $mp)))
            (local.set $a00 (v128.const f64x2 0 0)) (local.set $a01 (v128.const f64x2 0 0))
            (local.set $a10 (v128.const f64x2 0 0)) (local.set $a11 (v128.const f64x2 0 0))
            (local.set $a20 (v128.const f64x2 0 0)) (local.set $a21 (v128.const f64x2 0 0))
            (local.set $a30 (v128.const f64x2 0 0)) (local.set $a31 (v128.const f64x2 0 0))
            (local.set $lp (i32.add (local.get $L) (i32.shl (local.get $r) (i32.const 3))))
            (local.set $rp (i32.add (local.get $R) (i32.shl (local.get $j) (i32.const 3))))
            (local.set $i (i32.const 0))
            (block $iDone
              (loop $iLoop
                (br_if $iDone (i32.ge_u (local.get $i) (local.get $n)))
                (local.set $v0 (v128.load (local.get $rp)))
                (local.set $v1 (v128.load offset=16 (local.get $rp)))
                (local.set $l0 (v128.load64_splat (local.get $lp)))
                (local.set $l1 (v128.load64_splat offset=8 (local.get $lp)))
                (local.set $l2 (v128.load64_splat offset=16 (local.get $lp)))
                (local.set $l3 (v128.load64_splat offset=24 (local.get $lp)))
                (local.set $a00 (f64x2.add (local.get $a00) (f64x2.mul (local.get $l0) (local.get $v0))))
                (local.set $a01 (f64x2.add (local.get $a01) (f64x2.mul (local.get $l0) (local.get $v1))))
                (local.set $a10 (f64x2.add (local.get $a10) (f64x2.mul (local.get $l1) (local.get $v0))))
                (local.set $a11 (f64x2.add (local.get $a11) (f64x2.mul (local.get $l1) (local.get $v1))))
                (local.set $a20 (f64x2.add (local.get $a20) (f64x2.mul (local.get $l2) (local.get $v0))))
                (local.set $a21 (f64x2.add (local.get $a21) (f64x2.mul (local.get $l2) (local.get $v1))))
                (local.set $a30 (f64x2.add (local.get $a30) (f64x2.mul (local.get $l3) (local.get $v0))))
                (local.set $a31 (f64x2.add (local.get $a31) (f64x2.mul (local.get $l3) (local.get $v1))))
                (local.set $lp (i32.add (local.get $lp) (local.get $lStride)))
                (local.set $rp (i32.add (local.get $rp) (local.get $rStride)))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $iLoop)))
            (local.set $op (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $r) (local.get $mp)) (local.get $j)) (i32.const 3))))
            (v128.store (local.get $op) (local.get $a00))
            (v128.store offset=16 (local.get $op) (local.get $a01))
            (local.set $op (i32.add (local.get $op) (local.get $rStride)))
            (v128.store (local.get $op) (local.get $a10))
            (v128.store offset=16 (local.get $op) (local.get $a11))
            (local.set $op (i32.add (local.get $op) (local.get $rStride)))
            (v128.store (local.get $op) (local.get $a20))
            (v128.store offset=16 (local.get $op) (local.get $a21))
            (local.set $op (i32.add (local.get $op) (local.get $rStride)))
            (v128.store (local.get $op) (local.get $a30))
            (v128.store offset=16 (local.get $op) (local.get $a31))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $jLoop)))
        (local.set $r (i32.add (local.get $r) (i32.const 4)))
        (br $rLoop))))

  ;; out[i, r] = Σ_j R[i, j]·Q[r, j] (out = R·Qᵀ): R is n × mp, Q is rows × mp,
  ;; out n × rows; n even, rows a multiple of 4, mp of 2. Tiles of 2 samples ×
  ;; 4 rows are summed in registers along the species.
  (func (export "gemmNT") (param $R i32) (param $Q i32) (param $out i32) (param $n i32) (param $rows i32) (param $mp i32)
    (local $i i32) (local $r i32) (local $jb i32) (local $rowBytes i32) (local $r0 i32) (local $r1 i32)
    (local $q i32) (local $q1p i32) (local $q2p i32) (local $q3p i32) (local $op i32)
    (local $x0 v128) (local $x1 v128) (local $q0 v128) (local $q1 v128) (local $q2 v128) (local $q3 v128)
    (local $a00 v128) (local $a01 v128) (local $a02 v128) (local $a03 v128)
    (local $a10 v128) (local $a11 v128) (local $a12 v128) (local $a13 v128)
    (local.set $rowBytes (i32.shl (local.get $mp) (i32.const 3)))
    (block $iDone
      (loop $iLoop
        (br_if $iDone (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $r0 (i32.add (local.get $R) (i32.mul (local.get $i) (local.get $rowBytes))))
        (local.set $r1 (i32.add (local.get $r0) (local.get $rowBytes)))
        (local.set $r (i32.const 0))
        (block $rDone
          (loop $rLoop
            (br_if $rDone (i32.ge_u (local.get $r) (local.get $rows)))
            (local.set $a00 (v128.const f64x2 0 0)) (local.set $a01 (v128.const f64x2 0 0))
            (local.set $a02 (v128.const f64x2 0 0)) (local.set $a03 (v128.const f64x2 0 0))
            (local.set $a10 (v128.const f64x2 0 0)) (local.set $a11 (v128.const f64x2 0 0))
            (local.set $a12 (v128.const f64x2 0 0)) (local.set $a13 (v128.const f64x2 0 0))
            (local.set $q (i32.add (local.get $Q) (i32.mul (local.get $r) (local.get $rowBytes))))
            (local.set $q1p (i32.add (local.get $q) (local.get $rowBytes)))
            (local.set $q2p (i32.add (local.get $q1p) (local.get $rowBytes)))
            (local.set $q3p (i32.add (local.get $q2p) (local.get $rowBytes)))
            (local.set $jb (i32.const 0))
            (block $jDone
              (loop $jLoop
                (br_if $jDone (i32.ge_u (local.get $jb) (local.get $rowBytes)))
                (local.set $x0 (v128.load (i32.add (local.get $r0) (local.get $jb))))
                (local.set $x1 (v128.load (i32.add (local.get $r1) (local.get $jb))))
                (local.set $q0 (v128.load (i32.add (local.get $q) (local.get $jb))))
                (local.set $q1 (v128.load (i32.add (local.get $q1p) (local.get $jb))))
                (local.set $q2 (v128.load (i32.add (local.get $q2p) (local.get $jb))))
                (local.set $q3 (v128.load (i32.add (local.get $q3p) (local.get $jb))))
                (local.set $a00 (f64x2.add (local.get $a00) (f64x2.mul (local.get $x0) (local.get $q0))))
                (local.set $a01 (f64x2.add (local.get $a01) (f64x2.mul (local.get $x0) (local.get $q1))))
                (local.set $a02 (f64x2.add (local.get $a02) (f64x2.mul (local.get $x0) (local.get $q2))))
                (local.set $a03 (f64x2.add (local.get $a03) (f64x2.mul (local.get $x0) (local.get $q3))))
                (local.set $a10 (f64x2.add (local.get $a10) (f64x2.mul (local.get $x1) (local.get $q0))))
                (local.set $a11 (f64x2.add (local.get $a11) (f64x2.mul (local.get $x1) (local.get $q1))))
                (local.set $a12 (f64x2.add (local.get $a12) (f64x2.mul (local.get $x1) (local.get $q2))))
                (local.set $a13 (f64x2.add (local.get $a13) (f64x2.mul (local.get $x1) (local.get $q3))))
                (local.set $jb (i32.add (local.get $jb) (i32.const 16)))
                (br $jLoop)))
            (local.set $op (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $rows)) (local.get $r)) (i32.const 3))))
            (f64.store (local.get $op) (call $sum2 (local.get $a00)))
            (f64.store offset=8 (local.get $op) (call $sum2 (local.get $a01)))
            (f64.store offset=16 (local.get $op) (call $sum2 (local.get $a02)))
            (f64.store offset=24 (local.get $op) (call $sum2 (local.get $a03)))
            (local.set $op (i32.add (local.get $op) (i32.shl (local.get $rows) (i32.const 3))))
            (f64.store (local.get $op) (call $sum2 (local.get $a10)))
            (f64.store offset=8 (local.get $op) (call $sum2 (local.get $a11)))
            (f64.store offset=16 (local.get $op) (call $sum2 (local.get $a12)))
            (f64.store offset=24 (local.get $op) (call $sum2 (local.get $a13)))
            (local.set $r (i32.add (local.get $r) (i32.const 4)))
            (br $rLoop)))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (br $iLoop))))

  (func $sum2 (param $v v128) (result f64)
    (f64.add (f64x2.extract_lane 0 (local.get $v)) (f64x2.extract_lane 1 (local.get $v))))

  ;; min ½·vᵀMv − bᵀv over v ≥ 0 for `count` problems of k variables (M
  ;; symmetric, packed: entry (c, e) at pair[c·k + e]; b and v of k each), by
  ;; cyclic coordinate descent from the given v, until no coordinate moves by
  ;; more than tol of the largest (at most 100 sweeps). A coordinate whose
  ;; diagonal is not positive (a factor with nothing in it) keeps its value.
  ;; `full` is room for one M unpacked (k·k). Problem r's M, b and v start
  ;; r·mStride, r·bStride and r·k values in.
  (func (export "nnls") (param $M i32) (param $mStride i32) (param $b i32) (param $bStride i32) (param $v i32) (param $count i32) (param $k i32)
      (param $pair i32) (param $full i32) (param $tol f64)
    (local $r i32) (local $t i32) (local $kk i32) (local $sweep i32) (local $c i32) (local $e i32)
    (local $row i32) (local $d f64) (local $s f64) (local $old f64) (local $next f64) (local $change f64) (local $size f64)
    (local.set $kk (i32.mul (local.get $k) (local.get $k)))
    (block $problemsDone
      (loop $problems
        (br_if $problemsDone (i32.ge_u (local.get $r) (local.get $count)))
        (local.set $t (i32.const 0))
        (block $unpacked
          (loop $unpack
            (br_if $unpacked (i32.ge_u (local.get $t) (local.get $kk)))
            (f64.store (i32.add (local.get $full) (i32.shl (local.get $t) (i32.const 3)))
              (f64.load (i32.add (local.get $M) (i32.shl (i32.load (i32.add (local.get $pair) (i32.shl (local.get $t) (i32.const 2)))) (i32.const 3)))))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $unpack)))
        (local.set $sweep (i32.const 0))
        (block $solved
          (loop $sweeps
            (br_if $solved (i32.ge_u (local.get $sweep) (i32.const 100)))
            (local.set $change (f64.const 0))
            (local.set $size (f64.const 0))
            (local.set $c (i32.const 0))
            (block $cDone
              (loop $cs
                (br_if $cDone (i32.ge_u (local.get $c) (local.get $k)))
                (local.set $row (i32.add (local.get $full) (i32.shl (i32.mul (local.get $c) (local.get $k)) (i32.const 3))))
                (local.set $d (f64.load (i32.add (local.get $row) (i32.shl (local.get $c) (i32.const 3)))))
                (if (f64.gt (local.get $d) (f64.const 0)) (then
                  (local.set $s (f64.load (i32.add (local.get $b) (i32.shl (local.get $c) (i32.const 3)))))
                  (local.set $e (i32.const 0))
                  (block $eDone
                    (loop $es
                      (br_if $eDone (i32.ge_u (local.get $e) (local.get $k)))
                      (local.set $s (f64.sub (local.get $s)
                        (f64.mul (f64.load (i32.add (local.get $row) (i32.shl (local.get $e) (i32.const 3))))
                                 (f64.load (i32.add (local.get $v) (i32.shl (local.get $e) (i32.const 3)))))))
                      (local.set $e (i32.add (local.get $e) (i32.const 1)))
                      (br $es)))
                  (local.set $old (f64.load (i32.add (local.get $v) (i32.shl (local.get $c) (i32.const 3)))))
                  (local.set $next (f64.max (f64.const 0) (f64.add (local.get $old) (f64.div (local.get $s) (local.get $d)))))
                  (f64.store (i32.add (local.get $v) (i32.shl (local.get $c) (i32.const 3))) (local.get $next))
                  (local.set $change (f64.max (local.get $change) (f64.abs (f64.sub (local.get $next) (local.get $old)))))
                  (local.set $size (f64.max (local.get $size) (local.get $next)))))
                (local.set $c (i32.add (local.get $c) (i32.const 1)))
                (br $cs)))
            (br_if $solved (f64.le (local.get $change) (f64.mul (local.get $tol) (local.get $size))))
            (local.set $sweep (i32.add (local.get $sweep) (i32.const 1)))
            (br $sweeps)))
        (local.set $M (i32.add (local.get $M) (i32.shl (local.get $mStride) (i32.const 3))))
        (local.set $b (i32.add (local.get $b) (i32.shl (local.get $bStride) (i32.const 3))))
        (local.set $v (i32.add (local.get $v) (i32.shl (local.get $k) (i32.const 3))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $problems))))
)
