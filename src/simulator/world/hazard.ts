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
 * Hidden drivers. Each customer has a fixed frailty f ~ N(0, 1) and a latent health h, a monthly
 * AR(1) walk pulled towards -1.1 f:  h' = d + 0.8 (h - d) + 0.45 N(0, 1), d = -1.1 f, starting at
 * 0.3 N(0, 1) at sign-up (every customer starts keen; frail ones fade). Neither is ever emitted.
 * Health shows promptly in what Stripe records: a monthly health move of more than 0.3 adds seats or
 * upgrades (rise) or removes seats or downgrades (fall) within that month; frail customers prepay
 * annually less often (x0.7 instead of x1.3 the base share) and fail first payment attempts a little
 * more often. Refunds (2 %/month, 5 % when h < -0.8) and disputes (0.3 %, 1 % when h < -0.8) are
 * support-like noise that also raise the hazard.
 *
 * Voluntary hazard. Piecewise constant per calendar month, fixed from the state at the start of
 * the month (which is the previous month end, where the truth is recorded). The churn decision
 * responds to the footprint of health (what the customer has already cut), not to h itself, so
 * nearly all of it is learnable from Stripe data; only a small residual stays hidden:
 *
 *   logit(q) = -3.50                                  q = probability of deciding within 30 days
 *            + 0.15 * f - 0.15 * h                     hidden residual (with the decline rate's
 *                                                      own noise, about 0.005 of AUC at 20,000
 *                                                      customers: training/oracle-gap.ts)
 *            - ln(1 + tenure in months) * (0.65 starter | 0.45 team | 0.20 business)
 *            + 0.30 starter plan | 0 team | -0.35 business
 *            - 0.90 if billed annually
 *            + 0.15 * ln(monthly price paid / 2,000 minor units)
 *            + while trialing: 1.90 on the starter plan, 1.10 on per-seat plans
 *            + seats now vs at the start, r = ln(seats / starting seats):
 *                -1.00 * r when r < 0 (contraction), -0.25 * min(r, 2) when r >= 0 (expansion)
 *            + 0.60 seats shrank in the last 60 days
 *            + 0.90 downgraded to a cheaper plan in the last 60 days
 *            - 0.40 added seats or upgraded in the last 60 days
 *            - 0.25 while the introductory 25 % coupon is active
 *            + the introductory coupon ended in the last 60 days, by price sensitivity:
 *                1.30 starter | 0.60 team | 0.20 business
 *            + a renewal payment failed in the last 60 days (then recovered):
 *                1.00 on a monthly plan, 0.30 on an annual one, plus 0.70 if the card expires within
 *                60 days and was not refreshed yet
 *            + 0.20 card expires within 60 days, not refreshed yet, no recent failure
 *            + 0.60 a refund in the last 60 days
 *            + 1.80 a dispute in the last 90 days
 *
 *   daily rate λ = -ln(1 - q) / 30; within a month the decision time is exponential with rate λ.
 *   The interactions (tenure x plan, trial x plan, coupon end x plan, failure x interval x card
 *   expiry, the kinked seat ratio) are what a non-linear model can find beyond a logistic
 *   regression on the features.
 *
 * Involuntary process. Renewal invoices are attempted at day 0, 3, 7 and 14 (attempt_count
 * 1..4); the fourth failure deletes the subscription. A first attempt fails with the customer's
 * hidden `failRate` (logit -3.4 + 0.9 if a debit card + 0.15 f + 0.2 N(0, 1): about 3.5 % on credit
 * cards, 8 % on debit cards; `card.funding` is on the payment method) and each retry then fails
 * with 0.6. Cards expire at the end of their expiry month; the card account updater refreshes
 * 60 % of them at the start of that month (`payment_method.automatically_updated`); otherwise
 * every attempt on the expired card is declined (`expired_card`) until the customer adds a new
 * card, which they do before each retry with probability 0.4.
 *
 * Treatments (what the product did through the local Stripe API, read at each month start):
 * a retention coupon (a discount whose coupon is not the introductory one), a trial extension
 * (trial_end moved into the future) or a pause (`pause_collection`). Each multiplies the month's
 * voluntary rate λ by
 *
 *   m = exp(-b[response type, offer] * r[offer](what Stripe shows at the month start) * e[offer])
 *
 * b, the hidden response type (log-rate reduction at r = e = 1):
 *
 *   response       share*  coupon  trial ext.  pause   notes
 *   sure_thing     ~32 %   0       0           0       mostly low frailty: stays anyway
 *   persuadable    ~29 %   1.20    0.80        0.51    saved by an offer (m = 0.30 / 0.45 / 0.60 at r = e = 1)
 *   lost_cause     ~20 %   0       0           0       mostly high frailty: leaves anyway
 *   pause_only     ~13 %   0       0           1.20    only a pause helps (m = 0.30 at r = e = 1)
 *   sleeping_dog   ~7 %    m = 2 under any treatment and for 60 days after the first contact,
 *                          whatever Stripe shows: contact annoys
 *   (* shares depend on frailty: low-frailty customers are more often sure things, high-frailty
 *    customers more often lost causes.)
 *
 * r, receptiveness, read from the same Stripe facts as the hazard at the month start (so an uplift
 * model can learn it from features):
 *
 *   coupon  price sensitivity: 1.60 starter | 1.00 team | 0.45 business, x 0.5 if billed annually,
 *           + 0.70 if the introductory coupon ended in the last 60 days
 *   pause   shrinking usage: 2.00 if seats are below the starting seats, or seats shrank or the
 *           plan was downgraded in the last 60 days; 0.55 otherwise
 *   trial   still deciding: 1.80 in the sign-up trial or within 60 days after it ended; 1.20 in
 *           the first 3 months otherwise; 0.80 later
 *   (each averages about 1 over the live customers, so the mean effect of an offer stayed close
 *    to what the response type alone gave before receptiveness existed)
 *
 * e, hidden noise: a fixed per-customer factor exp(0.5 z - 0.125), z ~ N(0, 1), one per offer
 * (mean 1), from its own random stream so the untreated world's draws never move, never emitted.
 * So who responds is partly visible (r, and the baseline λ an offer scales) and partly not (the
 * response type, e).
 *
 * Several offers at once: a persuadable takes the strongest (smallest m). A coupon changes only the
 * voluntary rate: a failing card keeps failing (the decline rate and the card updater do not look
 * at the invoice amount). A trial extension leaves nothing to charge at a renewal inside it, so no
 * involuntary churn starts there.
 * A paused subscription is not charged (renewal invoices are voided), so no involuntary churn
 * starts while it is paused; retries of an invoice already past due go on.
 *
 * Truth. At each month end the world records, per live customer not already cancelling,
 * pVoluntary = 1 - exp(-30 λ), pInvoluntary = probability that the dunning sequence ends within
 * 30 days (computed from the rules above and the current card and invoice state), and
 * p30 = pVoluntary + (1 - pVoluntary) pInvoluntary, under the treatments currently in effect;
 * and the same p30 if a coupon, a trial extension or a pause were applied now (read by the world at
 * the next month start, which is this moment, with the receptiveness and noise above) and lasted
 * the 30 days: a coupon keeps pInvoluntary; a pause or a trial extension leaves only the chance
 * that dunning already under way ends (no renewal inside them is charged); and p30NoTreatment,
 * with every treatment taken back (sleeping dogs contacted in the last 60 days stay annoyed); and
 * p30Visible, the visible oracle: p30 with the hidden frailty and health terms left out and the
 * decline rate replaced by its mean for the card's funding (what no Stripe record can show removed;
 * not written to truth files).
 * The world's next month then uses exactly these rates (tested on treated populations).
 */
