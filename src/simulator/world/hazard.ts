/**
 * The hidden churn process of the synthetic world.
 *
 * Churn moment. A customer churns at the first of: (a) the moment they ask to cancel
 * (`customer.subscription.updated` with `cancel_at_period_end: true`, or an immediate
 * `customer.subscription.deleted` with reason `payment_disputed`) — voluntary churn; the
 * subscription then ends at period end with `cancellation_details.reason:
 * 'cancellation_requested'`; or (b) the final failed retry of a renewal invoice, which deletes the
 * subscription with reason `payment_failed` — involuntary churn. Each customer has one
 * subscription; a churned customer never comes back.
 *
 * Voluntary hazard. Piecewise constant per calendar month, fixed from the state at the start of
 * the month (which is the previous month end, where the truth is recorded):
 *
 *   logit(q) = -3.55                                  q = probability of deciding within 30 days
 *            + 0.75 * frailty                         hidden, N(0, 1), fixed per customer
 *            - 0.70 * health                          hidden AR(1) walk: h' = 0.85 h + N(0, 0.45)
 *            - 0.45 * ln(1 + tenure in months)
 *            + 0.35 starter plan | 0 team | -0.35 business
 *            - 0.90 if billed annually
 *            + 0.20 * ln(monthly price paid / 2,000 minor units)   (price sensitivity)
 *            + 1.60 while trialing (trial conversion decision)
 *            + 0.60 seats shrank in the last 60 days   (health fell: seats follow health)
 *            + 0.80 downgraded to a cheaper plan in the last 60 days
 *            - 0.25 while the introductory 25 % coupon is active
 *            + 0.70 the introductory coupon ended in the last 60 days
 *            + 0.50 a renewal payment failed in the last 60 days (then recovered)
 *            + 0.35 the card expires within 60 days and was not refreshed yet
 *            + 0.60 a refund in the last 60 days
 *            + 1.80 a dispute in the last 90 days
 *
 *   daily rate λ = -ln(1 - q) / 30; within a month the decision time is exponential with rate λ.
 *   Seats and plan follow the hidden health (a monthly health rise of more than 0.45 adds seats or
 *   upgrades, a fall of more than 0.45 removes seats or downgrades), so what a model sees (seat
 *   and plan changes) is a noisy view of what drives churn. Refunds (2 %/month, 5 % when health
 *   < -0.8) and disputes (0.3 %, 1 % when health < -0.8) are support-like noise that also raise the
 *   hazard.
 *
 * Involuntary process. Renewal invoices are attempted at day 0, 3, 7 and 14 (attempt_count
 * 1..4); the fourth failure deletes the subscription. A first attempt fails with the customer's
 * hidden `failRate` (logit-normal, mean about 5 %) and each retry then fails with 0.6. Cards
 * expire at the end of their expiry month; the card account updater refreshes 60 % of them at the
 * start of that month (`payment_method.automatically_updated`); otherwise every attempt on the
 * expired card is declined (`expired_card`) until the customer adds a new card, which they do
 * before each retry with probability 0.4.
 *
 * Treatments (what the product did through the local Stripe API, read at each month start):
 * a retention coupon (a discount whose coupon is not the introductory one), a trial extension
 * (trial_end moved into the future) or a pause (`pause_collection`). They multiply the voluntary
 * rate λ by a factor that depends on the customer's hidden response type:
 *
 *   response       share*  coupon  trial ext.  pause   notes
 *   sure_thing     ~31 %   1       1           1       mostly low frailty: stays anyway
 *   persuadable    ~29 %   0.30    0.45        0.60    saved by an offer
 *   lost_cause     ~20 %   1       1           1       mostly high frailty: leaves anyway
 *   pause_only     ~13 %   1       1           0.30    only a pause helps
 *   sleeping_dog   ~7 %    2.0     2.0         2.0     contact annoys: any treatment, and for
 *                                                     60 days after the first contact
 *   (* shares depend on frailty: low-frailty customers are more often sure things, high-frailty
 *    customers more often lost causes.)
 *
 * A paused subscription is not charged (renewal invoices are voided), so it cannot churn
 * involuntarily while paused.
 *
 * Truth. At each month end the world records, per live customer not already cancelling,
 * pVoluntary = 1 - exp(-30 λ), pInvoluntary = probability that the dunning sequence ends within
 * 30 days (computed from the rules above and the current card and invoice state), and
 * p30 = pVoluntary + (1 - pVoluntary) pInvoluntary, under the treatments currently in effect;
 * and the same p30 if a coupon, a trial extension or a pause were applied now.
 */
