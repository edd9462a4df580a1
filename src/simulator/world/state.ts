/**
 * Compact per-customer state: numbers and a few short strings, no event history, so 100,000
 * customers fit in a few tens of megabytes. Times are unix seconds; 0 means "none".
 */

export const enum SubStatus {
  NotStarted = 0,
  Trialing = 1,
  Active = 2,
  PastDue = 3,
  Canceled = 4,
}

export const enum ResponseType {
  SureThing = 0,
  Persuadable = 1,
  LostCause = 2,
  PauseOnly = 3,
  SleepingDog = 4,
}

export const RESPONSE_TYPE_NAMES = ['sure_thing', 'persuadable', 'lost_cause', 'pause_only', 'sleeping_dog'] as const;
export type ResponseTypeName = (typeof RESPONSE_TYPE_NAMES)[number];

export class CustomerState {
  // identity
  index = 0;
  account = 0;
  id = '';
  email = '';
  name = '';
  country = '';
  signupAt = 0;
  /** per-customer object counter for deterministic ids and event ids */
  counter = 0;

  // hidden drivers (never emitted)
  frailty = 0;
  health = 0;
  failRate = 0;
  response: ResponseType = ResponseType.SureThing;
  /**
   * Fixed per-customer factors (mean 1, lognormal) on the strength of each offer's effect: the part
   * of the response no Stripe record shows. Drawn from their own stream (hazard.ts, `drawOfferNoise`).
   */
  couponNoise = 1;
  trialNoise = 1;
  pauseNoise = 1;

  // plan
  tier = 0;
  annual = false;
  quantity = 1;
  /** seats when the subscription started (the plan's footprint of health is measured from here) */
  startQuantity = 0;

  // subscription
  status: SubStatus = SubStatus.NotStarted;
  subId = '';
  itemId = '';
  subCreated = 0;
  /** billing cycle anchor and number of completed cycles: period ends are anchor + k intervals */
  anchor = 0;
  cycle = 0;
  periodStart = 0;
  periodEnd = 0;
  trialStart = 0;
  trialEnd = 0;
  trialWillEndSent = false;
  cancelAtPeriodEnd = false;
  canceledAt = 0;
  endedAt = 0;
  cancelReason = '';
  cancelFeedback = '';
  latestInvoice = '';
  invoiceSeq = 0;

  // payment method (card)
  pmId = '';
  pmCreated = 0;
  brand = 'visa';
  funding = 'credit';
  last4 = '4242';
  expMonth = 1;
  expYear = 2030;
  /** 0 = not decided yet, 1 = card account updater will refresh it, 2 = it will not */
  autoUpdate = 0;

  // introductory discount
  discountId = '';
  discountStart = 0;
  discountEnd = 0;
  discountEndedAt = 0;

  // dunning: the open invoice being retried
  openInvoice = '';
  /** when the open invoice was finalised (retries count from here) and when it was drafted */
  openInvoiceCreated = 0;
  openInvoiceDraftedAt = 0;
  openAmount = 0;
  openSubtotal = 0;
  openPeriodStart = 0;
  openPeriodEnd = 0;
  openPrevPeriodStart = 0;
  attempts = 0;
  nextAttemptAt = 0;
  /** 1 = card declined as expired, 2 = insufficient funds / generic decline */
  failureKind = 0;

  // last successful charge (for refunds and disputes)
  lastCharge = '';
  lastChargeAmount = 0;
  lastChargeAt = 0;
  lastChargeInvoice = '';
  lastChargePi = '';
  lastChargeRefunded = false;
  lastChargeDisputed = false;
  disputeCloseAt = 0;
  disputeId = '';
  disputeWon = false;
  disputeReason = '';

  // observable history that moves the hazard
  lastSeatShrinkAt = 0;
  lastSeatGrowAt = 0;
  lastDowngradeAt = 0;
  lastUpgradeAt = 0;
  lastFailureAt = 0;
  lastRefundAt = 0;
  lastDisputeAt = 0;

  // product actions seen through the local API
  actionCoupons: string[] = [];
  actionDiscountIds: string[] = [];
  actionTrialEnd = 0;
  pauseBehavior = '';
  pauseResumesAt = 0;
  firstContactAt = 0;

  // outcome bookkeeping
  churnedAt = 0;
  churnKind = 0; // 1 voluntary, 2 involuntary
  deleteCustomerAt = 0;
  customerDeleted = false;
}

export function nextCounter(state: CustomerState): number {
  return state.counter++;
}
