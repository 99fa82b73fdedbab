/**
 * Alternating non-negative least squares for PMF's weighted objective, the
 * default solver: with the weights of the current fit held, F becomes the
 * exact minimiser for each species given G, then G for each sample given the
 * new F; each is a k-variable non-negative least-squares problem, solved by
 * coordinate descent from the current values. Each half-step minimises what
 * a multiplicative update only decreases, so it needs far fewer iterations
 * for the same Q. The normal equations (the O(n·m·k²) work) are built by the
 * SIMD kernel of kernels/als.wat.
 */
import { ALS_WASM } from "./kernels/als-wasm.ts";
import type { Stepper } from "./multiplicative.ts";

interface Kernels {
  weights(x: number, su: number, g: number, f: number, w: number, wx: number, n: number, mp: number, k: number, alpha: number, robust: number): number;
  gramF(g: number, w: number, wx: number, A: number, B: number, n: number, mp: number, k: number): void;
  gramG(f: number, ff: number, w: number, wx: number, C: number, D: number, n: number, mp: number, k: number): void;
  nnls(M: number, b: number, v: number, count: number, k: number, pair: number, full: number, tol: number): void;
}

/** Inner solves stop when no value moves by more than this share of the largest: an alternating step need not be exact, only lower Q. */
const TOLERANCE = 1e-6;
const module = new WebAssembly.Module(Buffer.from(ALS_WASM, "base64"));
const PAGE = 65536;

type Name = "x" | "su" | "w" | "wx" | "g" | "f" | "ff" | "A" | "B" | "At" | "Bt" | "ft" | "C" | "D" | "full";

export class Alternating implements Stepper {
  private readonly kernels: Kernels;
  private readonly mp: number;
  private readonly pairs: number;
  /** pair[c·k + e]: where the pair (c, e) of factors sits in the packed normal equations. */
  private readonly pair: Int32Array;
  private readonly arrays: Record<Name, Float64Array>;

  constructor(x: Float64Array, u: Float64Array, readonly n: number, readonly m: number, readonly k: number, private readonly robust: boolean, private readonly alpha: number) {
    const mp = (this.mp = m + (m % 2));
    const pairs = (this.pairs = (k * (k + 1)) / 2);
    const sizes: Record<Name, number> = {
      x: n * mp, su: n * mp, w: n * mp, wx: n * mp, g: n * k, f: k * mp, ff: pairs * mp,
      A: pairs * mp, B: k * mp, At: m * pairs, Bt: m * k, ft: m * k, C: n * pairs, D: n * k, full: k * k,
    };
    const room = (cells: number) => 8 * (cells + (cells % 2)); // 16-byte aligned for the vectors
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
    return this.arrays.g;
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
    return this.kernels.weights(a.x.byteOffset, a.su.byteOffset, a.g.byteOffset, a.f.byteOffset, a.w.byteOffset, a.wx.byteOffset, this.n, this.mp, this.k, this.alpha, this.robust ? 1 : 0);
  }

  update(profiles = true) {
    const { n, m, mp, k, pair, kernels } = this;
    const { g, f, ff, w, wx, C, D, full } = this.arrays;
    if (profiles) this.updateF();
    // G, sample by sample, with the new F
    for (let c = 0; c < k; c++) for (let e = c; e < k; e++) for (let j = 0, p = pair[c * k + e] * mp; j < m; j++) ff[p + j] = f[c * mp + j] * f[e * mp + j];
    kernels.gramG(f.byteOffset, ff.byteOffset, w.byteOffset, wx.byteOffset, C.byteOffset, D.byteOffset, n, mp, k);
    kernels.nnls(C.byteOffset, D.byteOffset, g.byteOffset, n, k, pair.byteOffset, full.byteOffset, TOLERANCE);
  }

  /** F, species by species: the normal equations come out species-last, the solver takes them species-first. */
  private updateF() {
    const { n, m, mp, k, pairs, pair, kernels } = this;
    const { g, f, w, wx, A, B, At, Bt, ft, full } = this.arrays;
    A.fill(0);
    B.fill(0);
    kernels.gramF(g.byteOffset, w.byteOffset, wx.byteOffset, A.byteOffset, B.byteOffset, n, mp, k);
    for (let j = 0; j < m; j++) {
      for (let p = 0; p < pairs; p++) At[j * pairs + p] = A[p * mp + j];
      for (let c = 0; c < k; c++) (Bt[j * k + c] = B[c * mp + j]), (ft[j * k + c] = f[c * mp + j]);
    }
    kernels.nnls(At.byteOffset, Bt.byteOffset, ft.byteOffset, m, k, pair.byteOffset, full.byteOffset, TOLERANCE);
    for (let j = 0; j < m; j++) for (let c = 0; c < k; c++) f[c * mp + j] = ft[j * k + c];
  }
}
