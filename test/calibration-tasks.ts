/**
 * The calibration loop of an astronomy pipeline, as tasks (the worked example
 * of dataflow in the README and the tests): each raw image's bias level and
 * flat field are measured from the image itself, then the image is
 * calibrated with both. Images travel as small references (readRef reopens
 * them wherever the task runs); `delayMs` makes a task last long enough to
 * kill an engine in the middle of a graph.
 */
import { task } from "@meridian/cluster/task";
import { readRef, type DatasetRef } from "@meridian/io";

const pixels = async (raw: DatasetRef) => {
  const a = await readRef(raw);
  return { data: Float64Array.from(a.data as ArrayLike<number>), rows: a.shape[0], cols: a.shape[1] };
};
const pause = (ms = 0) => new Promise((r) => setTimeout(r, ms));

/** The bias: the median of the darkest 10% of the pixels. */
export const measureBias = task(import.meta.url, async function measureBias(raw: DatasetRef, options: { delayMs?: number } = {}): Promise<number> {
  await pause(options.delayMs);
  const { data } = await pixels(raw);
  const sorted = data.filter((v) => v === v).sort();
  return sorted[Math.floor(sorted.length * 0.05)];
});

/** The flat field: each column's median response, normalised to a mean of 1. */
export const measureFlat = task(import.meta.url, async function measureFlat(raw: DatasetRef, options: { delayMs?: number } = {}): Promise<Float64Array> {
  await pause(options.delayMs);
  const { data, rows, cols } = await pixels(raw);
  const flat = new Float64Array(cols), column = new Float64Array(rows);
  for (let j = 0; j < cols; j++) {
    for (let i = 0; i < rows; i++) column[i] = data[i * cols + j];
    flat[j] = Math.max(1e-9, Math.abs(column.slice().sort()[rows >> 1]));
  }
  const mean = flat.reduce((a, b) => a + b, 0) / cols;
  return flat.map((v) => v / mean);
});

/** (raw − bias) / flat, summarised: its mean, standard deviation and extremes. */
export const calibrate = task(import.meta.url, async function calibrate(raw: DatasetRef, bias: number, flat: Float64Array, options: { delayMs?: number } = {}) {
  await pause(options.delayMs);
  const { data, rows, cols } = await pixels(raw);
  let n = 0, sum = 0, sum2 = 0, min = Infinity, max = -Infinity;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const v = (data[i * cols + j] - bias) / flat[j];
      if (v !== v) continue;
      n++, (sum += v), (sum2 += v * v);
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  const mean = sum / n;
  return { variable: raw.variable, shape: [rows, cols], bias, mean, std: Math.sqrt(Math.max(0, sum2 / n - mean * mean)), min, max };
});

type Calibrated = Awaited<ReturnType<typeof calibrate>>;

/** A night's summary from its calibrated frames, and the biases measured (by default, the frames' own). */
export const summariseNight = task(import.meta.url, async function summariseNight(frames: Calibrated[], meta: { biases?: number[] } = {}) {
  const widest = frames.reduce((a, b) => (b.std > a.std ? b : a));
  const biases = meta.biases ?? frames.map((f) => f.bias);
  return {
    frames: frames.length,
    meanOfMeans: frames.reduce((a, f) => a + f.mean, 0) / frames.length,
    widest: widest.variable,
    biasRange: [Math.min(...biases), Math.max(...biases)],
  };
});

/** One pass of a 1-2-1 smoothing of a flat field (iterated, a long chain of small steps). */
export const smoothFlat = task(import.meta.url, async function smoothFlat(flat: Float64Array, options: { delayMs?: number } = {}): Promise<Float64Array> {
  await pause(options.delayMs);
  const n = flat.length;
  return flat.map((v, j) => (flat[Math.max(0, j - 1)] + 2 * v + flat[Math.min(n - 1, j + 1)]) / 4);
});
