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
 * (positive = this customer's value raises the risk). A fact stated by several features (failed
 * payments in 30/60/90/365 days, tenure in days and months) is also occluded as a whole, all its
 * features at once: one feature alone understates it while the others still carry the signal, so
 * the fact's driver shows the whole fact's contribution, in the sentence of its most telling
 * feature. All rows x variants go through a few large predict calls, never one call per feature.
 *
 * Drivers are reasons a person can act on: only facts that raise this customer's risk (by at
 * least MIN_DRIVER_CONTRIBUTION) stated by a feature that raises it too, whose value can be stated
 * (isStatableDriver: no absence, no ratio on a meaningless base), one per fact, largest first. A
 * customer nothing stands out for has fewer drivers, or none.
 */
export function explainMatrix(model: ChurnModel, x: Matrix, featureSet: FeatureSet = model.featureSet, options: ExplainOptions = {}): Driver[][] {
  const top = options.top ?? 3;
  const { rows, cols } = x;
  const specs = bindSpecs(model, featureSet);
  if (specs.length !== cols) throw new Error(`model expects ${specs.length} features, matrix has ${cols}`);
  const reference = options.reference ?? model.metadata.reference;
  const base = options.probabilities ?? scoreMatrix(model, x);
  const facts = specs.map(driverFact);
  // the facts stated by more than one feature, occluded whole as extra variants
  const columnsOf = new Map<string, number[]>();
  facts.forEach((fact, f) => columnsOf.set(fact, [...(columnsOf.get(fact) ?? []), f]));
  const groups = [...columnsOf.values()].filter((c) => c.length > 1);
  const groupOf = new Int32Array(cols).fill(-1);
  groups.forEach((columns, g) => columns.forEach((f) => (groupOf[f] = g)));
  const width = cols + groups.length;
  const contributions = new Float32Array(rows * cols);
  const groupContributions = new Float32Array(rows * groups.length);
  const rowsPerCall = Math.max(1, Math.floor(VARIANTS_PER_CALL / width));
  for (let start = 0; start < rows; start += rowsPerCall) {
    const count = Math.min(rowsPerCall, rows - start);
    const variants = new Float32Array(count * width * cols);
    for (let r = 0; r < count; r++) {
      const row = x.data.subarray((start + r) * cols, (start + r + 1) * cols);
      for (let v = 0; v < width; v++) {
        const offset = (r * width + v) * cols;
        variants.set(row, offset);
        if (v < cols) variants[offset + v] = reference[v]!;
        else for (const f of groups[v - cols]!) variants[offset + f] = reference[f]!;
      }
    }
    const occluded = scoreMatrix(model, { data: variants, rows: count * width, cols });
    for (let r = 0; r < count; r++) {
      const p = base[start + r]!;
      for (let f = 0; f < cols; f++) contributions[(start + r) * cols + f] = p - occluded[r * width + f]!;
      for (let g = 0; g < groups.length; g++) groupContributions[(start + r) * groups.length + g] = p - occluded[r * width + cols + g]!;
    }
  }
  const column = new Map(specs.map((s, i) => [s.name, i]));
  const out: Driver[][] = [];
  for (let r = 0; r < rows; r++) {
    const offset = r * cols;
    const row: FeatureRow = (name) => {
      const i = column.get(name);
      return i === undefined ? undefined : x.data[offset + i];
    };
    // each fact's most telling statable feature, and what the whole fact contributes
    const best = new Map<string, { feature: number; contribution: number }>();
    for (let f = 0; f < cols; f++) {
      const own = contributions[offset + f]!;
      if (!(own > 0)) continue;
      const fact = facts[f]!;
      const held = best.get(fact);
      if (held !== undefined && contributions[offset + held.feature]! >= own) continue;
      if (!isStatableDriver(specs[f]!, x.data[offset + f]!, row)) continue;
      const g = groupOf[f]!;
      const contribution = g < 0 ? own : groupContributions[r * groups.length + g]!;
      best.set(fact, { feature: f, contribution });
    }
    const chosen = [...best.values()]
      .filter((b) => b.contribution >= MIN_DRIVER_CONTRIBUTION)
      .sort((a, b) => b.contribution - a.contribution)
      .slice(0, top);
    out.push(
      chosen.map(({ feature: f, contribution }) => {
        const value = x.data[offset + f]!;
        return { feature: specs[f]!.name, value, contribution, sentence: specs[f]!.sentence(value, row) };
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
