/**
 * Shared ML contracts. The feature/label side produces these; the model side (model.ts, predict.ts,
 * explain.ts, registry.ts) consumes them. The model code never knows what a feature means: it works on
 * numeric matrices plus a FeatureSet that names the columns.
 */

export interface FeatureSpec {
  name: string;
  description: string;
  kind: 'count' | 'days' | 'money' | 'ratio' | 'bool' | 'category_onehot' | 'number';
  /** the value is already log(1 + x): the model standardises it without logging it again */
  logScaled?: boolean;
  /**
   * short human sentence for a driver, e.g. (v) => `${v} failed payments in 30 days`; `row` reads the
   * customer's other features, for sentences that need them (a ratio phrased in money)
   */
  sentence: (value: number, row?: FeatureRow) => string;
  /** when and how this feature may be shown as a driver (explain.ts applies the rules; defaults by kind) */
  driver?: DriverRules;
}

/** Another feature's raw value in the same row, by name; undefined when the model has no such feature. */
export type FeatureRow = (name: string) => number | undefined;

/**
 * What makes a feature's value a reason a person can act on. explain.ts applies these to every
 * feature, so a new feature follows them by declaring its fact (and, for a ratio, its base):
 *
 * - one fact, one driver: features that measure the same fact (over several windows, or in several
 *   units) share a `fact`, and only the most telling of them (largest contribution) is shown;
 * - an absence is never a reason: `absent` values record that nothing happened or nothing is there
 *   (0 failed payments, no discount). Default: counts, bools and one-hots at 0, money that rounds
 *   to $0, ratios that round to no change;
 * - a ratio needs a meaningful base: `base` reads the amount the ratio is taken on (MRR 90 days ago)
 *   and below `minBase` the ratio is not stated (a customer who had no MRR then, a $0 trial invoice).
 *   A ratio feature without a declared base is stated only up to RATIO_CAP (10x either way).
 */
export interface DriverRules {
  /** the fact this feature states (default: the feature's name) */
  fact?: string;
  /** true when this value records an absence; replaces the default for the feature's kind */
  absent?: (value: number, row: FeatureRow) => boolean;
  /** ratio features: the amount the ratio is taken on, read from the row */
  base?: (value: number, row: FeatureRow) => number | undefined;
  /** smallest meaningful base, in the unit `base` returns */
  minBase?: number;
}

/** Versioned feature spec stored with the model (names/kinds/version only; sentences are re-bound by name). */
export interface FeatureSet {
  version: string;
  features: FeatureSpec[];
}

/** Row-major numeric matrix: value of row r, column c is data[r * cols + c]. */
export interface Matrix {
  data: Float32Array;
  rows: number;
  cols: number;
}

export interface LabelledData {
  x: Matrix;
  /** 1 = churned within horizon */
  y: Uint8Array;
  /** 0 none, 1 voluntary, 2 involuntary */
  churnType?: Uint8Array;
  /** per row, the snapshot date (days since epoch or any integer the data side chooses) */
  asOf?: Int32Array;
  /** per row, which customer it belongs to (any integer id, equal across a customer's months): model selection samples whole customers */
  groups?: Int32Array;
}

export interface Driver {
  feature: string;
  value: number;
  contribution: number;
  sentence: string;
}

export type RiskBand = 'low' | 'medium' | 'high' | 'critical';

export interface Score {
  probability: number;
  band: RiskBand;
  drivers: Driver[];
}
