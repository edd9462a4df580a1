import type { Command } from 'commander';
import { sql } from 'drizzle-orm';
import { isoDay, systemNow } from '../lib/clock.js';
import { createProgress } from '../lib/progress.js';
import { applyIntervention, PermanentApplyError } from '../services/retention/apply-intervention.js';
import { decideRetention } from '../services/retention/decide-retention.js';
import { createAccountThrottle } from '../services/retention/throttle.js';
import { estimateUpliftEffects } from '../services/retention/uplift-targeting.js';
import { createStripeClient } from '../stripe/client.js';
import { championAndAsOf } from './champion.js';
import { asOfOption, intOption, withDatabase } from './context.js';
import { describeSummary } from './policies.js';

export function registerAct(program: Command): void {
  program
    .command('act')
    .description('score every customer, decide with the enabled policies (treated and held out) and apply the offers through the Stripe API, each exactly once')
    .option('--as-of <iso>', 'decide as of this time (default: newest stored event)')
    .option('--dry-run', 'record what would be done and call nothing (also the case when STRIPE_SECRET_KEY is unset)')
    .option('--rate <per second>', 'Stripe requests per second per account (Stripe allows about 100 live, 25 in test mode)', '20')
    .action(async (opts: { asOf?: string; dryRun?: boolean; rate?: string }) => {
      const asOfFlag = asOfOption(opts.asOf);
      const rate = intOption('rate', opts.rate, 20);
      await withDatabase(async (database, env) => {
        const { model, asOf } = await championAndAsOf(database, env, asOfFlag);
        const noKey = !env.STRIPE_SECRET_KEY;
        const dryRun = opts.dryRun === true || noKey;
        if (noKey && !opts.dryRun) process.stdout.write('STRIPE_SECRET_KEY is not set: every policy runs as a dry run\n');
        const result = await decideRetention(database, { asOf, model, dryRun, actor: 'cli', estimateEffects: estimateUpliftEffects });
        process.stdout.write(`as of ${isoDay(asOf)}, ${result.candidates} scored customer(s), model ${result.modelVersion}\n`);
        for (const s of result.decided.policies) process.stdout.write(`${describeSummary(s, 'decided')}\n`);
        const recorded = result.recorded!;
        if (recorded.existing) process.stdout.write(`${recorded.existing} decision(s) at this time were already recorded (a re-run changes nothing)\n`);
        if (recorded.skipped.budget || recorded.skipped.cooldown) {
          process.stdout.write(`refused at write time: ${recorded.skipped.budget} over budget, ${recorded.skipped.cooldown} inside a cooldown (another decision got there first)\n`);
        }
        if (dryRun) {
          process.stdout.write('dry run: nothing was sent to Stripe\n');
          return;
        }
        // This run's treatments, and any earlier one a failure left decided or half-applied (retried
        // with the same idempotency keys and the stored plan, so never applied twice).
        const toApply = await database.query<{ id: string; account: string; customer_id: string }>(
          sql`select id, account, customer_id from interventions where status in ('decided', 'applying') and decided_at <= ${asOf} order by decided_at, id`,
        );
        const earlier = toApply.length - recorded.recorded.filter((r) => r.status === 'decided').length;
        if (toApply.length === 0) {
          process.stdout.write('nothing to apply\n');
          return;
        }
        if (earlier > 0) process.stdout.write(`${earlier} earlier decision(s) not yet applied are retried\n`);
        const stripe = createStripeClient({ secretKey: env.STRIPE_SECRET_KEY!, apiBase: env.STRIPE_API_BASE });
        const throttle = createAccountThrottle({ perSecond: Math.max(1, rate) });
        const knownCoupons = new Set<string>();
        const bar = createProgress('applying offers', toApply.length);
        let applied = 0;
        const failures: string[] = [];
        for (const r of toApply) {
          try {
            // Stripe checks trial ends and resume dates against its own clock: an --as-of in the past must not plan them in the past.
            await applyIntervention({ database, stripe, now: Math.max(asOf, systemNow()), interventionId: r.id, throttle, knownCoupons });
            applied++;
          } catch (err) {
            failures.push(`${r.id} (${r.customer_id}): ${(err as Error).message}${err instanceof PermanentApplyError ? '' : ' (will be retried by the next run)'}`);
          }
          bar.tick();
        }
        bar.stop();
        process.stdout.write(`applied ${applied} offer(s) through Stripe${failures.length ? `; ${failures.length} failed:` : ''}\n`);
        for (const f of failures.slice(0, 20)) process.stdout.write(`  ${f}\n`);
        if (failures.length) process.exitCode = 1;
      });
    });
}
