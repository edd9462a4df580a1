import { NonRetriableError, RetryAfterError } from 'inngest';
import Stripe from 'stripe';
import {
  ensureOfferCoupon,
  PermanentApplyError,
  performStripeAction,
  prepareApply,
  recordApplied,
  type ApplyDeps,
} from '../../services/retention/apply-intervention.js';
import { inngest } from '../client.js';
import type { InngestDeps } from '../deps.js';
import { interventionDecided } from '../events.js';

/**
 * Run starts per connected account per second. Stripe's limits are per account (100 requests a
 * second live, 25 in test mode) and one run makes at most four calls (coupon read or create,
 * subscription read, update), so 20 runs a second stay inside the live limit; a 429 is retried
 * after Stripe's own Retry-After.
 */
export const APPLY_THROTTLE = { limit: 20, period: '1s', key: 'event.data.account' } as const;
export const APPLY_RETRIES = 5;

/**
 * Runs one step of the apply; a state that can never succeed (the row is already marked failed and
 * its budget released) ends the run without retries, a rate limit waits as long as Stripe asks.
 */
async function applyStep<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof PermanentApplyError) throw new NonRetriableError(`${err.code}: ${err.message}`, { cause: err });
    if (err instanceof Stripe.errors.StripeRateLimitError) {
      const header = Number(err.headers?.['retry-after']);
      throw new RetryAfterError(`Stripe rate limit: ${err.message}`, Number.isFinite(header) && header > 0 ? header * 1000 : 1000, { cause: err });
    }
    throw err;
  }
}

/**
 * Applies one decided offer through Stripe, each call in its own step so a retry repeats only the
 * step that failed, with the same Idempotency-Key (derived from the intervention id and the step).
 * The service records the plan before calling and checks the subscription for the offer before
 * calling again, so the same event delivered twice, or a step retried after Stripe answered,
 * applies the offer once.
 */
export function createApplyIntervention(deps: InngestDeps) {
  const client = deps.client ?? inngest;
  return client.createFunction(
    {
      id: 'apply-intervention',
      name: 'Apply a retention offer',
      triggers: [interventionDecided],
      throttle: APPLY_THROTTLE,
      retries: APPLY_RETRIES,
    },
    async ({ event, step }) => {
      const { interventionId } = event.data;
      const stripe = deps.stripe;
      if (!stripe) throw new NonRetriableError(`cannot apply ${interventionId}: STRIPE_SECRET_KEY is not set`);
      const applyDeps = (): ApplyDeps => ({ database: deps.database, stripe, now: deps.now() });

      const prepared = await step.run('prepare-apply', () => applyStep(() => prepareApply(applyDeps(), interventionId)));
      if (prepared.kind === 'unchanged') return { interventionId, outcome: 'unchanged' as const, status: prepared.status };

      const coupon = await step.run('ensure-coupon', () => applyStep(() => ensureOfferCoupon(applyDeps(), prepared)));
      const actionStep = prepared.policy.definition.action.kind === 'notify' ? 'notify' : 'update-subscription';
      const performed = await step.run(actionStep, () => applyStep(() => performStripeAction(applyDeps(), prepared, coupon)));
      const recorded = await step.run('record-applied', async () => {
        const row = await recordApplied(applyDeps(), prepared, performed);
        return { status: row.status, cost: row.cost, currency: row.currency, appliedAt: row.appliedAt, stripeRequestIds: row.stripeRequestIds };
      });
      return { interventionId, outcome: performed.recovered ? ('recovered' as const) : ('applied' as const), ...recorded };
    },
  );
}
