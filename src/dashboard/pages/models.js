import { api, describeError } from '../lib/api.js';
import { COLORS, niceMax, percentAxis } from '../lib/charts.js';
import { h, replace } from '../lib/dom.js';
import { count, date, dateTime, pct } from '../lib/format.js';
import { badge, card, confirmDialog, emptyState, errorState, kpi, pageHeader, skeleton, statusBadge, toast } from '../lib/ui.js';

const ROLE_COLORS = { candidate: COLORS.primary, baseline: '#f59e0b', champion: '#0ea5e9' };
const ROLE_NAMES = { candidate: 'This version', baseline: 'Logistic baseline', champion: 'Champion at training' };
// A logistic baseline promoted in place of its network (`<version>-logistic`) has no report of its
// own: it was evaluated in its network's report, as that report's baseline.
const LOGISTIC_NAMES = { candidate: 'Network of the same run', baseline: 'This version (logistic)', champion: 'Champion at training' };
const LOGISTIC_COLORS = { candidate: '#94a3b8', baseline: COLORS.primary, champion: '#0ea5e9' };

const m = (metrics, key) => metrics?.model?.overall?.[key] ?? null;

export async function render(main, ctx) {
  replace(main, pageHeader('Model', 'Loading…'), h('div', { class: 'grid cols-4' }, [1, 2, 3, 4].map(() => h('div', { class: 'kpi' }, skeleton(2)))), h('div', { class: 'grid cols-3' }, [1, 2, 3].map(() => card({}, skeleton(6)))));
  let list;
  try {
    list = await api('/models', { signal: ctx.signal });
  } catch (err) {
    if (err.name === 'AbortError') return;
    replace(main, pageHeader('Model'), card({}, errorState(err, () => render(main, ctx))));
    return;
  }
  const isAdmin = ctx.role === 'admin';
  if (list.items.length === 0) {
    replace(main, pageHeader('Model', 'No model trained yet'), card({}, emptyState('No model yet', 'Train one with `churn train` (or POST /v1/training-runs); the best version becomes the champion that scores customers.')));
    return;
  }
  const champion = list.items.find((v) => v.status === 'champion') ?? null;
  const selected = list.items.find((v) => v.version === ctx.query.get('version')) ?? champion ?? list.items[0];
  let report = null;
  let reportError = null;
  let style = { names: ROLE_NAMES, colors: ROLE_COLORS, primary: 'candidate' };
  try {
    report = await api(`/models/${encodeURIComponent(selected.version)}`, { signal: ctx.signal });
    const network = /^(.+)-logistic$/.exec(selected.version)?.[1];
    if (!report.evaluation && network && list.items.some((v) => v.version === network)) {
      const sibling = await api(`/models/${encodeURIComponent(network)}`, { signal: ctx.signal });
      if (sibling.evaluation?.baseline) {
        report = { ...report, evaluation: sibling.evaluation };
        style = { names: LOGISTIC_NAMES, colors: LOGISTIC_COLORS, primary: 'baseline' };
      }
    }
  } catch (err) {
    if (err.name === 'AbortError') return;
    reportError = err;
  }

  const rollback = h('button', { class: 'btn btn-danger', type: 'button', 'data-testid': 'rollback', disabled: !champion || list.items.filter((v) => v.promotedAt).length < 2, title: 'Put the previous champion back', onclick: () => doRollback() }, 'Roll back champion');
  const roleNote = isAdmin ? null : h('span', { class: 'muted small', 'data-testid': 'admin-note' }, 'Promote and roll back need the admin role.');
  const head = pageHeader('Model', champion ? `Champion ${champion.version}, promoted ${dateTime(champion.promotedAt)}` : 'No champion: nothing is being scored', isAdmin ? rollback : roleNote);

  const ev = report?.evaluation;
  const metrics = selected.metrics;
  const base = metrics?.baseline?.overall;
  const vs = (v, b, f) => (b === undefined || b === null ? null : `baseline ${f(b)}`);
  const kpis = h(
    'div',
    { class: 'grid cols-4' },
    kpi({ label: 'ROC-AUC (held-out months)', value: m(metrics, 'rocAuc')?.toFixed(3) ?? '–', sub: vs(m(metrics, 'rocAuc'), base?.rocAuc, (x) => x.toFixed(3)), testid: 'model-auc' }),
    kpi({ label: 'PR-AUC', value: m(metrics, 'prAuc')?.toFixed(3) ?? '–', sub: [vs(0, base?.prAuc, (x) => x.toFixed(3)), m(metrics, 'baseRate') !== null ? `base rate ${pct(m(metrics, 'baseRate'))}` : null].filter(Boolean).join(' · ') }),
    kpi({ label: 'Calibration error (ECE)', value: m(metrics, 'ece') !== null ? pct(m(metrics, 'ece'), 2) : '–', sub: 'mean gap between predicted and observed churn' }),
    kpi({ label: 'Brier score', value: m(metrics, 'brier')?.toFixed(4) ?? '–', sub: vs(0, base?.brier, (x) => x.toFixed(4)) }),
  );

  let plots;
  if (reportError) plots = card({}, errorState(reportError, () => render(main, ctx)));
  else if (!ev) plots = card({}, emptyState('No evaluation report for this version', 'Versions trained by `churn train` have one; a promoted logistic baseline is evaluated inside its network’s report.'));
  else plots = h('div', { class: 'grid cols-3' }, rocCard(ev, ctx, style), prCard(ev, ctx, style), calibrationCard(ev, ctx, style));

  const evNote = ev
    ? h('p', { class: 'note' }, `${style.primary === 'baseline' ? 'Evaluated in its network’s report: ' : 'Evaluated on '}${count(ev.heldOut.rows)} held-out customer-months (${count(ev.heldOut.positives)} churned)${ev.trainingWindow ? `, trained on ${ev.trainingWindow.from} … ${ev.trainingWindow.to}` : ''}, ${ev.horizonDays ?? 30}-day horizon. Promotion decision: ${ev.decision.reason}.`)
    : null;

  const rows = list.items.map((v) =>
    h(
      'tr',
      { class: v.version === selected.version ? 'selected' : '', 'data-testid': 'model-row', 'data-version': v.version },
      h('td', null, h('a', { href: `#/models?version=${encodeURIComponent(v.version)}`, class: 'mono' }, v.version), v.version === selected.version ? h('span', { class: 'muted small' }, ' · shown') : null),
      h('td', null, statusBadge(v.status)),
      h('td', { class: 'num' }, m(v.metrics, 'rocAuc')?.toFixed(3) ?? '–'),
      h('td', { class: 'num' }, m(v.metrics, 'prAuc')?.toFixed(3) ?? '–'),
      h('td', { class: 'num' }, m(v.metrics, 'ece') !== null ? pct(m(v.metrics, 'ece'), 2) : '–'),
      h('td', { class: 'nowrap' }, date(v.createdAt)),
      h('td', { class: 'nowrap' }, v.promotedAt ? date(v.promotedAt) : '–'),
      h('td', { class: 'num' }, isAdmin && v.status !== 'champion' ? h('button', { class: 'btn btn-sm', type: 'button', 'data-testid': 'promote', onclick: () => doPromote(v) }, 'Promote') : v.status === 'champion' ? badge('Serving', 'good') : null),
    ),
  );
  const history = card(
    { title: 'Version history', subtitle: 'Metrics on each version’s own held-out months' },
    h('div', { class: 'table-wrap' }, h('table', null, h('thead', null, h('tr', null, h('th', null, 'Version'), h('th', null, 'Status'), h('th', { class: 'num' }, 'ROC-AUC'), h('th', { class: 'num' }, 'PR-AUC'), h('th', { class: 'num' }, 'ECE'), h('th', null, 'Trained'), h('th', null, 'Promoted'), h('th', null, ''))), h('tbody', null, rows))),
  );

  replace(main, head, h('h2', { class: 'section-title' }, `Version ${selected.version}`, ' ', statusBadge(selected.status)), kpis, plots, evNote, history);

  async function doPromote(v) {
    if (!(await confirmDialog({ title: `Promote ${v.version}?`, text: 'It becomes the champion: the next scoring run and every decision use it. You can roll back.', confirm: 'Promote' }))) return;
    try {
      await api(`/models/${encodeURIComponent(v.version)}/promote`, { method: 'POST' });
      toast(`${v.version} is now the champion`);
      await render(main, ctx);
    } catch (err) {
      toast(describeError(err), 'bad');
    }
  }
  async function doRollback() {
    if (!(await confirmDialog({ title: 'Roll back the champion?', text: `${champion.version} is retired and the previous champion serves again.`, confirm: 'Roll back', tone: 'danger' }))) return;
    try {
      const res = await api('/models/rollback', { method: 'POST' });
      toast(`Rolled back: ${res.restored.version} is the champion again`);
      await render(main, ctx);
    } catch (err) {
      toast(describeError(err), 'bad');
    }
  }
}

