// Chart.js (served from node_modules by the app, loaded as a classic script) with the dashboard's
// look, and a registry so a page's charts are destroyed when the person navigates away.

import { h } from './dom.js';

export const COLORS = {
  primary: '#4f46e5',
  primarySoft: 'rgba(79, 70, 229, 0.14)',
  treated: '#4f46e5',
  holdout: '#94a3b8',
  good: '#059669',
  bad: '#dc2626',
  grid: '#eef0f4',
  text: '#5b6474',
  ink: '#111827',
  bands: { critical: '#dc2626', high: '#f97316', medium: '#eab308', low: '#10b981' },
  series: ['#4f46e5', '#0ea5e9', '#f59e0b', '#10b981', '#ec4899', '#8b5cf6', '#64748b'],
};

let configured = false;
function configure() {
  if (configured) return;
  const Chart = window.Chart;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.font.size = 12;
  Chart.defaults.color = COLORS.text;
  Chart.defaults.borderColor = COLORS.grid;
  Chart.defaults.animation.duration = 250;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.plugins.legend.labels.boxWidth = 10;
  Chart.defaults.plugins.legend.labels.boxHeight = 10;
  Chart.defaults.plugins.legend.labels.usePointStyle = true;
  Chart.defaults.plugins.tooltip.backgroundColor = '#111827';
  Chart.defaults.plugins.tooltip.padding = 10;
  Chart.defaults.plugins.tooltip.cornerRadius = 6;
  Chart.defaults.plugins.tooltip.titleFont = { weight: '600' };
  configured = true;
}

export class ChartSet {
  constructor() {
    this.charts = [];
  }
  /** A chart in a sized box; `label` is the accessible description of the canvas. */
  add(config, { height = 260, label = 'chart' } = {}) {
    configure();
    const canvas = h('canvas', { role: 'img', 'aria-label': label });
    const box = h('div', { class: 'chart-box' }, canvas);
    box.style.height = `${height}px`;
    // Chart.js measures the parent, so the chart is made once the box is in the document
    let tries = 0;
    const create = () => {
      if (this.destroyed) return;
      if (box.isConnected) this.charts.push((box.chart = new window.Chart(canvas, config)));
      else if (tries++ < 120) requestAnimationFrame(create);
    };
    queueMicrotask(create);
    return box;
  }
  /** Destroys the chart in one box made by add(). */
  drop(box) {
    if (!box.chart) return;
    box.chart.destroy();
    this.charts = this.charts.filter((c) => c !== box.chart);
    box.chart = null;
  }
  destroy() {
    this.destroyed = true;
    for (const c of this.charts) c.destroy();
    this.charts = [];
  }
}

/** Axis options for a probability (0–1) shown as percent. */
export function percentAxis(title, { max = 1, min = 0 } = {}) {
  return { min, max, title: { display: Boolean(title), text: title }, ticks: { callback: (v) => `${Math.round(v * 100)}%` }, grid: { color: COLORS.grid } };
}

/** A round upper bound for a 0–1 axis holding `v` (with some headroom). */
export function niceMax(v) {
  const step = v > 0.5 ? 0.1 : v > 0.1 ? 0.05 : 0.02;
  return Math.min(1, Math.max(step, Math.ceil((v * 1.1) / step) * step));
}
