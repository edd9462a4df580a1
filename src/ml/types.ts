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
  /** short human sentence for a driver, e.g. (v) => `${v} failed payments in 30 days` */
  sentence: (value: number) => string;
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
