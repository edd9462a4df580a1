import type Stripe from 'stripe';
import { DEFAULT_START, simulateToSink, type ActionLookup, type ActionState, type EventSink, type SimulationHooks, type SimulationSummary, type WorldOptions } from '../world/index.js';
import type { SandboxStore, StripeObject } from './store.js';

/**
 * The seam between the world generator and the sandbox (notes: sandbox-contract.md): the world writes
 * its events into the store, and reads back what the product did to each subscription through the API.
 */

/** A world event sink that records each event in the store and moves the store's clock with it. */
export function storeEventSink(store: SandboxStore): EventSink {
  return {
    write(event: Stripe.Event) {
      if (event.created > store.now()) store.setNow(event.created);
      store.applyEvent(event);
    },
  };
}

function couponIdOf(discount: StripeObject | undefined): string | null {
  if (!discount) return null;
  const source = discount.source as { coupon?: unknown } | undefined;
  const coupon = source?.coupon ?? discount.coupon;
  if (typeof coupon === 'string') return coupon;
  if (coupon && typeof coupon === 'object' && typeof (coupon as { id?: unknown }).id === 'string') return (coupon as { id: string }).id;
  return null;
}

/** What the product has applied to a subscription (coupons, trial end, pause, cancel), from the store. */
export function storeActionLookup(store: SandboxStore): ActionLookup {
  return (account, subscriptionId): ActionState | null => {
    const subscription = store.getObject<StripeObject>(account, 'subscription', subscriptionId);
    if (!subscription) return null;
    const discountIds = (Array.isArray(subscription.discounts) ? subscription.discounts : []).map((d) =>
      typeof d === 'string' ? d : (d as { id: string }).id,
    );
    const couponIds: string[] = [];
    for (const id of discountIds) {
      const coupon = couponIdOf(store.getObject<StripeObject>(account, 'discount', id));
      if (coupon) couponIds.push(coupon);
    }
    // API versions before 2025-03-31 carry a single `discount` object instead.
    const legacy = subscription.discount as StripeObject | null | undefined;
    const legacyCoupon = couponIdOf(legacy ?? undefined);
    if (legacyCoupon && !couponIds.includes(legacyCoupon)) couponIds.push(legacyCoupon);
    const pause = subscription.pause_collection as { behavior: string; resumes_at: number | null } | null | undefined;
    return {
      couponIds,
      discountIds,
      trialEnd: typeof subscription.trial_end === 'number' ? subscription.trial_end : null,
      pauseCollection: pause ? { behavior: pause.behavior, resumes_at: pause.resumes_at ?? null } : null,
      cancelAtPeriodEnd: subscription.cancel_at_period_end === true,
    };
  };
}

/** Fills the store with a generated world (`churn stripe-sandbox --customers N --seed S --months M`). */
export async function loadWorld(store: SandboxStore, options: WorldOptions, hooks?: SimulationHooks): Promise<SimulationSummary> {
  // The store's clock follows the world: it starts at month 0 and ends at the end of the last month.
  store.setNow(options.start ?? DEFAULT_START);
  const summary = await simulateToSink({ apiVersion: store.apiVersion, ...options }, storeEventSink(store), undefined, hooks);
  store.setNow(summary.end);
  return summary;
}
