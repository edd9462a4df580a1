import { api } from '../lib/api.js';
import { h, replace } from '../lib/dom.js';
import { dateTime, money, pct } from '../lib/format.js';
import { badge, card, emptyState, errorState, pageHeader, skeleton } from '../lib/ui.js';

export function describeTargeting(t) {
  if (t.kind === 'threshold') return `Churn risk ≥ ${pct(t.minProbability)}`;
  if (t.kind === 'top_percent') return `Riskiest ${t.percent}% of the segment`;
  if (t.kind === 'uplift') return `Uplift (risk ≥ ${pct(t.fallbackMinProbability)} until ${t.minOutcomesPerArm} outcomes per arm)`;
  return t.kind;
}

export function describeAction(a) {
  if (a.kind === 'coupon') {
    const off = a.percentOff !== undefined ? `${a.percentOff}% off` : `${money(a.amountOff, a.currency)} off`;
    const duration = a.duration === 'once' ? 'the next invoice' : a.duration === 'forever' ? 'every invoice' : `${a.durationInMonths} months`;
    return `Coupon: ${off} ${duration}`;
  }
  if (a.kind === 'trial_extension') return `Trial extended by ${a.days} days`;
  if (a.kind === 'pause') return `Payment collection paused for ${a.days} days`;
  if (a.kind === 'notify') return `Notify a person (webhook to ${new URL(a.url).host})`;
  return a.kind;
}

export function modeBadge(d) {
  if (!d.enabled) return badge('Disabled');
  return d.mode === 'live' ? badge('Live', 'good') : badge('Dry run', 'info');
}

export async function render(main, ctx) {
  replace(main, pageHeader('Policies', 'Who gets which retention offer'), h('div', { class: 'grid cols-2' }, card({}, skeleton(5)), card({}, skeleton(5))));
  let res;
  try {
    res = await api('/policies', { signal: ctx.signal });
  } catch (err) {
    if (err.name === 'AbortError') return;
    replace(main, pageHeader('Policies'), card({}, errorState(err, () => render(main, ctx))));
    return;
  }
  if (res.items.length === 0) {
    replace(main, pageHeader('Policies', 'Who gets which retention offer'), card({}, emptyState('No policies yet', 'Create one with `churn policies create --file policy.json` or POST /v1/policies; then tune it here with a live preview.')));
    return;
  }
  const cards = res.items.map((p) => {
    const d = p.definition;
    return card(
      { title: h('a', { href: `#/policies/${encodeURIComponent(p.id)}`, 'data-testid': 'policy-link' }, p.name), subtitle: d.description || null, actions: modeBadge(d), className: 'policy-card' },
      h(
        'div',
        { class: 'facts' },
        fact('Targets', describeTargeting(d.targeting)),
        fact('Offer', describeAction(d.action)),
        fact('Budget', `${money(d.budget.monthlyAmount, d.budget.currency)} a month`),
        fact('Holdout', `${d.holdoutPercent}% kept as control`),
        fact('Priority', String(d.priority)),
        fact('Version', `v${p.version} · ${dateTime(p.createdAt)}`),
      ),
      h('div', { class: 'form-actions' }, h('span', { class: 'muted small' }, `${p.id}`), h('a', { class: 'btn btn-primary btn-sm', href: `#/policies/${encodeURIComponent(p.id)}` }, ctx.role === 'viewer' ? 'Open and preview' : 'Edit and preview')),
    );
  });
  replace(main, pageHeader('Policies', 'Who gets which retention offer. Open one to tune it with a live preview of what it would decide now.'), h('div', { class: 'grid cols-2' }, cards));
}

function fact(label, value) {
  return h('div', { class: 'fact' }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value));
}
