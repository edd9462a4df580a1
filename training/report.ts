import type { ClassificationMetrics } from '../src/ml/metrics.js';
import type { EvaluationReport, ModelEvaluation } from './evaluate.js';

/**
 * The evaluation as one self-contained HTML page: inline CSS and SVG only, no scripts or CDNs,
 * so the dashboard can serve or embed it as is and it still works offline or attached to a ticket.
 */

const COLORS: Record<string, string> = { candidate: '#1f6feb', baseline: '#9a6700', champion: '#1a7f37' };
const W = 320;
const H = 260;
const PAD = 40;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Numbers may arrive as null after a JSON round trip (undefined metrics). */
function fmt(value: number | null | undefined, digits = 3): string {
  return typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : '—';
}

function pct(value: number | null | undefined): string {
  return typeof value === 'number' && Number.isFinite(value) ? `${(value * 100).toFixed(1)}%` : '—';
}

const sx = (v: number) => PAD + v * (W - PAD - 10);
const sy = (v: number) => H - PAD - v * (H - PAD - 10);

function axes(title: string, xLabel: string, yLabel: string): string {
  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map(
      (t) =>
        `<line x1="${sx(t)}" y1="${sy(0)}" x2="${sx(t)}" y2="${sy(0) + 4}" stroke="#888"/>` +
        `<text x="${sx(t)}" y="${sy(0) + 16}" font-size="10" text-anchor="middle">${t}</text>` +
        `<line x1="${sx(0) - 4}" y1="${sy(t)}" x2="${sx(0)}" y2="${sy(t)}" stroke="#888"/>` +
        `<text x="${sx(0) - 6}" y="${sy(t) + 3}" font-size="10" text-anchor="end">${t}</text>`,
    )
    .join('');
  return (
    `<text x="${W / 2}" y="12" font-size="12" font-weight="600" text-anchor="middle">${escapeHtml(title)}</text>` +
    `<rect x="${sx(0)}" y="${sy(1)}" width="${sx(1) - sx(0)}" height="${sy(0) - sy(1)}" fill="none" stroke="#ccc"/>` +
    ticks +
    `<text x="${W / 2 + PAD / 2}" y="${H - 6}" font-size="11" text-anchor="middle">${escapeHtml(xLabel)}</text>` +
    `<text x="12" y="${H / 2}" font-size="11" text-anchor="middle" transform="rotate(-90 12 ${H / 2})">${escapeHtml(yLabel)}</text>`
  );
}

function polyline(points: Array<[number, number]>, color: string, dashed = false): string {
  const d = points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
  return `<polyline points="${d}" fill="none" stroke="${color}" stroke-width="1.8"${dashed ? ' stroke-dasharray="4 3"' : ''}/>`;
}

function legend(models: ModelEvaluation[]): string {
  return models
    .map((m, i) => `<rect x="${sx(0.55)}" y="${sy(0.28) + i * 14}" width="10" height="3" fill="${COLORS[m.role] ?? '#555'}"/><text x="${sx(0.55) + 14}" y="${sy(0.28) + i * 14 + 4}" font-size="10">${escapeHtml(m.role)}</text>`)
    .join('');
}

function svg(content: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img">${content}</svg>`;
}

function rocPlot(models: ModelEvaluation[]): string {
  const lines = models.map((m) => polyline(m.curves.roc.map((p) => [p.fpr, p.tpr]), COLORS[m.role] ?? '#555')).join('');
  return svg(axes('ROC curve', 'false positive rate', 'true positive rate') + polyline([[0, 0], [1, 1]], '#aaa', true) + lines + legend(models));
}

function prPlot(models: ModelEvaluation[], baseRate: number): string {
  const lines = models.map((m) => polyline(m.curves.pr.map((p) => [p.recall, p.precision]), COLORS[m.role] ?? '#555')).join('');
  return svg(axes('Precision-recall', 'recall', 'precision') + polyline([[0, baseRate], [1, baseRate]], '#aaa', true) + lines + legend(models));
}

function calibrationPlot(model: ModelEvaluation): string {
  const color = COLORS[model.role] ?? '#555';
  const bins = model.curves.calibration.filter((b) => b.count > 0 && typeof b.meanPredicted === 'number' && typeof b.fractionPositive === 'number');
  const dots = bins
    .map((b) => `<circle cx="${sx(b.meanPredicted).toFixed(1)}" cy="${sy(b.fractionPositive).toFixed(1)}" r="${Math.min(7, 2 + Math.log10(b.count + 1))}" fill="${color}"><title>${b.count} customers, predicted ${fmt(b.meanPredicted)}, observed ${fmt(b.fractionPositive)}</title></circle>`)
    .join('');
  const line = polyline(bins.map((b) => [b.meanPredicted, b.fractionPositive]), color);
  return svg(axes(`Calibration (${model.role})`, 'mean predicted probability', 'observed churn rate') + polyline([[0, 0], [1, 1]], '#aaa', true) + line + dots);
}

