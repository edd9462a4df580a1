import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { churnLabelsAt, type ChurnLabel } from '../../src/ml/labels.js';
import { createTestDatabase, describeEachDb } from '../helpers/db.js';
import { DAY, T, failure, invoice, subVersion } from './features-fixtures.js';

function label(labels: ChurnLabel[], customerId: string): ChurnLabel | undefined {
  return labels.find((l) => l.customerId === customerId);
}

describeEachDb('churn labels', (kind) => {
  let db: Database;
  beforeAll(async () => {
    db = await createTestDatabase(kind);
    const live = (customerId: string, subscriptionId = `sub_${customerId}`, at = T - 100 * DAY) => subVersion(db, { customerId, subscriptionId, at });
    const end = (customerId: string, at: number, reason: string | null, subscriptionId = `sub_${customerId}`) =>
      subVersion(db, { customerId, subscriptionId, at, status: 'canceled', startDate: T - 100 * DAY, cancellationReason: reason });

    // voluntary: asks to cancel 2 days after T (canceled_at set then), the period ends 40 days after T
    await live('cus_vol');
    await subVersion(db, { customerId: 'cus_vol', subscriptionId: 'sub_cus_vol', at: T + 2 * DAY, cancelAtPeriodEnd: true, canceledAt: T + 2 * DAY, startDate: T - 100 * DAY, cancellationReason: 'cancellation_requested' });
    await end('cus_vol', T + 40 * DAY, 'cancellation_requested');
    // asked before T, ends 5 days after T: already churned at T ('request'), churns at the end ('end')
    await live('cus_pending');
    await subVersion(db, { customerId: 'cus_pending', subscriptionId: 'sub_cus_pending', at: T - 20 * DAY, cancelAtPeriodEnd: true, canceledAt: T - 20 * DAY, startDate: T - 100 * DAY, cancellationReason: 'cancellation_requested' });
    await end('cus_pending', T + 5 * DAY, 'cancellation_requested');
    // asks to cancel, then withdraws the request (a retention offer worked)
    await live('cus_withdrew');
    await subVersion(db, { customerId: 'cus_withdrew', subscriptionId: 'sub_cus_withdrew', at: T + 3 * DAY, cancelAtPeriodEnd: true, canceledAt: T + 3 * DAY, startDate: T - 100 * DAY });
    await subVersion(db, { customerId: 'cus_withdrew', subscriptionId: 'sub_cus_withdrew', at: T + 6 * DAY, startDate: T - 100 * DAY });
    // involuntary by Stripe's reason
    await live('cus_invol');
    await end('cus_invol', T + 20 * DAY, 'payment_failed');
    // involuntary by the dunning before the end (old API versions send no cancellation_details)
    await live('cus_dunning');
    const unpaid = await invoice(db, { customerId: 'cus_dunning', amount: 5000, finalizedAt: T + 1 * DAY });
    await failure(db, { customerId: 'cus_dunning', invoiceId: unpaid, at: T + 1 * DAY, attempt: 1 });
    await failure(db, { customerId: 'cus_dunning', invoiceId: unpaid, at: T + 8 * DAY, attempt: 2 });
    await end('cus_dunning', T + 25 * DAY, null);
    // ends exactly at the horizon's end: inside (asOf, asOf + 30d]
    await live('cus_edge');
    await end('cus_edge', T + 30 * DAY, 'cancellation_requested');
    // ends one second after the horizon: not churned within 30 days
    await live('cus_late');
    await end('cus_late', T + 30 * DAY + 1, 'cancellation_requested');
    // cancels one subscription but keeps another: still a customer
    await live('cus_two', 'sub_two_a');
    await live('cus_two', 'sub_two_b');
    await end('cus_two', T + 3 * DAY, 'cancellation_requested', 'sub_two_a');
    // cancels and re-subscribes inside the horizon: not churned
    await live('cus_back');
    await end('cus_back', T + 10 * DAY, 'cancellation_requested');
    await subVersion(db, { customerId: 'cus_back', subscriptionId: 'sub_back_new', at: T + 12 * DAY });
    // already gone before T: not in the population; new after T: not either
    await live('cus_gone');
    await end('cus_gone', T - 1, 'cancellation_requested');
    await subVersion(db, { customerId: 'cus_new', subscriptionId: 'sub_new', at: T + 1 });
    // a trial that expires without paying: incomplete -> incomplete_expired counts as churn
    await subVersion(db, { customerId: 'cus_inc', subscriptionId: 'sub_inc', at: T - 1 * DAY, status: 'incomplete' });
    await subVersion(db, { customerId: 'cus_inc', subscriptionId: 'sub_inc', at: T + 1 * DAY, status: 'incomplete_expired', endedAt: T + 1 * DAY });
    // a connected account's customer
    await subVersion(db, { account: 'acct_1X', customerId: 'cus_x', subscriptionId: 'sub_x', at: T - 50 * DAY });
  });
  afterAll(() => db?.close());

  it('labels each customer at the cancellation request, split into voluntary and involuntary churn', async () => {
    const labels = await churnLabelsAt(db, T, { horizonDays: 30 });
    expect(labels.map((l) => l.customerId).sort()).toEqual(
      ['cus_back', 'cus_dunning', 'cus_edge', 'cus_inc', 'cus_invol', 'cus_late', 'cus_two', 'cus_vol', 'cus_withdrew', 'cus_x'].sort(),
    );
    expect(label(labels, 'cus_vol')).toMatchObject({ churned: true, churnType: 'voluntary', churnedAt: T + 2 * DAY, endedAt: null, cancellationReason: 'cancellation_requested' });
    expect(label(labels, 'cus_invol')).toMatchObject({ churned: true, churnType: 'involuntary', churnedAt: T + 20 * DAY, endedAt: T + 20 * DAY });
    expect(label(labels, 'cus_dunning')).toMatchObject({ churned: true, churnType: 'involuntary' });
    expect(label(labels, 'cus_edge')).toMatchObject({ churned: true, churnType: 'voluntary' });
    expect(label(labels, 'cus_inc')).toMatchObject({ churned: true });
    for (const id of ['cus_late', 'cus_two', 'cus_back', 'cus_x', 'cus_withdrew']) expect(label(labels, id), id).toMatchObject({ churned: false, churnType: 'none', churnedAt: null });
  });

  it("labels at the subscription's end with churnMoment 'end'", async () => {
    const labels = await churnLabelsAt(db, T, { horizonDays: 30, churnMoment: 'end' });
    expect(label(labels, 'cus_pending')).toMatchObject({ churned: true, churnType: 'voluntary', endedAt: T + 5 * DAY });
    expect(label(labels, 'cus_vol')).toMatchObject({ churned: false });
    expect(label(labels, 'cus_withdrew')).toMatchObject({ churned: false });
    expect(label(labels, 'cus_invol')).toMatchObject({ churned: true, churnType: 'involuntary' });
    expect(label(labels, 'cus_edge')).toMatchObject({ churned: true });
    expect(label(labels, 'cus_late')).toMatchObject({ churned: false });
  });

  it('depends on the horizon and the accounts asked for', async () => {
    const week = await churnLabelsAt(db, T, { horizonDays: 7 });
    expect(week.filter((l) => l.churned).map((l) => l.customerId).sort()).toEqual(['cus_inc', 'cus_vol']);
    const longer = await churnLabelsAt(db, T, { horizonDays: 31 });
    expect(label(longer, 'cus_late')?.churned).toBe(true);
    const connected = await churnLabelsAt(db, T, { accounts: ['acct_1X'] });
    expect(connected.map((l) => l.customerId)).toEqual(['cus_x']);
  });
});