import { DAY } from '../../lib/clock.js';
import { Random, hashWords } from './random.js';
import { CustomerState, ResponseType, SubStatus, RESPONSE_TYPE_NAMES, type ResponseTypeName } from './state.js';

export const RETRY_OFFSETS_DAYS = [0, 3, 7, 14] as const;
export const RETRY_FAIL = 0.6;
export const CARD_UPDATE_ON_FAILURE = 0.4;
export const CARD_AUTO_UPDATE = 0.6;
export const RECENT = 60 * DAY;
/** health walk: h' = d + m (h - d) + s N(0, 1), d = HEALTH_DRIFT * frailty */
export const HEALTH_DRIFT = -1.1;
export const HEALTH_MEMORY = 0.8;
export const HEALTH_NOISE = 0.45;
/** a monthly health move larger than this changes seats or plan */
export const SEAT_CHANGE_THRESHOLD = 0.3;

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

/** Hidden part of the monthly log-odds: what no Stripe record shows (small by design). */
export function hiddenLogit(state: CustomerState): number {
  return HIDDEN_FRAILTY * state.frailty - HIDDEN_HEALTH * state.health;
}

export const HIDDEN_FRAILTY = 0.15;
export const HIDDEN_HEALTH = 0.15;

/** Loyalty grows with tenure fastest on the cheap plan (early churn of starter customers), slowest on business. */
const TENURE_SLOPE = [0.65, 0.45, 0.2];

