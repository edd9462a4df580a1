import { usdPerMinorUnit } from '../../db/queries/features.sql.js';
import type { PolicyAction } from '../policies/definition.js';

/**
 * What an offer costs, in integer minor units (UPLIFT.md "Offer cost"):
 * - coupon: the discount on the invoices it covers. `once` covers the next invoice (one billing
 *   interval), `repeating` N months covers the invoices issued in those N months (at least one),
 *   `forever` is counted as 12 months, the horizon a budget can reasonably commit to;
 * - trial extension: the MRR not billed over the extra days;
 * - pause: the MRR not collected while paused;
 * - notify: nothing.
 * A month is 30.4375 days. Amounts are rounded up, so a budget is never under-counted.
 */

export const DAYS_PER_MONTH = 30.4375;
export const FOREVER_COUPON_MONTHS = 12;

export interface CostBasis {
  /** MRR before discounts, minor units of `currency` */
  mrr: number;
  currency: string;
  /** billing interval in months (1 monthly, 12 annual) */
  intervalMonths: number;
}

/** Months of billing a coupon's discount applies to. */
export function couponMonthsCovered(action: Extract<PolicyAction, { kind: 'coupon' }>, intervalMonths: number): number {
  const interval = Math.max(1, intervalMonths);
  const months = action.duration === 'once' ? interval : action.duration === 'repeating' ? action.durationInMonths! : FOREVER_COUPON_MONTHS;
  // Invoices are issued once per interval: N months of a repeating coupon discount every invoice
  // issued within them, each covering a whole interval.
  return Math.ceil(months / interval) * interval;
}

/** Cost of an action for one customer, in minor units of the customer's currency. */
export function offerCost(action: PolicyAction, basis: CostBasis): number {
  const mrr = Math.max(0, basis.mrr);
  switch (action.kind) {
    case 'coupon': {
      const months = couponMonthsCovered(action, basis.intervalMonths);
      if (action.percentOff !== undefined) return Math.ceil((mrr * months * action.percentOff) / 100);
      const interval = Math.max(1, basis.intervalMonths);
      const invoices = months / interval;
      const perInvoice = Math.min(convertMinor(action.amountOff!, action.currency!, basis.currency), mrr * interval);
      return Math.ceil(perInvoice * invoices);
    }
    case 'trial_extension':
    case 'pause':
      return Math.ceil((mrr * action.days) / DAYS_PER_MONTH);
    case 'notify':
      return 0;
  }
}

/** Converts minor units between currencies at the fixed rates the features use (rounded up). */
export function convertMinor(amount: number, from: string, to: string): number {
  if (from.toLowerCase() === to.toLowerCase()) return amount;
  return Math.ceil((amount * usdPerMinorUnit(from)) / usdPerMinorUnit(to));
}
