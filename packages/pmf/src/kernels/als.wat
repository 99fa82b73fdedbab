;; The O(n·m·k²) parts of PMF's alternating least squares, with 128-bit SIMD
;; over species. Matrices are float64, row-major, rows padded to an even
;; number of species mp (padding: x = 1/u = 0, so its weights are 0 and it
;; adds nothing). P = k(k+1)/2 packs the pairs c ≤ e of factors.
;; Pointers are byte offsets in the shared memory. Build: build.sh.
(module
  (import "env" "memory" (memory 1))

  ;; y[0, bytes) += a·x, two float64 at a time
  (func $axpy (param $y i32) (param $a v128) (param $x i32) (param $bytes i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $y) (local.get $bytes)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $y) (local.get $end)))
        (v128.store (local.get $y) (f64x2.add (v128.load (local.get $y)) (f64x2.mul (local.get $a) (v128.load (local.get $x)))))
        (local.set $y (i32.add (local.get $y) (i32.const 16)))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (br $next))))

  ;; Σ x·y over [0, bytes)
  (func $dot (param $x i32) (param $y i32) (param $bytes i32) (result f64)
    (local $end i32) (local $s v128)
    (local.set $end (i32.add (local.get $x) (local.get $bytes)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $s (f64x2.add (local.get $s) (f64x2.mul (v128.load (local.get $x)) (v128.load (local.get $y)))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $y (i32.add (local.get $y) (i32.const 16)))
        (br $next)))
    (f64.add (f64x2.extract_lane 0 (local.get $s)) (f64x2.extract_lane 1 (local.get $s))))

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

  ;; The normal equations of the profiles, for every species j at once:
  ;; A[p(c,e), j] += Σ_i w[i,j]·g[i,c]·g[i,e] and B[c, j] += Σ_i wx[i,j]·g[i,c]
  ;; (A and B start at zero).
  (func (export "gramF") (param $g i32) (param $w i32) (param $wx i32) (param $A i32) (param $B i32)
      (param $n i32) (param $mp i32) (param $k i32)
    (local $i i32) (local $c i32) (local $e i32) (local $gi i32) (local $ap i32) (local $bp i32) (local $rowBytes i32)
    (local $wrow i32) (local $wxrow i32) (local $gc f64)
    (local.set $rowBytes (i32.shl (local.get $mp) (i32.const 3)))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $gi (i32.add (local.get $g) (i32.shl (i32.mul (local.get $i) (local.get $k)) (i32.const 3))))
        (local.set $wrow (i32.add (local.get $w) (i32.mul (local.get $i) (local.get $rowBytes))))
        (local.set $wxrow (i32.add (local.get $wx) (i32.mul (local.get $i) (local.get $rowBytes))))
        (local.set $ap (local.get $A))
        (local.set $bp (local.get $B))
        (local.set $c (i32.const 0))
        (block $cDone
          (loop $cs
            (br_if $cDone (i32.ge_u (local.get $c) (local.get $k)))
            (local.set $gc (f64.load (i32.add (local.get $gi) (i32.shl (local.get $c) (i32.const 3)))))
            (call $axpy (local.get $bp) (f64x2.splat (local.get $gc)) (local.get $wxrow) (local.get $rowBytes))
            (local.set $bp (i32.add (local.get $bp) (local.get $rowBytes)))
            (local.set $e (local.get $c))
            (block $eDone
              (loop $es
                (br_if $eDone (i32.ge_u (local.get $e) (local.get $k)))
                (call $axpy (local.get $ap)
                  (f64x2.splat (f64.mul (local.get $gc) (f64.load (i32.add (local.get $gi) (i32.shl (local.get $e) (i32.const 3))))))
                  (local.get $wrow) (local.get $rowBytes))
                (local.set $ap (i32.add (local.get $ap) (local.get $rowBytes)))
                (local.set $e (i32.add (local.get $e) (i32.const 1)))
                (br $es)))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $cs)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))

  ;; The normal equations of the contributions, for every sample i:
  ;; C[i, p] = Σ_j ff[p, j]·w[i,j] (ff[p(c,e), j] = f[c,j]·f[e,j]) and
  ;; D[i, c] = Σ_j f[c,j]·wx[i,j].
  (func (export "gramG") (param $f i32) (param $ff i32) (param $w i32) (param $wx i32) (param $C i32) (param $D i32)
      (param $n i32) (param $mp i32) (param $k i32)
    (local $i i32) (local $p i32) (local $pairs i32) (local $rowBytes i32) (local $wrow i32) (local $wxrow i32)
    (local $cp i32) (local $dp i32)
    (local.set $rowBytes (i32.shl (local.get $mp) (i32.const 3)))
    (local.set $pairs (i32.shr_u (i32.mul (local.get $k) (i32.add (local.get $k) (i32.const 1))) (i32.const 1)))
    (local.set $cp (local.get $C))
    (local.set $dp (local.get $D))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $wrow (i32.add (local.get $w) (i32.mul (local.get $i) (local.get $rowBytes))))
        (local.set $wxrow (i32.add (local.get $wx) (i32.mul (local.get $i) (local.get $rowBytes))))
        (local.set $p (i32.const 0))
        (block $pDone
          (loop $ps
            (br_if $pDone (i32.ge_u (local.get $p) (local.get $pairs)))
            (f64.store (local.get $cp) (call $dot (i32.add (local.get $ff) (i32.mul (local.get $p) (local.get $rowBytes))) (local.get $wrow) (local.get $rowBytes)))
            (local.set $cp (i32.add (local.get $cp) (i32.const 8)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $ps)))
        (local.set $p (i32.const 0))
        (block $cDone
          (loop $cs
            (br_if $cDone (i32.ge_u (local.get $p) (local.get $k)))
            (f64.store (local.get $dp) (call $dot (i32.add (local.get $f) (i32.mul (local.get $p) (local.get $rowBytes))) (local.get $wxrow) (local.get $rowBytes)))
            (local.set $dp (i32.add (local.get $dp) (i32.const 8)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $cs)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))
;; min ½·vᵀMv − bᵀv over v ≥ 0 for `count` problems of k variables (M
  ;; symmetric, packed: entry (c, e) at pair[c·k + e]; b and v of k each), by
  ;; cyclic coordinate descent from the given v, until no coordinate moves by
  ;; more than tol of the largest (at most 100 sweeps). A coordinate whose
  ;; diagonal is not positive (a factor with nothing in it) keeps its value.
  ;; `full` is room for one M unpacked (k·k).
  (func (export "nnls") (param $M i32) (param $b i32) (param $v i32) (param $count i32) (param $k i32)
      (param $pair i32) (param $full i32) (param $tol f64)
    (local $r i32) (local $t i32) (local $kk i32) (local $pairs i32) (local $sweep i32) (local $c i32) (local $e i32)
    (local $row i32) (local $d f64) (local $s f64) (local $old f64) (local $next f64) (local $change f64) (local $size f64)
    (local.set $kk (i32.mul (local.get $k) (local.get $k)))
    (local.set $pairs (i32.shr_u (i32.mul (local.get $k) (i32.add (local.get $k) (i32.const 1))) (i32.const 1)))
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
        (local.set $M (i32.add (local.get $M) (i32.shl (local.get $pairs) (i32.const 3))))
        (local.set $b (i32.add (local.get $b) (i32.shl (local.get $k) (i32.const 3))))
        (local.set $v (i32.add (local.get $v) (i32.shl (local.get $k) (i32.const 3))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $problems))))
)
