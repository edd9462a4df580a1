import type { Database } from '../../db/client.js';
import { decisionRuns } from '../../db/schema/index.js';
import { newId } from '../../lib/ids.js';
import { inSyncSpan } from '../../lib/tracing.js';
import type { ChurnModel } from '../../ml/model.js';
import { listPolicies } from '../policies/store.js';
import { scoreAllCustomers } from '../scoring/score-all-customers.js';
import { budgetMonthOf, budgetUsed } from './budget.js';
import { loadCandidates, loadPriorOffers, type CandidateSet } from './candidates.js';
import { decide, type DecideResult, type PolicyForDecision } from './decide.js';
import { recordDecisions, type PolicyRef, type RecordResult } from './record-decisions.js';

/**
 * Score → candidates → decide → record, the first half of `churn act` (the second half applies the
 * recorded treatments through Stripe). Separate so the daily Inngest workflow can fan the applying
 * out to one function run per intervention, and so `churn policies simulate` can stop after deciding.
 */

export interface EffectEstimator {
  /** effect estimates (holdout − treated churn probability) for uplift policies whose model is trusted */
  (input: { database: Database; asOf: number; policies: PolicyForDecision[]; candidates: CandidateSet }): Promise<Map<string, Map<string, number>>>;
}

export interface DecideRetentionInput {
  asOf: number;
  model: ChurnModel;
  /** only these policies (ids); default every enabled policy */
  policyIds?: string[];
  /** decide with these definitions instead of the stored ones (simulating an unsaved draft) */
  policies?: PolicyForDecision[];
  /** record nothing and call nothing: what would happen */
  simulate?: boolean;
  /** every policy in dry-run whatever its mode (also when no Stripe key is configured) */
  dryRun?: boolean;
  actor: string;
  estimateEffects?: EffectEstimator;
  /** score again even if scores at asOf exist (default: always score; cheap and point in time) */
  onProgress?: (stage: string) => void;
}

export interface DecideRetentionResult {
  runId: string | null;
  asOf: number;
  modelVersion: string;
  decided: DecideResult;
  recorded: RecordResult | null;
  candidates: number;
}

export async function decideRetention(database: Database, input: DecideRetentionInput): Promise<DecideRetentionResult> {
  input.onProgress?.('scoring');
  const scored = await scoreAllCustomers(database, { asOf: input.asOf, model: input.model, store: !input.simulate });
  input.onProgress?.('deciding');
  const candidates = await loadCandidates(database, { asOf: input.asOf, scored: scored.customers, modelVersion: scored.modelVersion });
  let policies: PolicyForDecision[] = input.policies ?? (await listPolicies(database)).map((p) => ({ id: p.id, version: p.version, definition: p.definition }));
  if (input.policyIds) policies = policies.filter((p) => input.policyIds!.includes(p.id));
  const month = budgetMonthOf(input.asOf);
  const [history, used] = await Promise.all([loadPriorOffers(database, input.asOf), budgetUsed(database, month)]);
  const budgetLeft = new Map(policies.map((p) => [p.id, Math.max(0, p.definition.budget.monthlyAmount - (used.get(p.id)?.reserved ?? 0))]));
  const effects = input.estimateEffects ? await input.estimateEffects({ database, asOf: input.asOf, policies, candidates }) : undefined;
  const decided = inSyncSpan('decide retention', { 'churn.policies': policies.length, 'churn.candidates': candidates.candidates.length }, () => decide({ asOf: input.asOf, policies, candidates: candidates.candidates, history, budgetLeft, effects, dryRun: input.dryRun }));
  if (input.simulate) return { runId: null, asOf: input.asOf, modelVersion: scored.modelVersion, decided, recorded: null, candidates: candidates.candidates.length };

  input.onProgress?.('recording');
  const refs = new Map<string, PolicyRef>(policies.map((p) => [p.id, p]));
  const recorded = await recordDecisions(database, { asOf: input.asOf, decisions: decided.decisions, policies: refs, dryRun: input.dryRun });
  const runId = newId('run');
  await database.db.insert(decisionRuns).values({
    id: runId,
    asOf: input.asOf,
    dryRun: input.dryRun ? 1 : 0,
    createdBy: input.actor,
    summary: {
      modelVersion: scored.modelVersion,
      candidates: candidates.candidates.length,
      unmatched: decided.unmatched,
      policies: decided.policies,
      recorded: recorded.recorded.length,
      existing: recorded.existing,
      skippedAtWrite: recorded.skipped,
    },
  });
  return { runId, asOf: input.asOf, modelVersion: scored.modelVersion, decided, recorded, candidates: candidates.candidates.length };
}
