import type { ChurnModel } from './model.js';
import { scoreMatrix } from './predict.js';
import type { Driver, FeatureRow, FeatureSet, FeatureSpec, Matrix } from './types.js';

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

/**
 * Smallest rise in the probability shown as a driver (0.1 of a percentage point): below it a feature
 * does not move the risk in a way a person could act on.
 */
export const MIN_DRIVER_CONTRIBUTION = 0.001;

/** A ratio feature without a declared base is stated only within this log ratio either way (10x, or down 90 %). */
export const RATIO_CAP = Math.log(10);

/** The default absence rule of a feature kind (see DriverRules in types.ts). */
function absentByKind(spec: FeatureSpec, value: number): boolean {
  switch (spec.kind) {
    case 'count':
    case 'bool':
    case 'category_onehot':
      return Math.round(value) === 0;
    case 'money':
      return Math.round(Math.expm1(value)) === 0;
    case 'ratio':
      return Math.abs(Math.expm1(value)) < 0.005;
    default:
      return false;
  }
}

/**
 * Whether this value of the feature can be stated as a reason at all: not an absence, and for a
 * ratio, taken on a meaningful base (or, without a declared base, within RATIO_CAP).
 */
export function isStatableDriver(spec: FeatureSpec, value: number, row: FeatureRow): boolean {
  const rules = spec.driver;
  if (rules?.absent ? rules.absent(value, row) : absentByKind(spec, value)) return false;
  if (rules?.base) {
    const base = rules.base(value, row);
    if (base === undefined || !Number.isFinite(base) || base < (rules.minBase ?? 0)) return false;
  } else if (spec.kind === 'ratio' && Math.abs(value) > RATIO_CAP) return false;
  return true;
}

/** The fact a feature states: drivers of one customer name each fact once. */
export function driverFact(spec: FeatureSpec): string {
  return spec.driver?.fact ?? spec.name;
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
 * Drivers are reasons a person can act on: only features that raise this customer's risk (by at
 * least MIN_DRIVER_CONTRIBUTION), whose value can be stated (isStatableDriver: no absence, no ratio
 * on a meaningless base), one per fact (the largest), largest first. A customer nothing stands out
 * for has fewer drivers, or none.
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
  const column = new Map(specs.map((s, i) => [s.name, i]));
  const facts = specs.map(driverFact);
  const out: Driver[][] = [];
  for (let r = 0; r < rows; r++) {
    const offset = r * cols;
    const row: FeatureRow = (name) => {
      const i = column.get(name);
      return i === undefined ? undefined : x.data[offset + i];
    };
    // the most telling feature of each fact
    const best = new Map<string, number>();
    for (let f = 0; f < cols; f++) {
      const c = contributions[offset + f]!;
      if (!(c >= MIN_DRIVER_CONTRIBUTION)) continue;
      const held = best.get(facts[f]!);
      if (held !== undefined && contributions[offset + held]! >= c) continue;
      if (!isStatableDriver(specs[f]!, x.data[offset + f]!, row)) continue;
      best.set(facts[f]!, f);
    }
    const chosen = [...best.values()].sort((a, b) => contributions[offset + b]! - contributions[offset + a]!).slice(0, top);
    out.push(
      chosen.map((f) => {
        const value = x.data[offset + f]!;
        return { feature: specs[f]!.name, value, contribution: contributions[offset + f]!, sentence: specs[f]!.sentence(value, row) };
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
