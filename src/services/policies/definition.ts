import { z } from 'zod';

/**
 * What a growth team writes to say who gets which retention offer, validated field by field so
 * an invalid policy is refused with the path of the failing field ("action.percentOff: …").
 * Money is integer minor units with its currency; durations are whole days.
 */

const minor = z.number().int('must be a whole number of minor units (cents)').nonnegative('must be >= 0');
const currency = z
  .string()
  .regex(/^[a-z]{3}$/, 'must be a lower-case ISO currency code such as "usd"');
const band = z.enum(['low', 'medium', 'high', 'critical']);

export const segmentSchema = z
  .object({
    /** Stripe product ids (prod_…) the customer's main subscription must hold; empty = any */
    products: z.array(z.string().min(1)).default([]),
    /** Stripe price ids (price_…); empty = any */
    prices: z.array(z.string().min(1)).default([]),
    /** MRR range in minor units of the customer's currency, converted to `currency` at fixed rates */
    mrrMin: minor.optional(),
    mrrMax: minor.optional(),
    tenureDaysMin: z.number().int().nonnegative().optional(),
    tenureDaysMax: z.number().int().nonnegative().optional(),
    /** connected account ids (acct_…) or 'platform'; empty = all */
    accounts: z.array(z.string().min(1)).default([]),
    /**
     * the kind of churn the customer is heading for, read from billing state: involuntary =
     * a failed payment in 30 days, an unpaid invoice, or a card that expires before the renewal
     */
    churnType: z.enum(['any', 'voluntary', 'involuntary']).default('any'),
    /** risk bands; empty = any */
    bands: z.array(band).default([]),
  })
  .strict()
  .refine((s) => s.mrrMin === undefined || s.mrrMax === undefined || s.mrrMin <= s.mrrMax, { message: 'mrrMin must be <= mrrMax', path: ['mrrMin'] })
  .refine((s) => s.tenureDaysMin === undefined || s.tenureDaysMax === undefined || s.tenureDaysMin <= s.tenureDaysMax, {
    message: 'tenureDaysMin must be <= tenureDaysMax',
    path: ['tenureDaysMin'],
  });

export const targetingSchema = z.discriminatedUnion('kind', [
  /** everyone in the segment at or above a calibrated churn probability */
  z.object({ kind: z.literal('threshold'), minProbability: z.number().gt(0).lt(1) }).strict(),
  /** the riskiest `percent` % of the segment's customers */
  z.object({ kind: z.literal('top_percent'), percent: z.number().gt(0).max(100) }).strict(),
  /**
   * customers whose expected incremental saved value (effect × MRR × months kept) exceeds the
   * offer's cost, from an effect model learned on this policy's own treated and holdout
   * outcomes; until enough outcomes exist, falls back to `fallbackMinProbability`
   */
  z
    .object({
      kind: z.literal('uplift'),
      fallbackMinProbability: z.number().gt(0).lt(1),
      /** minimum settled outcomes in each arm before the effect model is trusted */
      minOutcomesPerArm: z.number().int().min(20).default(100),
    })
    .strict(),
]);

export const actionSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('coupon'),
      percentOff: z.number().gt(0).max(100).optional(),
      amountOff: z.number().int().positive().optional(),
      /** currency of amountOff */
      currency: currency.optional(),
      duration: z.enum(['once', 'repeating', 'forever']),
      durationInMonths: z.number().int().min(1).max(36).optional(),
    })
    .strict()
    .refine((a) => (a.percentOff === undefined) !== (a.amountOff === undefined), { message: 'give exactly one of percentOff and amountOff', path: ['percentOff'] })
    .refine((a) => a.amountOff === undefined || a.currency !== undefined, { message: 'amountOff needs a currency', path: ['currency'] })
    .refine((a) => (a.duration === 'repeating') === (a.durationInMonths !== undefined), {
      message: 'durationInMonths is required with duration "repeating" and not allowed otherwise',
      path: ['durationInMonths'],
    }),
  z.object({ kind: z.literal('trial_extension'), days: z.number().int().min(1).max(730) }).strict(),
  z.object({ kind: z.literal('pause'), days: z.number().int().min(1).max(365) }).strict(),
  /** no Stripe change: the decision is posted to an outbound webhook for a person to act on */
  z.object({ kind: z.literal('notify'), url: z.url({ protocol: /^https?$/ }) }).strict(),
]);

export const eligibilitySchema = z
  .object({
    /** days since this customer's last offer (from any policy) before another can be made */
    cooldownDays: z.number().int().nonnegative().default(90),
    /** offers per customer in any 365 days, from any policy */
    maxOffersPerYear: z.number().int().min(1).default(2),
    /** skip customers who already have an active discount */
    skipIfDiscounted: z.boolean().default(true),
    /** also offer to customers already set to cancel at period end */
    includeCancelling: z.boolean().default(false),
  })
  .strict();

export const policyDefinitionSchema = z
  .object({
    name: z.string().trim().min(1).max(120),
    description: z.string().max(2000).default(''),
    /** dry_run records what would be done and calls nothing; live calls Stripe */
    mode: z.enum(['dry_run', 'live']).default('dry_run'),
    enabled: z.boolean().default(true),
    /** among overlapping policies the highest priority decides first; ties by policy id */
    priority: z.number().int().min(0).max(1000).default(100),
    segment: segmentSchema.default({ products: [], prices: [], accounts: [], churnType: 'any', bands: [] }),
    targeting: targetingSchema,
    action: actionSchema,
    eligibility: eligibilitySchema.default({ cooldownDays: 90, maxOffersPerYear: 2, skipIfDiscounted: true, includeCancelling: false }),
    budget: z
      .object({
        /** money the policy may commit to offers per calendar month (UTC), minor units */
        monthlyAmount: minor,
        currency: currency.default('usd'),
      })
      .strict(),
    /** share of decided customers held out (no offer) to measure uplift against */
    holdoutPercent: z.number().min(0).max(90).default(20),
    /** days after the decision over which the outcome is observed */
    horizonDays: z.number().int().min(7).max(365).default(30),
    /** months a saved customer is assumed to stay, for net value (default: one horizon) */
    monthsKept: z.number().positive().max(60).default(1),
  })
  .strict();

export type PolicyDefinition = z.infer<typeof policyDefinitionSchema>;
export type PolicyInput = z.input<typeof policyDefinitionSchema>;
export type PolicyAction = PolicyDefinition['action'];
export type PolicySegment = PolicyDefinition['segment'];
export type PolicyTargeting = PolicyDefinition['targeting'];

export interface PolicyIssue {
  /** dotted path of the failing field, e.g. "action.percentOff" */
  path: string;
  message: string;
}

export type ParsedPolicy = { ok: true; policy: PolicyDefinition } | { ok: false; issues: PolicyIssue[] };

/** Validates a policy; on failure every problem is named by its field path. */
export function parsePolicyDefinition(input: unknown): ParsedPolicy {
  const result = policyDefinitionSchema.safeParse(input);
  if (result.success) return { ok: true, policy: result.data };
  return {
    ok: false,
    issues: result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.') || '(policy)', message: issue.message })),
  };
}

export function formatPolicyIssues(issues: PolicyIssue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join('; ');
}
