import { api } from '../lib/api.js';
import { COLORS, niceMax, percentAxis } from '../lib/charts.js';
import { h, icon, replace } from '../lib/dom.js';
import { date, dateTime, humanize, money, pct } from '../lib/format.js';
import { badge, bandBadge, card, emptyState, errorState, pageHeader, skeleton, statusBadge } from '../lib/ui.js';

export async function render(main, ctx) {
  const { account, customerId } = ctx.params;
  const back = h('a', { class: 'back', href: '#/customers' }, icon('back', 14), 'Customers');
  replace(main, back, pageHeader(customerId, account), card({}, skeleton(4)), h('div', { class: 'grid cols-2' }, card({}, skeleton(6)), card({}, skeleton(6))));
  let c;
  try {
    c = await api(`/customers/${encodeURIComponent(account)}/${encodeURIComponent(customerId)}`, { signal: ctx.signal });
  } catch (err) {
    if (err.name === 'AbortError') return;
    replace(main, back, pageHeader(customerId, account), card({}, errorState(err, () => render(main, ctx))));
    return;
  }
  const title = c.name || c.email || c.customerId;
  const s = c.latestScore;
  const live = c.subscriptions.filter((x) => ['active', 'trialing', 'past_due', 'unpaid', 'paused', 'incomplete'].includes(x.status));
  const mrr = live.reduce((sum, x) => sum + x.mrr, 0);
  const currency = live[0]?.currency ?? c.subscriptions[0]?.currency ?? 'usd';

  const hero = card(
    {},
    h(
      'div',
      { class: 'hero' },
      h('div', null, h('div', { class: 'kpi-label' }, 'Churn probability (30 days)'), h('div', { class: 'hero-score', 'data-testid': 'customer-score' }, s ? pct(s.probability) : '–'), h('div', null, s ? bandBadge(s.band) : badge('Not scored'))),
      h(
        'div',
        { class: 'hero-facts' },
        fact('MRR', live.length ? money(mrr, currency) : 'no live subscription'),
        fact('Customer since', date(c.created)),
        fact('Scored', s ? `${date(s.asOf)} · ${s.modelVersion}` : '–'),
        fact('Payments', c.delinquent ? badge('Delinquent', 'bad') : badge('In good standing', 'good')),
        fact('Email', c.email ?? '–'),
        fact('Customer id', h('span', { class: 'mono' }, c.customerId)),
        fact('Account', h('span', { class: 'mono' }, c.account)),
        fact('Subscriptions', c.subscriptions.length ? c.subscriptions.map((x) => h('div', { class: 'small' }, `${humanize(x.status)} · ${x.currency ? money(x.mrr, x.currency) : ''}/mo${x.cancelAtPeriodEnd ? ' · cancels at period end' : ''}`)) : '–'),
      ),
    ),
  );

  const why = card(
    { title: 'Why this score', subtitle: 'What moved the probability most, in words' },
    s && s.drivers.length ? h('ul', { class: 'drivers', 'data-testid': 'drivers' }, s.drivers.map((d) => h('li', null, d))) : emptyState('No drivers', s ? 'No single fact stands out for this customer.' : 'This customer has not been scored yet.'),
  );

  // one series per model version: two models may have scored the same day
  const history = [...c.scoreHistory].reverse();
  const versions = [...new Set(history.map((x) => x.modelVersion))];
  const historyCard = card(
    { title: 'Score history', subtitle: versions.length > 1 ? 'Churn probability at each scoring run, one line per model version' : 'Churn probability at each scoring run' },
    history.length > 1
      ? ctx.charts.add(
          {
            type: 'scatter',
            data: {
              datasets: versions.map((v, i) => {
                const points = history.filter((x) => x.modelVersion === v);
                return { label: v, data: points.map((x) => ({ x: x.asOf, y: x.probability, band: x.band })), showLine: true, borderColor: COLORS.series[i % COLORS.series.length], backgroundColor: COLORS.series[i % COLORS.series.length], tension: 0.2, pointRadius: 4, pointBackgroundColor: points.map((x) => COLORS.bands[x.band]), borderWidth: 2 };
              }),
            },
            options: {
              scales: {
                y: percentAxis('', { max: niceMax(Math.max(0.05, ...history.map((x) => x.probability))) }),
                x: { type: 'linear', grid: { display: false }, ticks: { maxTicksLimit: 6, callback: (v) => date(v) } },
              },
              plugins: { legend: { display: versions.length > 1, position: 'bottom' }, tooltip: { callbacks: { title: (items) => date(items[0].raw.x), label: (t) => `${pct(t.raw.y)} · ${t.raw.band} · ${t.dataset.label}` } } },
            },
          },
          { height: 240, label: 'churn probability over time' },
        )
      : emptyState('One score so far', history.length ? `Scored once, on ${date(history[0].asOf)}: ${pct(history[0].probability)}.` : 'Not scored yet.'),
  );

  const timeline = [
    ...c.events.map((e) => ({ at: e.created, kind: 'event', e })),
    ...c.interventions.map((i) => ({ at: i.decidedAt, kind: 'action', i })),
  ].sort((a, b) => b.at - a.at);
  const timelineCard = card(
    { title: 'Timeline', subtitle: 'Stripe events and retention actions, newest first' },
    timeline.length ? h('ol', { class: 'timeline scroll', 'data-testid': 'timeline' }, timeline.slice(0, 150).map(timelineItem)) : emptyState('Nothing yet', 'No Stripe events or actions for this customer.'),
  );

  const invoicesCard = card(
    { title: 'Invoices', subtitle: 'Most recent first' },
    c.invoices.length
      ? h(
          'div',
          { class: 'table-wrap scroll' },
          h(
            'table',
            null,
            h('thead', null, h('tr', null, h('th', null, 'Date'), h('th', null, 'Status'), h('th', { class: 'num' }, 'Amount'))),
            h('tbody', null, c.invoices.map((i) => h('tr', null, h('td', { class: 'nowrap' }, date(i.created)), h('td', null, invoiceBadge(i.status)), h('td', { class: 'num' }, money(i.amountDue, i.currency ?? currency, { exact: true }))))),
          ),
        )
      : emptyState('No invoices'),
  );

  replace(main, back, pageHeader(title, c.name || c.email ? `${c.customerId} · ${c.account}` : c.account), hero, h('div', { class: 'grid cols-2' }, why, historyCard), h('div', { class: 'grid cols-2-1' }, timelineCard, invoicesCard));
}

