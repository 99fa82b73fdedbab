/**
 * Random streams: stream (seed, r) is the same numbers on any engine, in any
 * order, on any retry, so that restart or replicate r does not depend on who
 * computes it. xoshiro128** seeded by splitmix32 from the pair.
 */
function splitmix32(state: number): [number, number] {
  state = (state + 0x9e3779b9) | 0;
  let z = state;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [state, (z ^ (z >>> 16)) >>> 0];
}

export class Random {
  private s = new Uint32Array(4);
  private spare = NaN;

  constructor(seed: number, stream = 0) {
    let state = (seed | 0) ^ Math.imul(stream + 1, 0x27d4eb2f);
    for (let i = 0; i < 4; i++) [state, this.s[i]] = splitmix32(state ^ (i === 0 ? Math.floor(seed / 2 ** 32) : 0));
    if (!(this.s[0] | this.s[1] | this.s[2] | this.s[3])) this.s[0] = 1;
  }

  private nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1), 53 bits. */
  next(): number {
    return ((this.nextU32() >>> 5) * 67108864 + (this.nextU32() >>> 6)) / 9007199254740992;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box–Muller, both values used). */
  normal(): number {
    if (this.spare === this.spare) {
      const v = this.spare;
      this.spare = NaN;
      return v;
    }
    let a = 0;
    while (a === 0) a = this.next();
    const r = Math.sqrt(-2 * Math.log(a)), t = 2 * Math.PI * this.next();
    this.spare = r * Math.sin(t);
    return r * Math.cos(t);
  }
}

const rotl = (x: number, k: number) => (x << k) | (x >>> (32 - k));
