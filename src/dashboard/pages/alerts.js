import { api } from '../lib/api.js';
import { h, replace } from '../lib/dom.js';
import { dateTime, humanize } from '../lib/format.js';
import { badge, card, emptyState, errorState, pageHeader, skeleton } from '../lib/ui.js';

const KINDS = {
  payment_failure_spike: 'Payment failures spiking',
  webhook_rejection_spike: 'Webhook rejections spiking',
  processing_lag_spike: 'Event processing lagging',
  score_drift: 'Champion scores drifting',
  budget_pace: 'Offer spend ahead of budget',
};

export async function render(main, ctx) {
  const all = ctx.query.get('status') === 'all';
  const tabs = h(
    'div',
    { class: 'tabs', role: 'tablist' },
    h('button', { class: 'tab', role: 'tab', type: 'button', 'aria-selected': String(!all), onclick: () => ctx.navigate('/alerts') }, 'Open'),
    h('button', { class: 'tab', role: 'tab', type: 'button', 'aria-selected': String(all), 'data-testid': 'alerts-all', onclick: () => ctx.navigate('/alerts?status=all') }, 'All, including closed'),
  );
  const head = pageHeader('Alerts', ['Anomalies the service found in its own data: payment-failure spikes, processing lag, score drift, offer spend ahead of budget. Checked by ', h('code', null, 'churn alerts --check'), ' and, with Inngest, every 15 minutes.']);
  replace(main, head, card({}, tabs, skeleton(5)));
  let res;
  try {
    res = await api(`/alerts${all ? '?status=all' : ''}`, { signal: ctx.signal });
  } catch (err) {
    if (err.name === 'AbortError') return;
    replace(main, head, card({}, tabs, errorState(err, () => render(main, ctx))));
    return;
  }
  const body = res.items.length
    ? h('div', { 'data-testid': 'alerts' }, res.items.map(alertItem))
    : emptyState(all ? 'No alerts yet' : 'No open alerts', all ? 'The checks have never fired.' : 'Every check is quiet. Closed alerts are under “All”.');
  replace(main, head, card({}, tabs, body));
}

function alertItem(a) {
  const open = a.closedAt === null;
  return h(
    'div',
    { class: `alert-item alert-${a.severity} ${open ? '' : 'alert-closed'}`, 'data-testid': 'alert' },
    h('div', { class: 'alert-stripe', 'aria-hidden': 'true' }),
    h(
      'div',
      null,
      h('div', { class: 'alert-title' }, KINDS[a.kind] ?? humanize(a.kind), badge(humanize(a.severity), a.severity === 'critical' ? 'bad' : 'warn'), open ? badge('Open', 'bad') : badge('Closed'), h('span', { class: 'mono muted small' }, a.key)),
      h('p', { class: 'alert-msg' }, a.message),
      h('p', { class: 'muted small' }, `Value ${formatValue(a.value)} against a bar of ${formatValue(a.threshold)}`),
    ),
    h('div', { class: 'alert-meta' }, h('div', null, `Opened ${dateTime(a.openedAt)}`), h('div', null, open ? `Last seen ${dateTime(a.lastSeenAt)}` : `Closed ${dateTime(a.closedAt)}`)),
  );
}

function formatValue(v) {
  return Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : Number(v.toPrecision(3)).toString();
}
