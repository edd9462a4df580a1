/**
 * Probability calibration fitted on held-out rows the network never trained or early-stopped on.
 * Class weighting during training deliberately inflates the raw probabilities; calibration maps
 * them back to observed churn rates so a "0.3" means three in ten churn.
 */

export type Calibration =
  /** Platt scaling on the network's logit: p = sigmoid(a * logit + b) */
  | { method: 'platt'; a: number; b: number }
  /** isotonic regression on the raw probability: piecewise-linear through (x[i], y[i]) */
  | { method: 'isotonic'; x: number[]; y: number[] }
  | { method: 'none' };

export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

export function logit(p: number): number {
  const q = Math.min(1 - 1e-7, Math.max(1e-7, p));
  return Math.log(q / (1 - q));
}

/**
 * Fits a, b maximising the likelihood of sigmoid(a * z + b) by Newton's method, with Platt's
 * smoothed targets ((n+ + 1)/(n+ + 2), 1/(n- + 2)) so a perfectly separated calibration set
 * cannot push the slope to infinity.
 */
export function fitPlatt(logits: ArrayLike<number>, y: ArrayLike<number>): Calibration {
  const n = logits.length;
  let positives = 0;
  for (let i = 0; i < n; i++) if (y[i]) positives++;
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return { method: 'none' };
  const hi = (positives + 1) / (positives + 2);
  const lo = 1 / (negatives + 2);
  const objective = (a: number, b: number) => {
    let f = 0;
    for (let i = 0; i < n; i++) {
      const z = a * logits[i]! + b;
      const t = y[i] ? hi : lo;
      // -[t log p + (1-t) log(1-p)] written stably: log(1 + e^z) - t z
      f += (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))) - t * z;
    }
    return f;
  };
  // Newton with backtracking (Lin, Lin & Weng 2007): plain Newton overshoots from a poor start.
  let a = 1;
  let b = 0;
  let f = objective(a, b);
  for (let iter = 0; iter < 100; iter++) {
    let g1 = 0, g2 = 0, h11 = 1e-12, h12 = 0, h22 = 1e-12;
    for (let i = 0; i < n; i++) {
      const z = logits[i]!;
      const p = sigmoid(a * z + b);
      const d = p - (y[i] ? hi : lo);
      const w = p * (1 - p);
      g1 += d * z;
      g2 += d;
      h11 += w * z * z;
      h12 += w * z;
      h22 += w;
    }
    if (Math.abs(g1) < 1e-7 * n && Math.abs(g2) < 1e-7 * n) break;
    const det = h11 * h22 - h12 * h12;
    if (!(Math.abs(det) > 0)) break;
    const da = (h22 * g1 - h12 * g2) / det;
    const db = (h11 * g2 - h12 * g1) / det;
    let step = 1;
    let improved = false;
    while (step > 1e-10) {
      const fNew = objective(a - step * da, b - step * db);
      if (fNew < f + 1e-4 * step * (g1 * -da + g2 * -db)) {
        a -= step * da;
        b -= step * db;
        f = fNew;
        improved = true;
        break;
      }
      step /= 2;
    }
    if (!improved) break;
  }
  if (!Number.isFinite(a) || !Number.isFinite(b)) return { method: 'none' };
  return { method: 'platt', a, b };
}

/** Pool-adjacent-violators isotonic regression of y on p; returns the monotone step knots. */
export function fitIsotonic(p: ArrayLike<number>, y: ArrayLike<number>): Calibration {
  const n = p.length;
  if (n === 0) return { method: 'none' };
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => p[a]! - p[b]!);
  const value: number[] = [];
  const weight: number[] = [];
  const xMean: number[] = [];
  for (const i of idx) {
    value.push(y[i] ? 1 : 0);
    weight.push(1);
    xMean.push(p[i]!);
    while (value.length > 1 && value[value.length - 2]! > value[value.length - 1]!) {
      const w2 = weight.pop()!, v2 = value.pop()!, x2 = xMean.pop()!;
      const w1 = weight.pop()!, v1 = value.pop()!, x1 = xMean.pop()!;
      const w = w1 + w2;
      weight.push(w);
      value.push((v1 * w1 + v2 * w2) / w);
      xMean.push((x1 * w1 + x2 * w2) / w);
    }
  }
  return { method: 'isotonic', x: xMean, y: value };
}

/** Calibrated probability from the network's logit. */
export function calibrate(calibration: Calibration, networkLogit: number): number {
  switch (calibration.method) {
    case 'platt':
      return sigmoid(calibration.a * networkLogit + calibration.b);
    case 'isotonic':
      return interpolate(calibration.x, calibration.y, sigmoid(networkLogit));
    case 'none':
      return sigmoid(networkLogit);
  }
}

function interpolate(xs: number[], ys: number[], x: number): number {
  if (xs.length === 0) return x;
  if (x <= xs[0]!) return ys[0]!;
  if (x >= xs[xs.length - 1]!) return ys[ys.length - 1]!;
  let lo = 0;
  let hi = xs.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! <= x) lo = mid;
    else hi = mid;
  }
  const span = xs[hi]! - xs[lo]!;
  return span > 0 ? ys[lo]! + ((ys[hi]! - ys[lo]!) * (x - xs[lo]!)) / span : ys[hi]!;
}

/** Calibrates a whole vector of logits in place into a new Float32Array. */
export function calibrateAll(calibration: Calibration, logits: ArrayLike<number>): Float32Array {
  const out = new Float32Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = calibrate(calibration, logits[i]!);
  return out;
}