import { DAY } from '../../lib/clock.js';
import { CustomerState, ResponseType, SubStatus, RESPONSE_TYPE_NAMES, type ResponseTypeName } from './state.js';

export const RETRY_OFFSETS_DAYS = [0, 3, 7, 14] as const;
export const RETRY_FAIL = 0.6;
export const CARD_UPDATE_ON_FAILURE = 0.4;
export const CARD_AUTO_UPDATE = 0.6;
export const RECENT = 60 * DAY;

export interface Treatments {
  coupon: boolean;
  trialExtension: boolean;
  pause: boolean;
  /** contacted by the product within the last 60 days (sleeping dogs stay annoyed) */
  contacted: boolean;
}

export const NO_TREATMENT: Treatments = { coupon: false, trialExtension: false, pause: false, contacted: false };

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

export function tenureMonths(state: CustomerState, asOf: number): number {
  return Math.max(0, (asOf - state.signupAt) / (30.44 * DAY));
}

/** Minor units per month the customer pays before discounts. */
export function monthlyPrice(state: CustomerState, unitAmount: number): number {
  const total = unitAmount * state.quantity;
  return state.annual ? total / 12 : total;
}

/** Card is valid through the last day of its expiry month. */
export function cardExpiresAt(state: CustomerState): number {
  return Date.UTC(state.expYear, state.expMonth, 1) / 1000;
}

export function cardExpiryMonthStart(state: CustomerState): number {
  return Date.UTC(state.expYear, state.expMonth - 1, 1) / 1000;
}

/** Log-odds of a voluntary cancellation decision within 30 days, before treatments. */
export function voluntaryLogit(state: CustomerState, asOf: number, monthlyPaid: number): number {
  let x = -3.55 + 0.75 * state.frailty - 0.7 * state.health;
  x -= 0.45 * Math.log1p(tenureMonths(state, asOf));
  x += state.tier === 0 ? 0.35 : state.tier === 2 ? -0.35 : 0;
  if (state.annual) x -= 0.9;
  x += 0.2 * Math.log(Math.max(monthlyPaid, 100) / 2000);
  if (isTrialing(state, asOf)) x += 1.6;
  if (within(state.lastSeatShrinkAt, asOf, RECENT)) x += 0.6;
  if (within(state.lastDowngradeAt, asOf, RECENT)) x += 0.8;
  if (state.discountId && state.discountEnd > asOf) x -= 0.25;
  if (within(state.discountEndedAt, asOf, RECENT)) x += 0.7;
  if (within(state.lastFailureAt, asOf, RECENT)) x += 0.5;
  if (state.autoUpdate !== 1 && cardExpiresAt(state) > asOf - DAY && cardExpiresAt(state) <= asOf + RECENT) x += 0.35;
  if (within(state.lastRefundAt, asOf, RECENT)) x += 0.6;
  if (within(state.lastDisputeAt, asOf, 90 * DAY)) x += 1.8;
  return x;
}

function within(at: number, asOf: number, window: number): boolean {
  return at > 0 && at <= asOf && asOf - at <= window;
}

/** In the sign-up trial (a trial extension granted later is a treatment, not a new trial). */
export function isTrialing(state: CustomerState, asOf: number): boolean {
  return state.trialEnd > asOf && state.status === SubStatus.Trialing;
}

export function isPaused(state: CustomerState, asOf: number): boolean {
  return state.pauseBehavior !== '' && (state.pauseResumesAt === 0 || state.pauseResumesAt > asOf);
}

/** Multiplier on the voluntary rate for a response type under the given treatments. */
export function treatmentMultiplier(response: ResponseType, t: Treatments): number {
  const any = t.coupon || t.trialExtension || t.pause;
  switch (response) {
    case ResponseType.Persuadable: {
      let m = 1;
      if (t.coupon) m = Math.min(m, 0.3);
      if (t.trialExtension) m = Math.min(m, 0.45);
      if (t.pause) m = Math.min(m, 0.6);
      return m;
    }
    case ResponseType.PauseOnly:
      return t.pause ? 0.3 : 1;
    case ResponseType.SleepingDog:
      return any || t.contacted ? 2 : 1;
    default:
      return 1;
  }
}

/** Treatments currently in effect for a customer, as last read from the product's actions. */
export function currentTreatments(state: CustomerState, asOf: number): Treatments {
  return {
    coupon: state.actionCoupons.length > 0,
    trialExtension: state.actionTrialEnd > asOf,
    pause: isPaused(state, asOf),
    contacted: state.firstContactAt > 0 && asOf - state.firstContactAt <= RECENT,
  };
}

