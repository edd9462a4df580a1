import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { decideRetention } from '../../services/retention/decide-retention.js';
import { estimateUpliftEffects } from '../../services/retention/uplift-targeting.js';
import { inngest } from '../client.js';
import type { InngestDeps } from '../deps.js';
import type { InterventionDecidedData } from '../events.js';

/** Every day at 03:00 UTC, an hour after the daily scoring fan-out. */
export const DECIDE_RETENTION_SCHEDULE = '0 3 * * *';
export const DECIDE_ACTOR = 'system:inngest-decide-retention-daily';
/** Events per sendEvent request. */
const SEND_CHUNK = 500;

/** The live treatments decided at `asOf` that still wait to be applied, as event payloads. */
async function treatmentsAwaitingApply(database: Database, asOf: number): Promise<InterventionDecidedData[]> {
  const rows = await database.query<{ id: string; account: string; customer_id: string; subscription_id: string | null; policy_id: string; policy_version: number; action: string }>(
    sql`select id, account, customer_id, subscription_id, policy_id, policy_version, action from interventions
        where decided_at = ${asOf} and arm = 'treatment' and status = 'decided' order by id`,
  );
  return rows.map((r) => ({
    interventionId: r.id,
    account: r.account,
    customerId: r.customer_id,
    subscriptionId: r.subscription_id,
    policyId: r.policy_id,
    policyVersion: Number(r.policy_version),
    treatment: r.action,
  }));
}

/**
 * The daily decision: score everyone with the champion, decide per policy (treat or hold out,
 * within budget), record the interventions, then one `churn/intervention.decided` per live
 * treatment, its Inngest id the intervention id, so a resent event applies nothing twice. Without
 * a Stripe key every policy runs as a dry run (recorded, nothing to apply, no events).
 *
 * The decision time is pinned in its own step: a retried decide step decides at the same asOf,
 * finds the rows it already recorded, and the events are read back from the table (not from what
 * the step recorded), so a run that failed half-way still emits every treatment once.
 */
export function createDecideRetentionDaily(deps: InngestDeps) {
  const client = deps.client ?? inngest;
  return client.createFunction(
    {
      id: 'decide-retention-daily',
      name: 'Decide retention offers (daily)',
      triggers: [{ cron: DECIDE_RETENTION_SCHEDULE }],
      concurrency: { limit: 1 },
    },
    async ({ step }) => {
      const asOf = await step.run('decision-time', () => deps.now());
      const decided = await step.run('decide', async () => {
        const model = deps.champion ? await deps.champion() : null;
        if (!model) return { skipped: 'no champion model yet: train one first (churn train)' as const };
        const dryRun = !deps.stripe;
        const result = await decideRetention(deps.database, { asOf, model, actor: DECIDE_ACTOR, dryRun, estimateEffects: estimateUpliftEffects });
        const recorded = result.recorded?.recorded ?? [];
        return {
          runId: result.runId,
          modelVersion: result.modelVersion,
          dryRun,
          candidates: result.candidates,
          recorded: recorded.length,
          treated: recorded.filter((r) => r.arm === 'treatment').length,
          holdout: recorded.filter((r) => r.arm === 'holdout').length,
          existing: result.recorded?.existing ?? 0,
          skippedAtWrite: result.recorded?.skipped ?? { budget: 0, cooldown: 0 },
        };
      });
      if ('skipped' in decided) return { asOf, ...decided };
      const toApply = await step.run('list-treatments-to-apply', () => treatmentsAwaitingApply(deps.database, asOf));
      for (let i = 0; i < toApply.length; i += SEND_CHUNK) {
        await step.sendEvent(
          `emit-decided-${i / SEND_CHUNK}`,
          toApply.slice(i, i + SEND_CHUNK).map((data) => ({ id: data.interventionId, name: 'churn/intervention.decided' as const, data })),
        );
      }
      return { asOf, ...decided, emitted: toApply.length };
    },
  );
}

