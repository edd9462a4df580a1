import { api } from '../lib/api.js';
import { COLORS } from '../lib/charts.js';
import { h, replace } from '../lib/dom.js';
import { count, date, humanize, money, moneyShort, monthName, pct } from '../lib/format.js';
import { badge, bandBadge, card, emptyState, errorState, kpi, meter, pageHeader, skeleton } from '../lib/ui.js';

const BAND_ORDER = ['critical', 'high', 'medium', 'low'];

export async function render(main, ctx) {
  replace(main, pageHeader('Overview', 'Loading…'), h('div', { class: 'grid cols-4' }, [1, 2, 3, 4].map(() => h('div', { class: 'kpi' }, skeleton(2)))), card({}, skeleton(6)));
  let o;
  let top;
  try {
    [o, top] = await Promise.all([api('/reports/overview', { signal: ctx.signal }), api('/customers?limit=6', { signal: ctx.signal })]);
  } catch (err) {
    if (err.name === 'AbortError') return;
    replace(main, pageHeader('Overview'), card({}, errorState(err, () => render(main, ctx))));
    return;
  }
  const cur = o.currency;
  const bands = BAND_ORDER.map((b) => o.risk.bands.find((x) => x.band === b) ?? { band: b, customers: 0, mrr: 0, expectedMrrLoss: 0 });
  const hot = bands.filter((b) => b.band === 'critical' || b.band === 'high');
  const hotCustomers = hot.reduce((s, b) => s + b.customers, 0);
  const hotMrr = hot.reduce((s, b) => s + b.mrr, 0);
  const used = o.policies.reduce((s, p) => s + (p.budgetCurrency === cur ? p.budgetUsed : 0), 0);
  const limit = o.policies.reduce((s, p) => s + (p.budgetCurrency === cur ? p.budgetLimit : 0), 0);
  const treated = o.interventions.filter((i) => i.arm === 'treatment').reduce((s, i) => s + i.count, 0);
  const held = o.interventions.filter((i) => i.arm === 'holdout').reduce((s, i) => s + i.count, 0);

  const subtitle = o.snapshot
    ? `Risk from the ${date(o.snapshot.asOf)} scores (model ${o.snapshot.modelVersion}) · retention work in ${monthName(o.month)}`
    : `No scores yet · retention work in ${monthName(o.month)}`;

  const kpis = h(
    'div',
    { class: 'grid cols-5' },
    kpi({ label: 'MRR expected to churn', value: o.snapshot ? money(o.risk.expectedMrrLoss, cur) : '–', sub: `of ${moneyShort(o.risk.mrr, cur)} MRR scored (Σ MRR × probability)`, tone: 'bad', testid: 'kpi-mrr-at-risk' }),
    kpi({ label: 'High and critical risk', value: o.snapshot ? count(hotCustomers) : '–', sub: `${money(hotMrr, cur)} MRR · ${pct(o.risk.customers ? hotCustomers / o.risk.customers : 0)} of customers`, testid: 'kpi-hot' }),
    kpi({ label: `Offers in ${monthName(o.month).split(' ')[0]}`, value: count(treated), sub: `${count(held)} held out for measurement`, testid: 'kpi-offers' }),
    kpi({ label: 'Budget used this month', value: limit ? pct(used / limit, 0) : '–', sub: limit ? `${money(used, cur)} of ${money(limit, cur)}` : 'no policy has a budget yet', testid: 'kpi-budget' }),
    kpi({ label: 'Open alerts', value: count(o.openAlerts), sub: o.openAlerts ? h('a', { href: '#/alerts' }, 'See alerts →') : 'all checks quiet', tone: o.openAlerts ? 'bad' : 'good', testid: 'kpi-alerts' }),
  );

  const riskCard = o.snapshot
    ? card(
        { title: 'Revenue at risk by band', subtitle: `${count(o.risk.customers)} customers scored. Bars: MRR of the band and the part expected to churn within the horizon.` },
        ctx.charts.add(
          {
            type: 'bar',
            data: {
              labels: bands.map((b) => `${humanize(b.band)} · ${count(b.customers)}`),
              datasets: [
                { label: 'MRR', data: bands.map((b) => b.mrr), backgroundColor: bands.map((b) => COLORS.bands[b.band] + '33'), borderColor: bands.map((b) => COLORS.bands[b.band]), borderWidth: 1, borderRadius: 4 },
                { label: 'Expected to churn', data: bands.map((b) => b.expectedMrrLoss), backgroundColor: bands.map((b) => COLORS.bands[b.band]), borderRadius: 4 },
              ],
            },
            options: {
              indexAxis: 'y',
              scales: { x: { type: 'logarithmic', grid: { color: (c) => (/^10*$/.test(String(c.tick?.value)) ? COLORS.grid : 'transparent') }, title: { display: true, text: `MRR (${cur.toUpperCase()}, log scale)` }, ticks: { maxRotation: 0, autoSkip: false, callback: (v) => (/^10*$/.test(String(v)) ? moneyShort(v, cur) : '') } }, y: { grid: { display: false } } },
              plugins: { legend: { position: 'bottom' }, tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${money(c.raw, cur)}`, afterBody: (items) => `${count(bands[items[0].dataIndex].customers)} customers` } } },
            },
          },
          { height: 330, label: 'MRR and expected churned MRR by risk band' },
        ),
      )
    : card({ title: 'Revenue at risk by band' }, emptyState('No scores yet', 'Train a model and score customers (`churn train`, `churn score`) to see who is at risk.'));

  const topCard = card(
    { title: 'Most at risk now', subtitle: 'Riskiest customers and the main reason', actions: h('a', { class: 'btn btn-sm', href: '#/customers' }, 'All customers') },
    top.items.length
      ? h(
          'ul',
          { class: 'top-list', 'data-testid': 'top-customers' },
          top.items.map((c) =>
            h(
              'li',
              null,
              h('a', { href: `#/customers/${encodeURIComponent(c.account)}/${encodeURIComponent(c.customerId)}` }, h('span', { class: 'top-name' }, c.name || c.email || c.customerId), h('span', { class: 'top-driver' }, c.topDriver ?? 'no single driver stands out')),
              h('span', { class: 'top-prob' }, pct(c.probability, 0)),
              bandBadge(c.band),
            ),
          ),
        )
      : emptyState('No customers scored'),
  );

  const interventionsCard = card(
    { title: `Interventions in ${monthName(o.month)}`, subtitle: 'Decisions by offer and arm, coloured by where they are now' },
    o.interventions.length ? interventionsChart(o, ctx) : emptyState('No decisions this month', 'Enabled policies decide at each run of `churn act` (or the daily Inngest schedule).'),
  );

  const policiesCard = card(
    { title: 'Policies this month', subtitle: 'Budget reserved against each monthly limit, and outcomes that settled this month', actions: h('a', { class: 'btn btn-sm', href: '#/policies' }, 'Edit policies') },
    o.policies.length ? h('div', null, o.policies.map((p) => policyRow(p))) : emptyState('No policies yet', 'Create one with `churn policies create --file policy.json` or POST /v1/policies.'),
  );

  replace(main, pageHeader('Overview', subtitle), kpis, h('div', { class: 'grid cols-2-1' }, riskCard, topCard), h('div', { class: 'grid cols-1-2' }, interventionsCard, policiesCard));
}

function interventionsChart(o, ctx) {
  const groups = [...new Set(o.interventions.map((i) => `${humanize(i.action)} · ${i.arm === 'treatment' ? 'treated' : 'held out'}`))];
  const statuses = [...new Set(o.interventions.map((i) => i.status))];
  const tone = { applied: COLORS.primary, holdout: COLORS.holdout, dry_run: '#0ea5e9', decided: '#a5b4fc', applying: '#818cf8', failed: COLORS.bad, skipped: '#e5e7eb' };
  return ctx.charts.add(
    {
      type: 'bar',
      data: {
        labels: groups,
        datasets: statuses.map((st, i) => ({
          label: humanize(st),
          data: groups.map((g) => o.interventions.filter((x) => `${humanize(x.action)} · ${x.arm === 'treatment' ? 'treated' : 'held out'}` === g && x.status === st).reduce((s, x) => s + x.count, 0)),
          backgroundColor: tone[st] ?? COLORS.series[i % COLORS.series.length],
          borderRadius: 4,
        })),
      },
      options: { indexAxis: 'y', scales: { y: { stacked: true, grid: { display: false } }, x: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } }, plugins: { legend: { position: 'bottom' } } },
    },
    { height: Math.max(180, 44 * groups.length + 80), label: 'interventions this month by offer, arm and status' },
  );
}

