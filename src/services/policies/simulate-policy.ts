import type { Database } from '../../db/client.js';
import { ChurnError } from '../../lib/errors.js';
import { dataWindow } from '../../ml/dataset.js';
import type { ChurnModel } from '../../ml/model.js';
import { decideRetention, type EffectEstimator } from '../retention/decide-retention.js';
import type { PolicyDecisionSummary } from '../retention/decide.js';
import type { PolicyDefinition } from './definition.js';
import { currentPolicy, mergePolicyChange, type Actor } from './store.js';

export interface SimulatePolicyInput {
  id: string;
  /**
   * an unsaved change, merged onto the current version exactly as an update would merge it
   * (so the preview is what saving it would decide); validated, never stored
   */
  draft?: Record<string, unknown>;
  /** decision time; default the end of the stored billing data */
  asOf?: number;
  model: ChurnModel | null | undefined;
  actor: Actor;
  estimateEffects?: EffectEstimator;
}

export interface SimulatePolicyResult {
  asOf: number;
  modelVersion: string;
  candidates: number;
  policies: PolicyDecisionSummary[];
  /** whether a draft was simulated, and the definition that was */
  draft: boolean;
  definition: PolicyDefinition;
}

/** What one policy (or an unsaved draft of it) would decide now with the champion: records nothing, calls nothing. */
export async function simulatePolicy(database: Database, input: SimulatePolicyInput): Promise<SimulatePolicyResult> {
  const current = await currentPolicy(database.db, input.id);
  if (!current) throw new ChurnError('NOT_FOUND', `no policy ${input.id}`);
  const definition = input.draft ? mergePolicyChange(current.definition, input.draft) : current.definition;
  if (!input.model) throw new ChurnError('CONFLICT', 'no champion model is loaded: train and promote one first');
  const asOf = input.asOf ?? (await dataWindow(database))?.end;
  if (asOf === undefined) throw new ChurnError('CONFLICT', 'no billing data to score yet');
  const result = await decideRetention(database, {
    asOf,
    model: input.model,
    policyIds: [input.id],
    policies: [{ id: current.id, version: current.version, definition }],
    simulate: true,
    actor: input.actor,
    estimateEffects: input.estimateEffects,
  });
  return { asOf, modelVersion: result.modelVersion, candidates: result.candidates, policies: result.decided.policies, draft: input.draft !== undefined, definition };
}