/** Price sensitivity by plan tier (starter customers feel a price rise most). */
const PRICE_SENSITIVITY = [1.3, 0.6, 0.2];

/**
 * Observable part of the monthly log-odds: a function of facts a Stripe account records (plan,
 * interval, seats now and at the start, trial, discounts, failed payments, card expiry, refunds,
 * disputes), with the interactions documented in the header.
 */
export function observableLogit(state: CustomerState, asOf: number, monthlyPaid: number): number {
  let x = -3.5;
  x -= TENURE_SLOPE[state.tier]! * Math.log1p(tenureMonths(state, asOf));
  x += state.tier === 0 ? 0.3 : state.tier === 2 ? -0.35 : 0;
  if (state.annual) x -= 0.9;
  x += 0.15 * Math.log(Math.max(monthlyPaid, 100) / 2000);
  if (isTrialing(state, asOf)) x += state.tier === 0 ? 1.9 : 1.1;
  const seatRatio = Math.log(Math.max(1, state.quantity) / Math.max(1, state.startQuantity || state.quantity));
  x += seatRatio < 0 ? -1.0 * seatRatio : -0.25 * Math.min(seatRatio, 2);
  if (within(state.lastSeatShrinkAt, asOf, RECENT)) x += 0.6;
  if (within(state.lastDowngradeAt, asOf, RECENT)) x += 0.9;
  if (within(state.lastSeatGrowAt, asOf, RECENT) || within(state.lastUpgradeAt, asOf, RECENT)) x -= 0.4;
  if (state.discountId && state.discountEnd > asOf) x -= 0.25;
  if (within(state.discountEndedAt, asOf, RECENT)) x += PRICE_SENSITIVITY[state.tier]!;
  const expiring = state.autoUpdate !== 1 && cardExpiresAt(state) > asOf - DAY && cardExpiresAt(state) <= asOf + RECENT;
  if (within(state.lastFailureAt, asOf, RECENT)) x += (state.annual ? 0.3 : 1.0) + (expiring ? 0.7 : 0);
  else if (expiring) x += 0.2;
  if (within(state.lastRefundAt, asOf, RECENT)) x += 0.6;
  if (within(state.lastDisputeAt, asOf, 90 * DAY)) x += 1.8;
  return x;
}

