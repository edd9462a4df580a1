import type { RiskBand } from '../../ml/types.js';

/**
 * The retention engine's shared vocabulary: what a decision is made on, and what it says.
 * Pure code (decide.ts, costs.ts, outcomes.ts, the uplift maths) works on these, never on the
 * database or the Stripe client.
 */

/** One scored customer as the decision function sees them (facts as of the score's asOf). */
export interface DecisionCandidate {
  account: string;
  customerId: string;
  /** main live subscription (largest MRR); null = nothing to act on */
  subscriptionId: string | null;
  subscriptionStatus: string | null;
  probability: number;
  band: RiskBand;
  modelVersion: string | null;
  /** MRR before discounts, minor units of `currency` */
  mrr: number;
  currency: string;
  /** billing interval of the main subscription in months (1 monthly, 12 annual) */
  intervalMonths: number;
  productIds: string[];
  priceIds: string[];
  tenureDays: number;
  cancelAtPeriodEnd: boolean;
  /** an active discount (of any origin) is on the subscription */
  discounted: boolean;
  /** heading for involuntary churn: failed payment in 30 days, unpaid invoice, or card expiring before renewal */
  involuntaryRisk: boolean;
  /** estimated incremental effect of each action on this customer's churn probability, when an effect model exists */
  upliftEffect?: number;
}

export type DecisionReasonCode =
  | 'matched' // segment and targeting matched
  | 'no_subscription'
  | 'disabled'
  | 'outside_segment'
  | 'below_threshold'
  | 'not_in_top_percent'
  | 'uplift_not_worth_cost' // expected saved value does not cover the offer
  | 'uplift_harmful' // predicted to be harmed by an offer
  | 'uplift_fallback_risk' // uplift policy still on risk targeting (not enough outcomes)
  | 'in_holdout'
  | 'treated'
  | 'cooldown'
  | 'yearly_cap'
  | 'already_discounted'
  | 'cancelling'
  | 'canceled'
  | 'offer_over_budget' // this customer's offer alone costs more than the whole monthly budget
  | 'budget_exhausted'
  | 'taken_by_higher_priority'
  | 'no_policy_matched';

export interface DecisionReason {
  code: DecisionReasonCode;
  /** readable sentence: "probability 0.31 >= threshold 0.20" */
  detail: string;
}

export type Arm = 'treatment' | 'holdout';

/** The outcome of deciding for one customer: which policy, which arm, or why nothing. */
export interface Decision {
  account: string;
  customerId: string;
  subscriptionId: string | null;
  /** null when no policy applies */
  policyId: string | null;
  policyVersion: number | null;
  arm: Arm | null;
  /** expected cost in minor units of the policy's budget currency (0 for holdout and skips) */
  expectedCost: number;
  reasons: DecisionReason[];
  candidate: DecisionCandidate;
}
