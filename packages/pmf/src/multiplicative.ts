/**
 * LS-NMF multiplicative updates (Wang et al. 2006) as ESAT does them: F
 * first, then G with the new F, no epsilon in the denominators. Kept for
 * comparison with ESAT (`method: "mu"`); the alternating least squares of
 * als.ts reach the same or lower Q in far fewer iterations.
 */

/** One solver's state: the current G and F, their Q, and one iteration. */
export interface Stepper {
  /** Contributions [n, k], live. */
  readonly g: Float64Array;
  /** Profiles [k, m], a copy. */
  f(): Float64Array;
  setF(f: Float64Array): void;
  /** Q of the current G·F (Q(robust) in robust mode), and the weights the next update uses. */
  measure(): number;
  /** One iteration: F (unless `profiles` is false: F held as it is), then G. */
  update(profiles?: boolean): void;
}

export class Multiplicative implements Stepper {
  readonly g: Float64Array;
  private readonly fm: Float64Array;
  private readonly w0: Float64Array;
  private readonly wh: Float64Array;
  private readonly a: Float64Array;
  private readonly b: Float64Array;
  private readonly numF: Float64Array;
  private readonly denF: Float64Array;

  constructor(private readonly x: Float64Array, u: Float64Array, readonly n: number, readonly m: number, readonly k: number, private readonly robust: boolean, private readonly alpha: number) {
    this.g = new Float64Array(n * k);
    this.fm = new Float64Array(k * m);
    this.w0 = Float64Array.from(u, (v) => 1 / (v * v));
    this.wh = new Float64Array(n * m);
    this.a = new Float64Array(n * m);
    this.b = new Float64Array(n * m);
    this.numF = new Float64Array(k * m);
    this.denF = new Float64Array(k * m);
  }

  f(): Float64Array {
    return Float64Array.from(this.fm);
  }

  setF(f: Float64Array) {
    this.fm.set(f);
  }

  measure(): number {
    const { x, w0, wh, a, b, robust, alpha, n, m, k } = this;
    product(this.g, this.fm, n, m, k, wh);
    let q = 0;
    for (let i = 0; i < n * m; i++) {
      const s = Math.abs(x[i] - wh[i]) * Math.sqrt(w0[i]);
      const w = robust && s > alpha ? (w0[i] * alpha) / s : w0[i];
      q += robust ? (s <= alpha ? s * s : alpha * s) : s * s;
      a[i] = w * x[i];
      b[i] = w;
    }
    return q;
  }

  update(profiles = true) {
    const { g, fm: f, wh, a, b, n, m, k } = this;
    if (profiles) this.updateF();
    // G ← G ∘ ((W∘X)Fᵀ) ⊘ ((W∘GF)Fᵀ), with the new F
    product(g, f, n, m, k, wh);
    for (let i = 0; i < n; i++) {
      const row = i * m;
      for (let c = 0; c < k; c++) {
        const fc = c * m;
        let num = 0, den = 0;
        for (let j = 0; j < m; j++) {
          num += a[row + j] * f[fc + j];
          den += b[row + j] * wh[row + j] * f[fc + j];
        }
        if (den > 0) g[i * k + c] *= num / den;
      }
    }
  }

  /** F ← F ∘ (Gᵀ(W∘X)) ⊘ (Gᵀ(W∘GF)) */
  private updateF() {
    const { g, fm: f, wh, a, b, numF, denF, n, m, k } = this;
    numF.fill(0);
    denF.fill(0);
    for (let i = 0; i < n; i++) {
      const row = i * m;
      for (let c = 0; c < k; c++) {
        const gc = g[i * k + c], fc = c * m;
        if (gc === 0) continue;
        for (let j = 0; j < m; j++) {
          numF[fc + j] += gc * a[row + j];
          denF[fc + j] += gc * b[row + j] * wh[row + j];
        }
      }
    }
    for (let i = 0; i < k * m; i++) if (denF[i] > 0) f[i] *= numF[i] / denF[i];
  }
}

/** G·F, [n, m]. */
export function product(g: Float64Array, f: Float64Array, n: number, m: number, k: number, out: Float64Array = new Float64Array(n * m)): Float64Array {
  out.fill(0);
  for (let i = 0; i < n; i++) {
    const row = i * m;
    for (let c = 0; c < k; c++) {
      const a = g[i * k + c], fc = c * m;
      if (a === 0) continue;
      for (let j = 0; j < m; j++) out[row + j] += a * f[fc + j];
    }
  }
  return out;
}