/** Probability of a voluntary decision within `days` at monthly log-odds `logit` and multiplier. */
export function voluntaryProbability(logit: number, multiplier: number, days = 30): number {
  const q = sigmoid(logit);
  const rate = (-Math.log(1 - q) / 30) * multiplier;
  return 1 - Math.exp(-rate * days);
}

export function voluntaryDailyRate(logit: number, multiplier: number): number {
  return (-Math.log(1 - sigmoid(logit)) / 30) * multiplier;
}

/**
 * Probability that the dunning sequence ends the subscription within (asOf, asOf + 30 days],
 * from the involuntary rules in the header.
 */
export function involuntaryProbability(state: CustomerState, asOf: number, paused: boolean): number {
  const horizon = asOf + 30 * DAY;
  if (paused) return 0;
  if (state.status === SubStatus.PastDue && state.openInvoice) {
    const finalAt = state.openInvoiceCreated + RETRY_OFFSETS_DAYS[3] * DAY;
    if (finalAt > horizon) return 0;
    const remaining = RETRY_OFFSETS_DAYS.length - state.attempts;
    const perRetry = state.failureKind === 1 ? 1 - CARD_UPDATE_ON_FAILURE : RETRY_FAIL;
    return perRetry ** remaining;
  }
  if (state.status !== SubStatus.Active && state.status !== SubStatus.Trialing) return 0;
  const renewal = state.periodEnd;
  if (renewal <= asOf || renewal + RETRY_OFFSETS_DAYS[3] * DAY > horizon) return 0;
  if (state.actionTrialEnd > renewal) return 0; // renewal falls in an extended trial: nothing charged
  const normalPath = state.failRate * RETRY_FAIL ** 3;
  const expiredPath = (1 - CARD_UPDATE_ON_FAILURE) ** 3;
  if (cardExpiresAt(state) > renewal || state.autoUpdate === 1) return normalPath;
  if (state.autoUpdate === 2) return expiredPath;
  return CARD_AUTO_UPDATE * normalPath + (1 - CARD_AUTO_UPDATE) * expiredPath;
}

export interface TruthRecord {
  account: string | null;
  customer: string;
  subscription: string;
  asOf: number;
  /** true probability of churning (voluntarily or involuntarily) within 30 days after asOf */
  p30: number;
  pVoluntary: number;
  pInvoluntary: number;
  /** p30 if the product applied the treatment now (in addition to what is in effect) */
  p30IfCoupon: number;
  p30IfTrialExtension: number;
  p30IfPause: number;
  /** p30 if the product took back every treatment in effect (equals p30 when none is) */
  p30NoTreatment: number;
  responseType: ResponseTypeName;
}

const combine = (pv: number, pi: number) => pv + (1 - pv) * pi;

export function truthFor(state: CustomerState, accountId: string | null, asOf: number, monthlyPaid: number): TruthRecord {
  const logit = voluntaryLogit(state, asOf, monthlyPaid);
  const now = currentTreatments(state, asOf);
  const pv = voluntaryProbability(logit, treatmentMultiplier(state.response, now));
  const pi = involuntaryProbability(state, asOf, now.pause);
  const withTreatment = (extra: Partial<Treatments>) => {
    const t = { ...now, ...extra, contacted: true };
    return combine(voluntaryProbability(logit, treatmentMultiplier(state.response, t)), involuntaryProbability(state, asOf, t.pause));
  };
  const none = combine(voluntaryProbability(logit, treatmentMultiplier(state.response, { ...NO_TREATMENT, contacted: now.contacted })), involuntaryProbability(state, asOf, false));
  return {
    account: accountId,
    customer: state.id,
    subscription: state.subId,
    asOf,
    p30: combine(pv, pi),
    pVoluntary: pv,
    pInvoluntary: pi,
    p30IfCoupon: withTreatment({ coupon: true }),
    p30IfTrialExtension: withTreatment({ trialExtension: true }),
    p30IfPause: withTreatment({ pause: true }),
    p30NoTreatment: none,
    responseType: RESPONSE_TYPE_NAMES[state.response],
  };
}

/** Response type drawn once per customer; its shares lean on the hidden frailty. */
export function drawResponseType(frailty: number, u: number): ResponseType {
  const weights = frailty < -0.5 ? [55, 25, 5, 8, 7] : frailty > 0.5 ? [10, 30, 40, 14, 6] : [30, 31, 15, 16, 8];
  let total = 0;
  for (const w of weights) total += w;
  let r = u * total;
  for (let i = 0; i < weights.length; i++) {
    r -= weights[i]!;
    if (r < 0) return i as ResponseType;
  }
  return ResponseType.SleepingDog;
}