function roles(ev) {
  return ['candidate', 'baseline', 'champion'].filter((r) => ev[r]?.curves);
}

/** One line per model of the report (candidate, baseline, champion), the page's primary one drawn thicker. */
function curveDatasets(ev, style, metric, points) {
  return roles(ev).map((r) => ({ label: `${style.names[r]} (${metric(r)})`, data: points(r), showLine: true, borderColor: style.colors[r], backgroundColor: style.colors[r], pointRadius: 0, borderWidth: r === style.primary ? 2.5 : 1.5 }));
}

function rocCard(ev, ctx, style) {
  return card(
    { title: 'ROC curve', subtitle: 'Churners caught (true positive rate) against false alarms' },
    ctx.charts.add(
      {
        type: 'scatter',
        data: {
          datasets: [
            ...curveDatasets(ev, style, (r) => `AUC ${ev[r].metrics.overall.rocAuc.toFixed(3)}`, (r) => ev[r].curves.roc.map((p) => ({ x: p.fpr, y: p.tpr }))),
            { label: 'Chance', data: [{ x: 0, y: 0 }, { x: 1, y: 1 }], showLine: true, borderColor: '#cbd5e1', borderDash: [4, 4], pointRadius: 0, borderWidth: 1 },
          ],
        },
        options: { scales: { x: percentAxis('false positive rate'), y: percentAxis('true positive rate') }, plugins: { legend: { position: 'bottom' }, tooltip: { enabled: false } } },
      },
      { height: 300, label: 'ROC curve' },
    ),
  );
}