/** Log-odds of a voluntary cancellation decision within 30 days, before treatments. */
export function voluntaryLogit(state: CustomerState, asOf: number, monthlyPaid: number): number {
  return observableLogit(state, asOf, monthlyPaid) + hiddenLogit(state);
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

/**
 * How strongly each offer would work on this customer now, before the response type: receptiveness
 * from what Stripe shows (the header's r) times the customer's hidden noise (e).
 */
export interface OfferStrength {
  coupon: number;
  trialExtension: number;
  pause: number;
}

/** r = e = 1 for every offer: the response type alone decides. */
export const UNIT_STRENGTH: OfferStrength = { coupon: 1, trialExtension: 1, pause: 1 };

/** Price sensitivity by plan tier, for the coupon (starter customers feel a price cut most). */
const COUPON_RECEPTIVENESS = [1.6, 1.0, 0.45];

export function couponReceptiveness(state: CustomerState, asOf: number): number {
  let r = COUPON_RECEPTIVENESS[state.tier]! * (state.annual ? 0.5 : 1);
  if (within(state.discountEndedAt, asOf, RECENT)) r += 0.7;
  return r;
}

/** Seats or plan contracting: what a pause (instead of cancelling) answers. */
export function isSeatShrinker(state: CustomerState, asOf: number): boolean {
  const start = state.startQuantity || state.quantity;
  return state.quantity < start || within(state.lastSeatShrinkAt, asOf, RECENT) || within(state.lastDowngradeAt, asOf, RECENT);
}

export function pauseReceptiveness(state: CustomerState, asOf: number): number {
  return isSeatShrinker(state, asOf) ? 2.0 : 0.55;
}

/** In the sign-up trial or within 60 days after it ended (a customer still deciding). */
export function isAroundSignupTrial(state: CustomerState, asOf: number): boolean {
  if (state.trialEnd === 0) return false;
  return state.trialEnd > asOf || asOf - state.trialEnd <= RECENT;
}

export function trialReceptiveness(state: CustomerState, asOf: number): number {
  if (isAroundSignupTrial(state, asOf)) return 1.8;
  return tenureMonths(state, asOf) < 3 ? 1.2 : 0.8;
}

export function offerStrength(state: CustomerState, asOf: number): OfferStrength {
  return {
    coupon: couponReceptiveness(state, asOf) * state.couponNoise,
    trialExtension: trialReceptiveness(state, asOf) * state.trialNoise,
    pause: pauseReceptiveness(state, asOf) * state.pauseNoise,
  };
}

/** Log-rate reduction per response type at unit strength (the header's b). */
const PERSUADABLE_EFFECT = { coupon: 1.2, trialExtension: 0.8, pause: 0.51 };
const PAUSE_ONLY_EFFECT = 1.2;
const SLEEPING_DOG_MULTIPLIER = 2;

/**
 * Multiplier on the voluntary rate for a response type under the given treatments, at the given
 * offer strength (UNIT_STRENGTH: the response type alone).
 */
export function treatmentMultiplier(response: ResponseType, t: Treatments, strength: OfferStrength = UNIT_STRENGTH): number {
  const any = t.coupon || t.trialExtension || t.pause;
  switch (response) {
    case ResponseType.Persuadable: {
      let m = 1;
      if (t.coupon) m = Math.min(m, Math.exp(-PERSUADABLE_EFFECT.coupon * strength.coupon));
      if (t.trialExtension) m = Math.min(m, Math.exp(-PERSUADABLE_EFFECT.trialExtension * strength.trialExtension));
      if (t.pause) m = Math.min(m, Math.exp(-PERSUADABLE_EFFECT.pause * strength.pause));
      return m;
    }
    case ResponseType.PauseOnly:
      return t.pause ? Math.exp(-PAUSE_ONLY_EFFECT * strength.pause) : 1;
    case ResponseType.SleepingDog:
      return any || t.contacted ? SLEEPING_DOG_MULTIPLIER : 1;
    default:
      return 1;
  }
}

/** The voluntary-rate multiplier the world applies to a customer this month. */
export function customerMultiplier(state: CustomerState, asOf: number, t: Treatments): number {
  return treatmentMultiplier(state.response, t, offerStrength(state, asOf));
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
export function involuntaryProbability(state: CustomerState, asOf: number, paused: boolean, extendedTrialEnd = state.actionTrialEnd, failRate = state.failRate): number {
  const horizon = asOf + 30 * DAY;
  // retries of an invoice finalised before a pause go on (as in Stripe); a pause voids new renewals
  if (state.status === SubStatus.PastDue && state.openInvoice) {
    const finalAt = state.openInvoiceCreated + RETRY_OFFSETS_DAYS[3] * DAY;
    if (finalAt > horizon) return 0;
    const remaining = RETRY_OFFSETS_DAYS.length - state.attempts;
    const perRetry = state.failureKind === 1 ? 1 - CARD_UPDATE_ON_FAILURE : RETRY_FAIL;
    return perRetry ** remaining;
  }
  if (paused) return 0;
  if (state.status !== SubStatus.Active && state.status !== SubStatus.Trialing) return 0;
  const renewal = state.periodEnd;
  if (renewal <= asOf || renewal + RETRY_OFFSETS_DAYS[3] * DAY > horizon) return 0;
  if (extendedTrialEnd > renewal) return 0; // renewal falls in an extended trial: nothing charged
  const normalPath = failRate * RETRY_FAIL ** 3;
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
  /**
   * p30 from what Stripe records alone (the visible oracle): the hidden terms of the voluntary
   * log-odds (frailty, health) left out and the customer's own decline rate replaced by its mean
   * for the card's funding; the treatments in effect as in p30. Not written to truth files.
   */
  p30Visible: number;
  responseType: ResponseTypeName;
}

const combine = (pv: number, pi: number) => pv + (1 - pv) * pi;

export function truthFor(state: CustomerState, accountId: string | null, asOf: number, monthlyPaid: number): TruthRecord {
  const logit = voluntaryLogit(state, asOf, monthlyPaid);
  const now = currentTreatments(state, asOf);
  // the strength the world will use if the offer is read at this month start (the same state)
  const strength = offerStrength(state, asOf);
  const pv = voluntaryProbability(logit, customerMultiplier(state, asOf, now)); // what the world draws with
  const pi = involuntaryProbability(state, asOf, now.pause);
  const withTreatment = (extra: Partial<Treatments>) => {
    const t = { ...now, ...extra, contacted: true };
    // an extension granted now covers the horizon, as a pause does
    const trialEnd = extra.trialExtension ? Math.max(state.actionTrialEnd, asOf + 30 * DAY) : state.actionTrialEnd;
    return combine(voluntaryProbability(logit, treatmentMultiplier(state.response, t, strength)), involuntaryProbability(state, asOf, t.pause, trialEnd));
  };
  const none = combine(voluntaryProbability(logit, treatmentMultiplier(state.response, { ...NO_TREATMENT, contacted: now.contacted }, strength)), involuntaryProbability(state, asOf, false, 0));
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
    p30Visible: visibleP30(state, asOf, monthlyPaid),
    responseType: RESPONSE_TYPE_NAMES[state.response],
  };
}

/** The decline rate a model can know: the mean for the card's funding, not the customer's own draw (frailty, noise). */
export function visibleFailRate(state: CustomerState): number {
  // E[sigmoid(x + 0.15 f + 0.2 z)] is about 1.05 sigmoid(x) at these rates
  return firstAttemptFailRate(state.funding === 'debit', 0, 0) * 1.05;
}

/** The header's p30 without what no Stripe record shows (TruthRecord.p30Visible; training/oracle-gap.ts). */
export function visibleP30(state: CustomerState, asOf: number, monthlyPaid: number): number {
  const now = currentTreatments(state, asOf);
  const pv = voluntaryProbability(observableLogit(state, asOf, monthlyPaid), customerMultiplier(state, asOf, now));
  return combine(pv, involuntaryProbability(state, asOf, now.pause, state.actionTrialEnd, visibleFailRate(state)));
}

/** A customer's first-attempt decline rate: debit cards run out of funds more often than credit cards. */
export function firstAttemptFailRate(debit: boolean, frailty: number, noise: number): number {
  return sigmoid(-3.4 + (debit ? 0.9 : 0) + 0.15 * frailty + 0.2 * noise);
}

/** Spread of the hidden per-customer factor on each offer's effect (lognormal, mean 1). */
export const OFFER_NOISE_SIGMA = 0.5;

/**
 * The hidden per-customer offer factors, from a stream of their own: adding them moved none of the
 * draws the untreated world makes, so its events stayed byte for byte what they were.
 */
export function drawOfferNoise(state: CustomerState, seed: number): void {
  const r = new Random(seed, hashWords(state.index, 0x0ffe7, 0x5eed));
  const factor = () => Math.exp(OFFER_NOISE_SIGMA * r.normal() - (OFFER_NOISE_SIGMA * OFFER_NOISE_SIGMA) / 2);
  state.couponNoise = factor();
  state.trialNoise = factor();
  state.pauseNoise = factor();
}

/** Response type drawn once per customer; its shares lean on the hidden frailty. */
export function drawResponseType(frailty: number, u: number): ResponseType {
  const weights = frailty < -0.5 ? [60, 25, 2, 8, 5] : frailty > 0.5 ? [5, 30, 45, 13, 7] : [30, 31, 15, 16, 8];
  let total = 0;
  for (const w of weights) total += w;
  let r = u * total;
  for (let i = 0; i < weights.length; i++) {
    r -= weights[i]!;
    if (r < 0) return i as ResponseType;
  }
  return ResponseType.SleepingDog;
}
