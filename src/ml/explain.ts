import type { ChurnModel } from './model.js';
import { scoreMatrix } from './predict.js';
import type { Driver, FeatureSet, FeatureSpec, Matrix } from './types.js';

/** Occluded variants scored per predict() call; bounds memory at about this many rows x features. */
const VARIANTS_PER_CALL = 65_536;

export interface ExplainOptions {
  /** drivers per row (default 3) */
  top?: number;
  /** raw feature values to occlude with; defaults to the median training customer in metadata */
  reference?: ArrayLike<number>;
  /** calibrated probabilities of x if already computed (saves one predict) */
  probabilities?: Float32Array;
}

function bindSpecs(model: ChurnModel, featureSet: FeatureSet): FeatureSpec[] {
  const live = new Map(featureSet.features.map((f) => [f.name, f]));
  return model.metadata.featureSet.features.map((f) => {
    const spec = live.get(f.name);
    if (!spec) throw new Error(`feature ${f.name} of the model is missing from feature set ${featureSet.version}`);
    return spec;
  });
}

/**
 * Occlusion drivers for every row: each feature in turn is replaced by the reference customer's
 * value and the calibrated probability re-scored; the drop is that feature's contribution
 * (positive = this customer's value raises the risk). All rows x features variants go through a
 * few large predict calls, never one call per feature.
 *
 * Per row: positive contributions first (largest first), then protective ones (largest magnitude
 * first); features at the reference value (contribution 0) are not drivers.
 */
export function explainMatrix(model: ChurnModel, x: Matrix, featureSet: FeatureSet = model.featureSet, options: ExplainOptions = {}): Driver[][] {
  const top = options.top ?? 3;
  const { rows, cols } = x;
  const specs = bindSpecs(model, featureSet);
  if (specs.length !== cols) throw new Error(`model expects ${specs.length} features, matrix has ${cols}`);
  const reference = options.reference ?? model.metadata.reference;
  const base = options.probabilities ?? scoreMatrix(model, x);
  const contributions = new Float32Array(rows * cols);
  const rowsPerCall = Math.max(1, Math.floor(VARIANTS_PER_CALL / cols));
  for (let start = 0; start < rows; start += rowsPerCall) {
    const count = Math.min(rowsPerCall, rows - start);
    const variants = new Float32Array(count * cols * cols);
    for (let r = 0; r < count; r++) {
      const row = x.data.subarray((start + r) * cols, (start + r + 1) * cols);
      for (let f = 0; f < cols; f++) {
        const offset = (r * cols + f) * cols;
        variants.set(row, offset);
        variants[offset + f] = reference[f]!;
      }
    }
    const occluded = scoreMatrix(model, { data: variants, rows: count * cols, cols });
    for (let r = 0; r < count; r++) {
      for (let f = 0; f < cols; f++) contributions[(start + r) * cols + f] = base[start + r]! - occluded[r * cols + f]!;
    }
  }
  const out: Driver[][] = [];
  for (let r = 0; r < rows; r++) {
    const candidates: number[] = [];
    for (let f = 0; f < cols; f++) if (Math.abs(contributions[r * cols + f]!) > 1e-7) candidates.push(f);
    candidates.sort((a, b) => {
      const ca = contributions[r * cols + a]!;
      const cb = contributions[r * cols + b]!;
      if (ca > 0 !== cb > 0) return ca > 0 ? -1 : 1;
      return Math.abs(cb) - Math.abs(ca);
    });
    out.push(
      candidates.slice(0, top).map((f) => {
        const value = x.data[r * cols + f]!;
        return { feature: specs[f]!.name, value, contribution: contributions[r * cols + f]!, sentence: specs[f]!.sentence(value) };
      }),
    );
  }
  return out;
}

/** Top drivers of one customer: `x` is a single row (a 1-row Matrix or the row's values). */
export function explain(
  model: ChurnModel,
  x: Matrix | ArrayLike<number>,
  featureSet: FeatureSet = model.featureSet,
  options: ExplainOptions = {},
): Driver[] {
  const matrix: Matrix = 'rows' in x && 'cols' in x && 'data' in x ? (x as Matrix) : { data: Float32Array.from(x as ArrayLike<number>), rows: 1, cols: (x as ArrayLike<number>).length };
  if (matrix.rows !== 1) throw new Error(`explain takes one row, got ${matrix.rows}; use explainMatrix for many`);
  return explainMatrix(model, matrix, featureSet, options)[0]!;
}