function histogramPlot(model: ModelEvaluation): string {
  const bins = model.curves.histogram;
  const max = Math.max(1, ...bins.map((b) => b.churned + b.retained));
  const width = (sx(1) - sx(0)) / bins.length;
  const bars = bins
    .map((b, i) => {
      const x = sx(0) + i * width;
      const hRetained = ((b.retained / max) * (sy(0) - sy(1)));
      const hChurned = ((b.churned / max) * (sy(0) - sy(1)));
      return (
        `<rect x="${x.toFixed(1)}" y="${(sy(0) - hRetained).toFixed(1)}" width="${(width - 1).toFixed(1)}" height="${hRetained.toFixed(1)}" fill="#b6c2cf"><title>${b.retained} retained, score ${b.lower.toFixed(2)}-${b.upper.toFixed(2)}</title></rect>` +
        `<rect x="${x.toFixed(1)}" y="${(sy(0) - hRetained - hChurned).toFixed(1)}" width="${(width - 1).toFixed(1)}" height="${hChurned.toFixed(1)}" fill="#cf222e"><title>${b.churned} churned, score ${b.lower.toFixed(2)}-${b.upper.toFixed(2)}</title></rect>`
      );
    })
    .join('');
  const key = `<rect x="${sx(0.6)}" y="${sy(0.95)}" width="10" height="8" fill="#cf222e"/><text x="${sx(0.6) + 14}" y="${sy(0.95) + 8}" font-size="10">churned</text><rect x="${sx(0.6)}" y="${sy(0.95) + 12}" width="10" height="8" fill="#b6c2cf"/><text x="${sx(0.6) + 14}" y="${sy(0.95) + 20}" font-size="10">retained</text>`;
  return svg(axes(`Score histogram (${model.role}, max ${max})`, 'calibrated churn probability', 'share of tallest bar') + bars + key);
}

function metricRow(label: string, m: ClassificationMetrics): string {
  const top = (f: number) => m.top.find((t) => Math.abs(t.fraction - f) < 1e-9);
  return `<tr><th scope="row">${escapeHtml(label)}</th><td>${m.rows}</td><td>${pct(m.baseRate)}</td><td>${fmt(m.rocAuc)}</td><td>${fmt(m.prAuc)}</td><td>${fmt(m.brier, 4)}</td><td>${fmt(m.logLoss, 4)}</td><td>${fmt(m.ece, 4)}</td>${[0.05, 0.1, 0.2]
    .map((f) => `<td>${pct(top(f)?.capture)} / ${fmt(top(f)?.lift, 2)}×</td>`)
    .join('')}</tr>`;
}

const TABLE_HEAD =
  '<tr><th></th><th>rows</th><th>churn rate</th><th>ROC-AUC</th><th>PR-AUC</th><th>Brier</th><th>log loss</th><th>ECE</th><th>top 5% capture / lift</th><th>top 10%</th><th>top 20%</th></tr>';

export function renderReportHtml(report: EvaluationReport): string {
  const models = [report.candidate, report.baseline, report.champion].filter((m): m is ModelEvaluation => Boolean(m));
  const overallRows = models.map((m) => metricRow(`${m.role}${m.version ? ` ${m.version}` : ''}${m.architecture ? ` (${m.architecture})` : ''}`, m.metrics.overall)).join('');
  const byType = models
    .filter((m) => m.metrics.byChurnType)
    .flatMap((m) => [metricRow(`${m.role}: voluntary`, m.metrics.byChurnType!.voluntary), metricRow(`${m.role}: involuntary`, m.metrics.byChurnType!.involuntary)])
    .join('');
  const baseRate = report.heldOut.rows ? report.heldOut.positives / report.heldOut.rows : 0;
  const verdict = report.decision.promoted === 'baseline' ? 'Promote the logistic baseline' : report.decision.promote ? 'Promote' : 'Keep current model';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Churn model evaluation ${escapeHtml(report.candidate.version ?? '')}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#1f2328;max-width:1100px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}
.meta{color:#59636e}.decision{padding:10px 14px;border-radius:6px;margin:14px 0;background:${report.decision.promote ? '#dafbe1' : '#fff8c5'}}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}th,td{padding:4px 8px;border-bottom:1px solid #d1d9e0;text-align:right}
th[scope=row]{text-align:left;font-weight:500}.plots{display:flex;flex-wrap:wrap;gap:16px}svg{background:#fff;border:1px solid #eee}
</style></head><body>
<h1>Churn model evaluation</h1>
<div class="meta">Generated ${escapeHtml(report.generatedAt)} · feature set ${escapeHtml(report.featureSetVersion)} · held-out rows ${report.heldOut.rows} (${report.heldOut.positives} churned, ${pct(baseRate)})${report.horizonDays ? ` · horizon ${report.horizonDays} days` : ''}${report.trainingWindow ? ` · training window ${escapeHtml(report.trainingWindow.from)} – ${escapeHtml(report.trainingWindow.to)}` : ''}</div>
<div class="decision"><strong>${verdict}.</strong> ${escapeHtml(report.decision.reason)}${report.championNote ? `<br>${escapeHtml(report.championNote)}` : ''}</div>
<h2>All customers</h2>
<table>${TABLE_HEAD}${overallRows}</table>
${byType ? `<h2>By churn type (each against the customers who stayed)</h2><table>${TABLE_HEAD}${byType}</table>` : ''}
<p class="meta">Capture: share of all churners inside the top slice by score. Lift: churn rate in the slice divided by the overall rate. ECE: expected calibration error over 10 equal-width bins.</p>
<h2>Plots</h2>
<div class="plots">${rocPlot(models)}${prPlot(models, baseRate)}${calibrationPlot(report.candidate)}${histogramPlot(report.candidate)}</div>
</body></html>
`;
}
