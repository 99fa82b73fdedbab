/**
 * Alternating non-negative least squares for PMF's weighted objective, the
 * default solver: with the weights of the current fit held, F becomes the
 * exact minimiser for each species given G, then G for each sample given the
 * new F; each is a k-variable non-negative least-squares problem, solved by
 * coordinate descent from the current values. Each half-step minimises what
 * a multiplicative update only decreases, so it needs far fewer iterations
 * for the same Q. The normal equations (the O(n·m·k²) work) are matrix
 * products in the SIMD kernels of kernels/als.wat, as are the small solves.
 */
import { ALS_WASM } from "./kernels/als-wasm.ts";
import type { Stepper } from "./multiplicative.ts";


interface Kernels {
  weights(x: number, su: number, g: number, f: number, w: number, wx: number, n: number, mp: number, k: number, alpha: number, robust: number): number;
  gemmTN(L: number, R: number, out: number, n: number, rows: number, mp: number): void;
  gemmNT(R: number, Q: number, out: number, n: number, rows: number, mp: number): void;
  nnls(M: number, mStride: number, b: number, bStride: number, v: number, count: number, k: number, pair: number, full: number, tol: number): void;
}

/** Inner solves stop when no value moves by more than this share of the largest: an alternating step need not be exact, only lower Q. */
const TOLERANCE = 1e-6;

const module = new WebAssembly.Module(Buffer.from(ALS_WASM, "base64"));
const PAGE = 65536;
const up = (v: number, to: number) => Math.ceil(v / to) * to;

type Name = "x" | "su" | "w" | "wx" | "g" | "gk" | "gg" | "f" | "ff" | "A" | "B" | "At" | "Bt" | "ft" | "C" | "D" | "full";

export class Alternating implements Stepper {
  private readonly kernels: Kernels;
  /** Padded sizes (see als.wat): samples, species, factors, pairs of factors. */
  private readonly np: number;
  private readonly mp: number;
  private readonly kp: number;
  private readonly pairs: number;
  private readonly pp: number;
  /** pair[c·k + e]: where the pair (c, e) of factors sits in the packed normal equations. */
  private readonly pair: Int32Array;
  private readonly arrays: Record<Name, Float64Array>;

  constructor(x: Float64Array, u: Float64Array, readonly n: number, readonly m: number, readonly k: number, private readonly robust: boolean, private readonly alpha: number) {
    const np = (this.np = up(n, 2)), mp = (this.mp = up(m, 4)), kp = (this.kp = up(k, 4));
    const pairs = (this.pairs = (k * (k + 1)) / 2), pp = (this.pp = up(pairs, 4));
    const sizes: Record<Name, number> = {
      x: np * mp, su: np * mp, w: np * mp, wx: np * mp, g: np * k, gk: np * kp, gg: np * pp, f: kp * mp, ff: pp * mp,
      A: pp * mp, B: kp * mp, At: m * pairs, Bt: m * k, ft: m * k, C: np * pp, D: np * kp, full: k * k,
    };
    const room = (cells: number) => 8 * up(cells, 2); // 16-byte aligned for the vectors
    const bytes = Object.values(sizes).reduce((s, c) => s + room(c), 0) + 4 * k * k;
    const memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / PAGE) });
    this.kernels = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as Kernels;
    let at = 0;
    this.arrays = Object.fromEntries(Object.entries(sizes).map(([name, cells]) => {
      const a = new Float64Array(memory.buffer, at, cells);
      at += room(cells);
      return [name, a];
    })) as Record<Name, Float64Array>;
    this.pair = new Int32Array(memory.buffer, at, k * k);
    for (let c = 0, p = 0; c < k; c++) for (let e = c; e < k; e++, p++) this.pair[c * k + e] = this.pair[e * k + c] = p;
    const { x: px, su } = this.arrays;
    for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) (px[i * mp + j] = x[i * m + j]), (su[i * mp + j] = 1 / u[i * m + j]);
  }

  /** Contributions [n, k], in place. */
  get g(): Float64Array {
    return this.arrays.g.subarray(0, this.n * this.k);
  }

  setF(f: Float64Array) {
    for (let c = 0; c < this.k; c++) this.arrays.f.set(f.subarray(c * this.m, (c + 1) * this.m), c * this.mp);
  }

  /** Profiles [k, m] (a copy). */
  f(): Float64Array {
    const out = new Float64Array(this.k * this.m);
    for (let c = 0; c < this.k; c++) out.set(this.arrays.f.subarray(c * this.mp, c * this.mp + this.m), c * this.m);
    return out;
  }

  measure(): number {
    const a = this.arrays;
    return this.kernels.weights(a.x.byteOffset, a.su.byteOffset, a.g.byteOffset, a.f.byteOffset, a.w.byteOffset, a.wx.byteOffset, this.np, this.mp, this.k, this.alpha, this.robust ? 1 : 0);
  }

  update(profiles = true) {
    const { n, np, m, mp, k, kp, pp, pair, kernels } = this;
    const { g, f, ff, w, wx, C, D, full } = this.arrays;
    if (profiles) this.updateF();
    // G, sample by sample, with the new F: C = W·(f_c∘f_e)ᵀ, D = (W∘X)·Fᵀ
    for (let c = 0; c < k; c++) for (let e = c; e < k; e++) for (let j = 0, p = pair[c * k + e] * mp; j < m; j++) ff[p + j] = f[c * mp + j] * f[e * mp + j];
    kernels.gemmNT(w.byteOffset, ff.byteOffset, C.byteOffset, np, pp, mp);
    kernels.gemmNT(wx.byteOffset, f.byteOffset, D.byteOffset, np, kp, mp);
    kernels.nnls(C.byteOffset, pp, D.byteOffset, kp, g.byteOffset, n, k, pair.byteOffset, full.byteOffset, TOLERANCE);
  }

  /** F, species by species: A = (g_c∘g_e)ᵀ·W and B = Gᵀ·(W∘X) come out species-last; the solver takes them species-first. */
  private updateF() {
    const { n, np, m, mp, k, kp, pairs, pp, pair, kernels } = this;
    const { g, gk, gg, f, w, wx, A, B, At, Bt, ft, full } = this.arrays;
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < k; c++) {
        const gc = g[i * k + c];
        gk[i * kp + c] = gc;
        for (let e = c; e < k; e++) gg[i * pp + pair[c * k + e]] = gc * g[i * k + e];
      }
    }
    kernels.gemmTN(gg.byteOffset, w.byteOffset, A.byteOffset, np, pp, mp);
    kernels.gemmTN(gk.byteOffset, wx.byteOffset, B.byteOffset, np, kp, mp);
    for (let j = 0; j < m; j++) {
      for (let p = 0; p < pairs; p++) At[j * pairs + p] = A[p * mp + j];
      for (let c = 0; c < k; c++) (Bt[j * k + c] = B[c * mp + j]), (ft[j * k + c] = f[c * mp + j]);
    }
    kernels.nnls(At.byteOffset, pairs, Bt.byteOffset, k, ft.byteOffset, m, k, pair.byteOffset, full.byteOffset, TOLERANCE);
    for (let j = 0; j < m; j++) for (let c = 0; c < k; c++) f[c * mp + j] = ft[j * k + c];
  }
}
