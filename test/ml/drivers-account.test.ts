import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { initBackend } from '../../src/ml/backend.js';
import { featureIndex, featureMatrixAt, featureSet } from '../../src/ml/features.js';
import { loadModelFiles } from '../../src/ml/registry.js';
import { scoreAllCustomers, type ScoredCustomer } from '../../src/services/scoring/score-all-customers.js';
import { trainChurnModel } from '../../src/services/training/train-model.js';
import { simulateIntoDatabase } from '../../training/data.js';
import { createTestDatabase } from '../helpers/db.js';

/**
 * Drivers a customer-success person can act on, checked over every customer of a whole simulated
 * account scored by a real (small, quickly trained) model. The checks read the sentences a person
 * reads, independently of how explain.ts groups features, so they judge the output, not the rules.
 */

/** Topics a person would call "the same fact": at most one driver per topic. */
const TOPICS: [string, RegExp][] = [
  ['tenure', /customer for|subscription (running|.*old)/],
  ['failed payments', /failed payment/],
  ['payment overdue now', /in dunning|past due|unpaid/],
  ['MRR level', /^MRR about|pays about .* a month/],
  ['MRR change', /MRR (up|down|grew|fell|went)/],
  // in per-seat plans a seat reduction is a downgrade: seat and plan moves are one fact
  ['plan and seat moves', /upgrade|downgrade|plan move|plan change|seats? (grew|shrank|reduced|went|change)|seats in 90 days|of the starting seats/],
  ['refunds', /refund/],
  ['card expiry', /card expire|expired card|card valid/],
  ['discount', /discount/],
  ['trial', /trial/],
  ['renewal timing', /renews in|next charge in|renewal charge/],
  ['payment speed', /pays invoices in|paid late/],
];

/** A sentence that reports that something did not happen or is not there. */
function statesAnAbsence(sentence: string): boolean {
  // A customer with no payment method at all is a present, actionable state (ask for a card).
  if (sentence === 'no payment method on file') return false;
  return /^(no|not|does not)\b/.test(sentence) || /(^|[^\d.,])[+$-]?0(%| [a-z])/.test(sentence) || /in good standing|charged automatically|on the platform account/.test(sentence);
}

function percentages(sentence: string): number[] {
  return [...sentence.matchAll(/(\d[\d,]*)%/g)].map((m) => Number(m[1]!.replace(/,/g, '')));
}

describe('drivers over a whole scored simulated account [postgres]', () => {
  let db: Database;
  let modelDir: string;
  let customers: ScoredCustomer[];
  let tenureDays: Map<string, number>;

  beforeAll(async () => {
    await initBackend();
    db = await createTestDatabase('postgres');
    modelDir = await mkdtemp(join(tmpdir(), 'churn-drivers-'));
    const sim = await simulateIntoDatabase(db, { customers: 700, months: 10, seed: 5, quiet: true });
    const end = sim.summary.end;
    const trained = await trainChurnModel(db, { modelDir, seed: 2, now: new Date(end * 1000), modelOptions: { maxEpochs: 12 } });
    const version = trained.promotedVersion ?? trained.version;
    const model = await loadModelFiles(join(modelDir, 'churn', version), featureSet());
    const result = await scoreAllCustomers(db, { asOf: end - 1, model, store: false });
    customers = result.customers;
    const live = await featureMatrixAt(db, end - 1);
    const t = featureIndex('tenure_days');
    tenureDays = new Map(live.keys.map((k, r) => [`${k.account}/${k.customerId}`, live.matrix.data[r * live.matrix.cols + t]!]));
    model.network.dispose();
  }, 240_000);
  afterAll(async () => {
    await db?.close();
    if (modelDir) await rm(modelDir, { recursive: true, force: true });
  });

  const offenders = (check: (c: ScoredCustomer) => string | null) =>
    customers.map((c) => check(c)).filter((x): x is string => x !== null).slice(0, 10);
  const show = (c: ScoredCustomer) => `${c.customerId}: ${c.drivers.map((d) => `${d.sentence} (${d.contribution.toFixed(4)})`).join('; ')}`;

  it('scores a real account, and the riskiest customers have drivers', () => {
    expect(customers.length).toBeGreaterThan(200);
    // the riskiest tenth by probability: a calibrated model on a 700-customer account may put no
    // one in the high band (30-day churn is a few per cent), so the band is not the test
    const risky = [...customers].sort((a, b) => b.probability - a.probability).slice(0, Math.ceil(customers.length / 10));
    expect(risky.length).toBeGreaterThan(20);
    expect(risky.at(-1)!.probability).toBeGreaterThan(customers.reduce((s, c) => s + c.probability, 0) / customers.length);
    expect(risky.filter((c) => c.drivers.length === 0).length).toBeLessThan(risky.length / 10);
  });

  it('shows no driver whose contribution is zero or negative', () => {
    expect(offenders((c) => (c.drivers.some((d) => !(d.contribution > 0)) ? show(c) : null))).toEqual([]);
  });

  it('never shows an absence as a reason', () => {
    expect(offenders((c) => (c.drivers.some((d) => statesAnAbsence(d.sentence)) ? show(c) : null))).toEqual([]);
  });

  it('never states one fact twice, nor lists one fact over several windows', () => {
    expect(
      offenders((c) => {
        const sentences = c.drivers.map((d) => d.sentence);
        if (new Set(sentences).size !== sentences.length) return show(c);
        for (const [topic, re] of TOPICS) if (sentences.filter((s) => re.test(s)).length > 1) return `${topic} twice: ${show(c)}`;
        // features of one fact over several windows share a stem (failed_payments_30d, _90d, ...)
        const stems = c.drivers.map((d) => d.feature.replace(/_(\d+d|log|days|months_log)$/, ''));
        if (new Set(stems).size !== stems.length) return `same stem twice: ${show(c)}`;
        return null;
      }),
    ).toEqual([]);
  });

  it('shows no absurd ratio: no change over 1000 %, no change in MRR over 90 days for a customer younger than that', () => {
    expect(offenders((c) => (c.drivers.some((d) => percentages(d.sentence).some((p) => p > 1000)) ? show(c) : null))).toEqual([]);
    expect(
      offenders((c) => {
        const tenure = tenureDays.get(`${c.account}/${c.customerId}`)!;
        return tenure < 90 && c.drivers.some((d) => /MRR .*in 90 days/.test(d.sentence)) ? `${tenure.toFixed(0)} days old: ${show(c)}` : null;
      }),
    ).toEqual([]);
  });
});
