// Shared pieces of every page: cards, figures, badges, and the loading, empty and error states.

import { describeError } from './api.js';
import { h, icon } from './dom.js';
import { humanize } from './format.js';

export function card({ title, subtitle, actions, className = '', id } = {}, ...body) {
  return h(
    'section',
    { class: `card ${className}`.trim(), id },
    title || actions ? h('header', { class: 'card-head' }, h('div', null, title ? h('h2', null, title) : null, subtitle ? h('p', { class: 'card-sub' }, subtitle) : null), actions ? h('div', { class: 'card-actions' }, actions) : null) : null,
    h('div', { class: 'card-body' }, body),
  );
}

export function kpi({ label, value, sub, tone, testid }) {
  return h('div', { class: `kpi ${tone ? `kpi-${tone}` : ''}`, 'data-testid': testid }, h('div', { class: 'kpi-label' }, label), h('div', { class: 'kpi-value' }, value), sub ? h('div', { class: 'kpi-sub' }, sub) : null);
}

export function badge(text, tone = 'neutral') {
  return h('span', { class: `badge badge-${tone}` }, text);
}

export function bandBadge(band) {
  return h('span', { class: `badge band band-${band}` }, humanize(band));
}

const STATUS_TONES = { applied: 'good', champion: 'good', stayed: 'good', live: 'good', holdout: 'neutral', candidate: 'info', dry_run: 'info', decided: 'info', applying: 'info', pending: 'neutral', failed: 'bad', churned: 'bad', critical: 'bad', warning: 'warn', retired: 'neutral', skipped: 'neutral', disabled: 'neutral' };

export function statusBadge(status) {
  return badge(humanize(status), STATUS_TONES[status] ?? 'neutral');
}

/** A bar showing used of limit (budget), with the figures beside it. */
export function meter(used, limit, { label } = {}) {
  const share = limit > 0 ? Math.min(1, used / limit) : 0;
  const fill = h('div', { class: `meter-fill ${share >= 0.9 ? 'meter-hot' : share >= 0.6 ? 'meter-warm' : ''}` });
  fill.style.width = `${(share * 100).toFixed(1)}%`;
  return h('div', { class: 'meter', role: 'meter', 'aria-valuemin': 0, 'aria-valuemax': limit, 'aria-valuenow': used, 'aria-label': label ?? 'used of limit' }, fill);
}

export function loading(text = 'Loading…') {
  return h('div', { class: 'state state-loading', role: 'status', 'aria-live': 'polite' }, h('div', { class: 'spinner', 'aria-hidden': 'true' }), h('p', null, text));
}

/** Skeleton blocks that keep the layout while data loads. */
export function skeleton(rows = 3) {
  return h('div', { class: 'skeleton-wrap', role: 'status', 'aria-label': 'Loading' }, Array.from({ length: rows }, () => h('div', { class: 'skeleton' })));
}

/** Text with `backticked` parts shown as code (as text nodes, like everything else). */
export function withCode(text) {
  return typeof text === 'string' ? text.split('`').map((part, i) => (i % 2 ? h('code', null, part) : part)) : text;
}

export function emptyState(title, text, action) {
  return h('div', { class: 'state state-empty' }, icon('empty', 28), h('h3', null, title), text ? h('p', null, withCode(text)) : null, action ?? null);
}

const ERROR_TITLES = { 0: 'Cannot reach churn', 403: 'Not allowed with this key', 404: 'Not found', 409: 'Not possible right now', 429: 'Slow down' };

export function errorState(err, retry) {
  return h(
    'div',
    { class: 'state state-error', role: 'alert' },
    icon('error', 28),
    h('h3', null, ERROR_TITLES[err?.status] ?? 'Something went wrong'),
    h('p', null, withCode(describeError(err))),
    err?.requestId ? h('p', { class: 'muted small' }, `Request id ${err.requestId}`) : null,
    retry ? h('button', { class: 'btn', type: 'button', onclick: retry }, 'Try again') : null,
  );
}

/** The page header: title, a line under it, and actions on the right. */
export function pageHeader(title, subtitle, ...actions) {
  return h('div', { class: 'page-head' }, h('div', null, h('h1', null, title), subtitle ? h('p', { class: 'page-sub' }, subtitle) : null), actions.length ? h('div', { class: 'page-actions' }, actions) : null);
}

/** A small modal asking to confirm; resolves true or false. */
export function confirmDialog({ title, text, confirm = 'Confirm', tone = 'primary' }) {
  return new Promise((resolve) => {
    const close = (answer) => {
      overlay.remove();
      document.removeEventListener('keydown', onKey);
      resolve(answer);
    };
    const onKey = (e) => {
      if (e.key === 'Escape') close(false);
    };
    const ok = h('button', { class: `btn btn-${tone}`, type: 'button', onclick: () => close(true) }, confirm);
    const overlay = h(
      'div',
      { class: 'overlay', onclick: (e) => e.target === overlay && close(false) },
      h('div', { class: 'dialog', role: 'dialog', 'aria-modal': 'true', 'aria-label': title }, h('h2', null, title), h('p', null, text), h('div', { class: 'dialog-actions' }, h('button', { class: 'btn', type: 'button', onclick: () => close(false) }, 'Cancel'), ok)),
    );
    document.addEventListener('keydown', onKey);
    document.body.append(overlay);
    ok.focus();
  });
}

/** A transient message at the bottom of the screen. */
export function toast(text, tone = 'good') {
  const el = h('div', { class: `toast toast-${tone}`, role: 'status' }, text);
  document.body.append(el);
  setTimeout(() => el.classList.add('toast-out'), 3500);
  setTimeout(() => el.remove(), 4000);
}