const INVOICE_TONES = { paid: 'good', open: 'warn', uncollectible: 'bad', void: 'neutral', draft: 'neutral' };

function invoiceBadge(status) {
  return badge(humanize(status ?? 'unknown'), INVOICE_TONES[status] ?? 'neutral');
}

function fact(label, value) {
  return h('div', { class: 'fact' }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value));
}

const BAD_EVENTS = /failed|dispute|deleted|past_due|canceled|expir/;
const GOOD_EVENTS = /paid|succeeded|created$/;

function timelineItem(t) {
  if (t.kind === 'event') {
    const tone = BAD_EVENTS.test(t.e.type) ? 'tl-bad' : GOOD_EVENTS.test(t.e.type) ? 'tl-good' : '';
    return h('li', { class: tone }, h('div', { class: 'tl-title' }, h('span', { class: 'mono' }, t.e.type)), h('div', { class: 'tl-when' }, dateTime(t.e.created), t.e.objectId ? ` · ${t.e.objectId}` : ''));
  }
  const i = t.i;
  return h(
    'li',
    { class: 'tl-action' },
    h('div', { class: 'tl-title' }, i.arm === 'treatment' ? `Offered ${humanize(i.action).toLowerCase()}` : `Held out (no ${humanize(i.action).toLowerCase()})`, statusBadge(i.status), i.outcome ? statusBadge(i.outcome) : badge('Outcome pending')),
    h('div', { class: 'tl-when' }, dateTime(i.decidedAt), ' · policy ', h('a', { href: `#/policies/${encodeURIComponent(i.policyId)}` }, `${i.policyId} v${i.policyVersion}`)),
  );
}