function policyRow(p) {
  const settledT = p.settled.treatment.stayed + p.settled.treatment.churned;
  const settledH = p.settled.holdout.stayed + p.settled.holdout.churned;
  return h(
    'div',
    { class: 'policy-row', 'data-testid': 'overview-policy' },
    h('div', { class: 'policy-name' }, h('a', { href: `#/policies/${encodeURIComponent(p.policyId)}` }, p.name), p.enabled ? (p.mode === 'live' ? badge('Live', 'good') : badge('Dry run', 'info')) : badge('Disabled'), h('span', { class: 'muted small' }, `v${p.version}`)),
    h('div', null, h('div', { class: 'meter-line' }, h('span', null, `${money(p.budgetUsed, p.budgetCurrency)} reserved`), h('span', { class: 'muted' }, `of ${money(p.budgetLimit, p.budgetCurrency)}`)), meter(p.budgetUsed, p.budgetLimit, { label: `${p.name} budget used` })),
    h('div', null, h('div', { class: 'figure' }, `${count(p.decided.treated)} / ${count(p.decided.holdout)}`), h('div', { class: 'label' }, 'treated / held out')),
    h('div', null, h('div', { class: 'figure' }, settledT + settledH ? `${pct(settledT ? p.settled.treatment.churned / settledT : null, 0)} / ${pct(settledH ? p.settled.holdout.churned / settledH : null, 0)}` : '–'), h('div', { class: 'label' }, `churned of ${count(settledT)} / ${count(settledH)} settled`)),
    h('div', null, h('div', { class: 'figure' }, p.savedCustomers === null ? '–' : String(p.savedCustomers)), h('div', { class: 'label' }, 'saved, point est. ', h('a', { href: '#/uplift', title: 'From this month’s settled outcomes; the uplift report has the interval' }, 'interval →'))),
  );
}
