import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { featureMatrixForScope, featureSet } from '../../ml/features.js';
import { fitUpliftModel, predictEffects, validateUpliftModel, type UpliftModel, type UpliftValidation } from '../../ml/uplift.js';
import type { Matrix } from '../../ml/types.js';
import { customerKey, type PolicyForDecision } from './decide.js';
import type { EffectEstimator } from './decide-retention.js';

/**
 * Effect estimates for uplift policies, learned from each policy's own settled outcomes: for every
 * treated and held-out customer, the point-in-time features at the decision and the churn model's
 * probability then, against whether they churned within the horizon (src/ml/uplift.ts). Until a
 * policy has `minOutcomesPerArm` settled outcomes in each arm it gets no estimates, and decide.ts
 * falls back to risk targeting and says so.
 *
 * The effect model looks at the facts a response to an offer plausibly depends on in any
 * subscription business (price level and what is paid, billing interval, contraction of seats and
 * plan, payment trouble, discount history, trial, tenure), not all 64 features: with a few hundred
 * outcomes, fewer effect parameters are estimated better. Which of them matter, and how, is learned.
 */
export const UPLIFT_FEATURES = [
  'tenure_months_log',
  'mrr_usd_log',
  'mrr_paid_usd_log',
  'price_per_seat_usd_log',
  'interval_months',
  'seats_vs_start',
  'seat_decreases_60d',
  'downgrades_60d',
  'upgrades_60d',
  'failed_payments_30d',
  'failed_payments_90d',
  'dunning_attempt',
  'past_due',
  'card_expires_before_renewal',
  'discount_active',
  'days_since_discount_ended',
  'trialing',
  'refunds_90d',
  'disputes_90d',
];

interface SettledRow {
  account: string;
  customer_id: string;
  decided_at: string | number;
  arm: string;
  outcome: string;
  probability: number;
}

export interface LearnedEffects {
  policyId: string;
  treated: number;
  holdout: number;
  model: UpliftModel;
  validation?: UpliftValidation;
}

/** Training rows for one policy: features at each decision time, arm, outcome, the score then. */
async function trainingRows(database: Database, policyId: string): Promise<{ x: Matrix; arm: Uint8Array; churned: Uint8Array; probability: Float64Array; treated: number; holdout: number } | null> {
  const rows = await database.query<SettledRow>(
    sql`select account, customer_id, decided_at, arm, outcome, probability from interventions
        where policy_id = ${policyId} and outcome is not null and status in ('applied', 'holdout')
        order by decided_at, account, customer_id`,
  );
  if (rows.length === 0) return null;
  const byTime = new Map<number, SettledRow[]>();
  for (const r of rows) {
    const t = Number(r.decided_at);
    const list = byTime.get(t);
    if (list) list.push(r);
    else byTime.set(t, [r]);
  }
  const cols = featureSet().features.length;
  const data: number[][] = [];
  const arm: number[] = [];
  const churned: number[] = [];
  const probability: number[] = [];
  for (const [at, list] of byTime) {
    const accounts = [...new Set(list.map((r) => r.account))];
    const m = await featureMatrixForScope(database, at, { kind: 'accounts', accounts });
    const rowOf = new Map(m.keys.map((k, i) => [customerKey(k.account, k.customerId), i]));
    for (const r of list) {
      const i = rowOf.get(customerKey(r.account, r.customer_id));
      if (i === undefined) continue;
      data.push(Array.from(m.matrix.data.subarray(i * cols, (i + 1) * cols)));
      arm.push(r.arm === 'treatment' ? 1 : 0);
      churned.push(r.outcome === 'churned' ? 1 : 0);
      probability.push(r.probability);
    }
  }
  const x: Matrix = { data: Float32Array.from(data.flat()), rows: data.length, cols };
  const treated = arm.reduce((s, a) => s + a, 0);
  return { x, arm: Uint8Array.from(arm), churned: Uint8Array.from(churned), probability: Float64Array.from(probability), treated, holdout: arm.length - treated };
}

/** Fits the effect model of one policy, or null when its outcomes do not suffice yet. */
export async function learnPolicyEffects(database: Database, policy: PolicyForDecision, options: { validate?: boolean; seed?: number } = {}): Promise<LearnedEffects | null> {
  const t = policy.definition.targeting;
  const minPerArm = t.kind === 'uplift' ? t.minOutcomesPerArm : 100;
  const rows = await trainingRows(database, policy.id);
  if (!rows || rows.treated < minPerArm || rows.holdout < minPerArm) return null;
  const input = { x: rows.x, featureNames: featureSet().features.map((f) => f.name), arm: rows.arm, churned: rows.churned, baselineProbability: rows.probability };
  const fit = { features: UPLIFT_FEATURES, seed: options.seed ?? 1 };
  const model = fitUpliftModel(input, fit);
  const validation = options.validate ? validateUpliftModel(input, fit) : undefined;
  return { policyId: policy.id, treated: rows.treated, holdout: rows.holdout, model, validation };
}

export function createUpliftEstimator(options: { onLearned?: (learned: LearnedEffects) => void; validate?: boolean } = {}): EffectEstimator {
  return async ({ database, policies, candidates }) => {
    const out = new Map<string, Map<string, number>>();
    const names = featureSet().features.map((f) => f.name);
    for (const policy of policies) {
      if (policy.definition.targeting.kind !== 'uplift') continue;
      const learned = await learnPolicyEffects(database, policy, { validate: options.validate });
      if (!learned) continue;
      options.onLearned?.(learned);
      const effects = predictEffects(learned.model, {
        x: candidates.features.matrix,
        featureNames: names,
        baselineProbability: candidates.candidates.map((c) => c.probability),
      });
      out.set(policy.id, new Map(candidates.candidates.map((c, i) => [customerKey(c.account, c.customerId), effects[i]!])));
    }
    return out;
  };
}

export const estimateUpliftEffects: EffectEstimator = createUpliftEstimator();
