import { describe, expect, it } from 'vitest';
import { featureSet } from '../../src/ml/features.js';
import { MLP_DEFAULTS } from '../../src/ml/model.js';
import { columnTransform, fitNormalisation, normaliseMatrix } from '../../src/ml/normalisation.js';

describe('input scaling happens once', () => {
  const set = featureSet();
  const transforms = new Map(set.features.map((f) => [f.name, columnTransform(f, MLP_DEFAULTS.logKinds)]));

  it('does not log a feature that is already log(1 + x)', () => {
    for (const name of ['mrr_usd_log', 'mrr_paid_usd_log', 'price_per_seat_usd_log', 'seats_log', 'open_invoice_amount_log']) expect(transforms.get(name)).toBe('none');
  });

  it('still logs raw money and count features', () => {
    expect(transforms.get('failed_payments_90d')).toBe('signed_log1p');
    expect(transforms.get('open_invoices')).toBe('signed_log1p');
  });

  it('standardises an already-logged MRR column linearly (a doubling of log-MRR doubles its distance from the mean)', () => {
    const cols = set.features.length;
    const c = set.features.findIndex((f) => f.name === 'mrr_usd_log');
    const rows = 3;
    const data = new Float32Array(rows * cols);
    [Math.log1p(10), Math.log1p(100), Math.log1p(1000)].forEach((v, r) => (data[r * cols + c] = v));
    const x = { data, rows, cols };
    const n = fitNormalisation(x, set, MLP_DEFAULTS.logKinds);
    const z = normaliseMatrix(x, n);
    // equally spaced log values stay equally spaced (log1p again would squash the top one)
    const [a, b, d] = [z[c]!, z[cols + c]!, z[2 * cols + c]!];
    expect(d - b).toBeCloseTo(b - a, 1);
  });
});