function prCard(ev, ctx, style) {
  const base = ev.heldOut.rows ? ev.heldOut.positives / ev.heldOut.rows : 0;
  const maxP = niceMax(Math.max(base * 3, ...roles(ev).flatMap((r) => ev[r].curves.pr.map((p) => p.precision))));
  return card(
    { title: 'Precision–recall', subtitle: 'Of the customers flagged, how many really churned' },
    ctx.charts.add(
      {
        type: 'scatter',
        data: {
          datasets: [
            ...curveDatasets(ev, style, (r) => `AP ${ev[r].metrics.overall.prAuc.toFixed(3)}`, (r) => ev[r].curves.pr.map((p) => ({ x: p.recall, y: p.precision }))),
            { label: `Base rate ${pct(base)}`, data: [{ x: 0, y: base }, { x: 1, y: base }], showLine: true, borderColor: '#cbd5e1', borderDash: [4, 4], pointRadius: 0, borderWidth: 1 },
          ],
        },
        options: { scales: { x: percentAxis('recall'), y: percentAxis('precision', { max: maxP }) }, plugins: { legend: { position: 'bottom' }, tooltip: { enabled: false } } },
      },
      { height: 300, label: 'precision-recall curve' },
    ),
  );
}

function calibrationCard(ev, ctx, style) {
  const bins = (r) => ev[r].curves.calibration.filter((b) => b.count > 0 && b.meanPredicted !== null);
  const top = niceMax(Math.max(0.05, ...roles(ev).flatMap((r) => bins(r).flatMap((b) => [b.meanPredicted, b.fractionPositive]))));
  return card(
    { title: 'Calibration', subtitle: 'Predicted churn against what happened, per score bin (dot size: customers)' },
    ctx.charts.add(
      {
        type: 'scatter',
        data: {
          datasets: [
            ...roles(ev).filter((r) => r !== 'champion').map((r) => ({
              label: style.names[r],
              data: bins(r).map((b) => ({ x: b.meanPredicted, y: b.fractionPositive, n: b.count })),
              showLine: true,
              borderColor: style.colors[r],
              backgroundColor: style.colors[r],
              pointRadius: bins(r).map((b) => Math.max(3, Math.min(10, Math.sqrt(b.count) / 2))),
              borderWidth: r === style.primary ? 2 : 1.5,
            })),
            { label: 'Perfect calibration', data: [{ x: 0, y: 0 }, { x: top, y: top }], showLine: true, borderColor: '#cbd5e1', borderDash: [4, 4], pointRadius: 0, borderWidth: 1 },
          ],
        },
        options: {
          scales: { x: percentAxis('predicted churn', { max: top }), y: percentAxis('observed churn', { max: top }) },
          plugins: { legend: { position: 'bottom' }, tooltip: { callbacks: { label: (c) => (c.raw.n ? `predicted ${pct(c.raw.x)} · observed ${pct(c.raw.y)} · ${count(c.raw.n)} customers` : c.dataset.label) } } },
        },
      },
      { height: 300, label: 'calibration plot' },
    ),
  );
}
