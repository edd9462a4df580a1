import { stripeId } from './random.js';

/**
 * The products a simulated account sells: a flat starter plan and two per-seat plans, each
 * monthly and annual, plus the introductory coupon some customers sign up with (its end is one
 * of the observable churn signals). Amounts are integer minor units of the account currency.
 */
export interface CatalogPrice {
  id: string;
  product: string;
  tier: number;
  interval: 'month' | 'year';
  unitAmount: number;
  perSeat: boolean;
  nickname: string;
}

export interface Catalog {
  currency: string;
  country: string;
  created: number;
  products: { id: string; name: string; tier: number }[];
  /** prices[tier][0 = month, 1 = year] */
  prices: CatalogPrice[][];
  introCoupon: { id: string; percentOff: number; durationInMonths: number; created: number };
}

export const TIERS = ['Starter', 'Team', 'Business'] as const;
export const TIER_COUNT = TIERS.length;
const MONTHLY_UNIT = [1900, 1200, 2900];
const ACCOUNT_CURRENCIES: [string, string][] = [['usd', 'US'], ['eur', 'DE'], ['gbp', 'GB'], ['eur', 'FR'], ['usd', 'CA']];

/** Owner numbers above every customer index, reserved for catalog objects of each account. */
export function catalogOwner(accountIndex: number): number {
  return 0xf0000000 + accountIndex;
}

export function buildCatalog(seed: number, accountIndex: number, connect: boolean, created: number): Catalog {
  const owner = catalogOwner(accountIndex);
  const [currency, country] = connect ? ACCOUNT_CURRENCIES[accountIndex % ACCOUNT_CURRENCIES.length]! : ['usd', 'US'];
  const products = TIERS.map((name, tier) => ({ id: stripeId('prod', seed, owner, tier), name, tier }));
  const prices = TIERS.map((name, tier) =>
    (['month', 'year'] as const).map((interval, i) => ({
      id: stripeId('price', seed, owner, tier * 2 + i),
      product: products[tier]!.id,
      tier,
      interval,
      // annual plans cost ten months
      unitAmount: interval === 'month' ? MONTHLY_UNIT[tier]! : MONTHLY_UNIT[tier]! * 10,
      perSeat: tier > 0,
      nickname: `${name} ${interval === 'month' ? 'monthly' : 'annual'}${tier > 0 ? ' per seat' : ''}`,
    })),
  );
  return {
    currency,
    country,
    created,
    products,
    prices,
    introCoupon: { id: `intro25_${accountIndex}`, percentOff: 25, durationInMonths: 3, created },
  };
}
