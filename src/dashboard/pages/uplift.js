import { api } from '../lib/api.js';
import { COLORS, niceMax, percentAxis } from '../lib/charts.js';
import { h, replace } from '../lib/dom.js';
import { count, date, money, pct, points } from '../lib/format.js';
import { badge, card, emptyState, errorState, kpi, pageHeader, skeleton } from '../lib/ui.js';

/** Draws a vertical line at x = 0 (no effect) on a horizontal chart. */
const zeroLine = {
  id: 'zeroLine',
  afterDatasetsDraw(chart) {
    const x = chart.scales.x.getPixelForValue(0);
    const { top, bottom } = chart.chartArea;
    const g = chart.ctx;
    g.save();
    g.strokeStyle = '#111827';
    g.setLineDash([4, 4]);
    g.lineWidth = 1;
    g.beginPath();
    g.moveTo(x, top);
    g.lineTo(x, bottom);
    g.stroke();
    g.restore();
  },
};

export async function render(main, ctx) {
  replace(main, pageHeader('Uplift', 'Did the offers keep customers who would have left?'), h('div', { class: 'grid cols-4' }, [1, 2, 3, 4].map(() => h('div', { class: 'kpi' }, skeleton(2)))), card({}, skeleton(6)));
  let r;
  try {
    r = await api('/reports/uplift', { signal: ctx.signal });
  } catch (err) {
    if (err.name === 'AbortError') return;
    replace(main, pageHeader('Uplift'), card({}, errorState(err, () => render(main, ctx))));
    return;
  }
  const o = r.overall;
  const level = `${Math.round(r.confidenceLevel * 100)}%`;
  const head = pageHeader('Uplift', `Holdout churn minus treated churn, with its ${level} interval. Positive means the offers kept customers.`);
  if (o.treated.settled + o.treated.pending + o.holdout.settled + o.holdout.pending === 0) {
    replace(main, head, card({}, emptyState('No interventions yet', 'Once a policy has decided (treated and held out) and the outcome horizon has passed, the uplift report appears here.')));
    return;
  }
  const cur = r.currency;
  const tone = o.verdict.status === 'reduces_churn' ? 'good' : o.verdict.status === 'increases_churn' ? 'bad' : 'wait';
  const verdict = h('div', { class: `verdict verdict-${tone}`, 'data-testid': 'uplift-verdict' }, h('strong', null, o.verdict.status === 'not_enough_data' ? 'Not enough data yet.' : o.verdict.status === 'reduces_churn' ? 'The offers reduce churn.' : 'The offers increase churn.'), h('span', null, o.verdict.message));

  const interval = (e, f) => (e ? `${f(e.lower)} to ${f(e.upper)}` : 'needs outcomes in both arms');
  const kpis = h(
    'div',
    { class: 'grid cols-4' },
    kpi({ label: 'Effect on churn', value: o.effect ? points(o.effect.estimate) : '–', sub: `${level} interval: ${interval(o.effect, points)}`, testid: 'uplift-effect' }),
    kpi({ label: 'Customers saved', value: o.savedCustomers ? o.savedCustomers.estimate.toFixed(1) : '–', sub: `interval: ${interval(o.savedCustomers, (v) => v.toFixed(1))}` }),
    kpi({ label: 'MRR saved', value: o.savedMrr ? money(o.savedMrr.estimate, cur) : '–', sub: `interval: ${interval(o.savedMrr, (v) => money(v, cur))}` }),
    kpi({ label: 'Net value', value: o.netValue ? money(o.netValue.estimate, cur) : '–', sub: `${o.monthsKept ? o.monthsKept.statement : ''} · offers cost ${money(o.offerCost, cur)}`, tone: o.netValue ? (o.netValue.lower > 0 ? 'good' : o.netValue.upper < 0 ? 'bad' : undefined) : undefined }),
  );

  const groups = [o, ...r.policies].filter((g) => g.effect || g.treated.settled + g.holdout.settled > 0);
  const labelOf = (g) => (g.scope === 'overall' ? 'All policies' : g.policyName ?? g.policyId);
  const withEffect = groups.filter((g) => g.effect);
  const effectCard = card(
    { title: `Effect on churn with its ${level} interval`, subtitle: 'Each bar is the interval, the dot the estimate; right of the dashed line the offer kept customers' },
    withEffect.length
      ? ctx.charts.add(
          {
            type: 'bar',
            data: {
              labels: withEffect.map(labelOf),
              datasets: [
                { type: 'bar', label: `${level} interval`, data: withEffect.map((g) => [g.effect.lower, g.effect.upper]), backgroundColor: withEffect.map((g) => (g.effect.lower > 0 ? 'rgba(5,150,105,0.25)' : g.effect.upper < 0 ? 'rgba(220,38,38,0.22)' : 'rgba(79,70,229,0.18)')), borderColor: withEffect.map((g) => (g.effect.lower > 0 ? COLORS.good : g.effect.upper < 0 ? COLORS.bad : COLORS.primary)), borderWidth: 1, borderRadius: 4, barPercentage: 0.5, order: 2 },
                { type: 'line', label: 'Estimate', data: withEffect.map((g) => g.effect.estimate), showLine: false, pointRadius: 6, pointHoverRadius: 7, pointBackgroundColor: COLORS.ink, pointBorderColor: '#fff', pointBorderWidth: 2, order: 1 },
              ],
            },
            options: {
              indexAxis: 'y',
              scales: {
                x: { title: { display: true, text: 'holdout churn − treated churn (percentage points)' }, ticks: { callback: (v) => `${(v * 100).toFixed(0)}` }, suggestedMin: -0.05, suggestedMax: 0.05 },
                y: { grid: { display: false } },
              },
              plugins: {
                legend: { position: 'bottom' },
                tooltip: { callbacks: { label: (c) => (c.dataset.type === 'line' ? `Estimate ${points(c.raw)}` : `Interval ${points(c.raw[0])} to ${points(c.raw[1])}`) } },
              },
            },
            plugins: [zeroLine],
          },
          { height: Math.max(150, 60 * withEffect.length + 70), label: 'effect on churn with its confidence interval, per policy and overall' },
        )
      : emptyState('No interval yet', 'Both arms need settled outcomes.'),
  );

  const armsCard = card(
    { title: 'Churn rate by arm', subtitle: 'Settled outcomes only; the holdout is the same kind of customer without the offer' },
    ctx.charts.add(
      {
        type: 'bar',
        data: {
          labels: groups.map(labelOf),
          datasets: [
            { label: 'Treated', data: groups.map((g) => g.treated.churnRate), backgroundColor: COLORS.treated, borderRadius: 4 },
            { label: 'Held out', data: groups.map((g) => g.holdout.churnRate), backgroundColor: COLORS.holdout, borderRadius: 4 },
          ],
        },
        options: {
          scales: { y: percentAxis('churned within the horizon', { max: niceMax(Math.max(0.05, ...groups.flatMap((g) => [g.treated.churnRate ?? 0, g.holdout.churnRate ?? 0]))) }), x: { grid: { display: false } } },
          plugins: { legend: { position: 'bottom' }, tooltip: { callbacks: { label: (c) => { const g = groups[c.dataIndex]; const arm = c.datasetIndex === 0 ? g.treated : g.holdout; return `${c.dataset.label}: ${pct(c.raw)} (${count(arm.churned)} of ${count(arm.settled)})`; } } } },
        },
      },
      { height: 260, label: 'churn rate of treated and held-out customers' },
    ),
  );

  const verdictBadge = (v) => badge(v.status === 'reduces_churn' ? 'Reduces churn' : v.status === 'increases_churn' ? 'Increases churn' : 'Not enough data', v.status === 'reduces_churn' ? 'good' : v.status === 'increases_churn' ? 'bad' : 'warn');
  const rows = [o, ...r.policies].flatMap((g) => [
    h(
      'tr',
      { class: 'main-row' },
      h('td', null, h('div', { class: 'cell-name' }, labelOf(g)), g.period ? h('div', { class: 'sub' }, `${date(g.period.firstDecidedAt)} – ${date(g.period.lastDecidedAt)}`) : null),
      h('td', { class: 'num' }, count(g.treated.settled), h('div', { class: 'sub' }, `${count(g.treated.pending)} pending`)),
      h('td', { class: 'num' }, count(g.holdout.settled), h('div', { class: 'sub' }, `${count(g.holdout.pending)} pending`)),
      h('td', { class: 'num' }, g.effect ? points(g.effect.estimate) : '–', g.effect ? h('div', { class: 'sub' }, `${points(g.effect.lower)} to ${points(g.effect.upper)}`) : null),
      h('td', { class: 'num' }, g.savedMrr ? money(g.savedMrr.estimate, cur) : '–'),
      h('td', { class: 'num' }, money(g.offerCost, cur)),
      h('td', null, verdictBadge(g.verdict)),
    ),
    h('tr', { class: 'sub-row' }, h('td', { colspan: 7 }, g.verdict.message)),
  ]);
  const tableCard = card(
    { title: 'Per policy' },
    h('div', { class: 'table-wrap' }, h('table', null, h('thead', null, h('tr', null, h('th', null, 'Policy'), h('th', { class: 'num' }, 'Treated settled'), h('th', { class: 'num' }, 'Held out settled'), h('th', { class: 'num' }, 'Effect'), h('th', { class: 'num' }, 'MRR saved'), h('th', { class: 'num' }, 'Offer cost'), h('th', null, 'Verdict'))), h('tbody', null, rows))),
    h('p', { class: 'note' }, `Effect: ${r.method.effect}. Saved MRR: ${r.method.savedMrr}. A verdict needs ${r.minOutcomesPerArm} settled outcomes in each arm and an interval that excludes zero.`),
    o.warnings.length ? h('ul', { class: 'note' }, o.warnings.map((w) => h('li', null, w))) : null,
  );

  replace(main, head, verdict, kpis, h('div', { class: 'grid cols-2' }, effectCard, armsCard), tableCard);
}
