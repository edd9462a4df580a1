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
/** Events per page and sendEvent request. */
const SEND_CHUNK = 500;

/**
 * One page (by id) of the live treatments decided at `asOf` that still wait to be applied, as
 * event payloads; pages keep every step's output small however many offers one day makes.
 */
async function treatmentsAwaitingApply(database: Database, asOf: number, afterId: string | null, limit: number): Promise<InterventionDecidedData[]> {
  const after = afterId === null ? sql`true` : sql`id > ${afterId}`;
  const rows = await database.query<{ id: string; account: string; customer_id: string; subscription_id: string | null; policy_id: string; policy_version: number; action: string }>(
    sql`select id, account, customer_id, subscription_id, policy_id, policy_version, action from interventions
        where decided_at = ${asOf} and arm = 'treatment' and status = 'decided' and ${after} order by id limit ${limit}`,
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
      let emitted = 0;
      let afterId: string | null = null;
      for (let page = 0; ; page++) {
        const from: string | null = afterId;
        const toApply: InterventionDecidedData[] = await step.run(`list-treatments-${page}`, () => treatmentsAwaitingApply(deps.database, asOf, from, SEND_CHUNK));
        if (toApply.length === 0) break;
        await step.sendEvent(
          `emit-decided-${page}`,
          toApply.map((data) => ({ id: data.interventionId, name: 'churn/intervention.decided' as const, data })),
        );
        emitted += toApply.length;
        afterId = toApply.at(-1)!.interventionId;
        if (toApply.length < SEND_CHUNK) break;
      }
      return { asOf, ...decided, emitted };
    },
  );
}

