import { api, ApiError, query } from '../lib/api.js';
import { h, replace } from '../lib/dom.js';
import { count, date, money, pct } from '../lib/format.js';
import { bandBadge, card, emptyState, errorState, pageHeader, skeleton } from '../lib/ui.js';

const BANDS = ['', 'critical', 'high', 'medium', 'low'];
const PAGE = 25;

/** Filters live in the URL (#/customers?band=high&min=0.2), so back and forward keep them. */
export async function render(main, ctx) {
  const band = ctx.query.get('band') ?? '';
  const min = ctx.query.get('min') ?? '';
  const max = ctx.query.get('max') ?? '';
  const cursors = [null];
  let page = 0;

  const setFilters = (next) => {
    const q = new URLSearchParams();
    const merged = { band, min, max, ...next };
    for (const [k, v] of Object.entries(merged)) if (v) q.set(k, v);
    const text = q.toString();
    ctx.navigate(`/customers${text ? `?${text}` : ''}`);
  };

  const chips = h(
    'div',
    { class: 'chips', role: 'group', 'aria-label': 'Risk band' },
    BANDS.map((b) => h('button', { type: 'button', class: 'chip', 'aria-pressed': String(b === band), 'data-band': b || 'all', onclick: () => setFilters({ band: b }) }, b ? b[0].toUpperCase() + b.slice(1) : 'All')),
  );
  const minInput = h('input', { id: 'min-prob', type: 'number', min: 0, max: 100, step: 1, value: min ? Math.round(Number(min) * 100) : '', placeholder: '0' });
  const maxInput = h('input', { id: 'max-prob', type: 'number', min: 0, max: 100, step: 1, value: max ? Math.round(Number(max) * 100) : '', placeholder: '100' });
  const filterError = h('p', { class: 'field-error', role: 'alert' });
  filterError.hidden = true;
  const applyProb = (e) => {
    e.preventDefault();
    const lo = minInput.value === '' ? '' : Number(minInput.value);
    const hi = maxInput.value === '' ? '' : Number(maxInput.value);
    if ((lo !== '' && (lo < 0 || lo > 100)) || (hi !== '' && (hi < 0 || hi > 100)) || (lo !== '' && hi !== '' && lo > hi)) {
      filterError.textContent = 'Probabilities are between 0 and 100 %, the minimum not above the maximum.';
      filterError.hidden = false;
      return;
    }
    setFilters({ min: lo === '' ? '' : String(lo / 100), max: hi === '' ? '' : String(hi / 100) });
  };
  const filters = h(
    'form',
    { class: 'filters', onsubmit: applyProb },
    h('div', { class: 'field' }, h('span', { class: 'field-label' }, 'Risk band'), chips),
    h('div', { class: 'field' }, h('label', { for: 'min-prob' }, 'Min churn probability %'), minInput),
    h('div', { class: 'field' }, h('label', { for: 'max-prob' }, 'Max %'), maxInput),
    h('button', { class: 'btn', type: 'submit' }, 'Apply'),
    band || min || max ? h('button', { class: 'btn btn-ghost', type: 'button', onclick: () => ctx.navigate('/customers') }, 'Clear filters') : null,
    filterError,
  );

  const body = h('div', null, skeleton(8));
  const subtitle = h('p', { class: 'page-sub' }, 'Loading…');
  const head = pageHeader('Customers');
  head.firstChild.append(subtitle);
  replace(main, head, card({}, filters), card({ className: 'customers-card' }, body));

  async function load() {
    replace(body, skeleton(8));
    let res;
    try {
      res = await api(`/customers${query({ band, minProbability: min, maxProbability: max, limit: PAGE, cursor: cursors[page] })}`, { signal: ctx.signal });
    } catch (err) {
      if (err.name === 'AbortError') return;
      if (err instanceof ApiError && err.status === 409) {
        cursors.length = 1;
        page = 0;
        replace(body, errorState(new Error('The scores were refreshed while you were paging. Showing the first page of the new scores.')));
        setTimeout(load, 1200);
        return;
      }
      replace(body, errorState(err, load));
      return;
    }
    subtitle.textContent = res.snapshot ? `Riskiest first · scores of ${date(res.snapshot.asOf)} by model ${res.snapshot.modelVersion}` : 'No scores yet';
    if (!res.snapshot) {
      replace(body, emptyState('No customers scored yet', 'Train a model and score customers (`churn train`, then `churn score`).'));
      return;
    }
    if (res.items.length === 0) {
      replace(body, emptyState('No customer matches these filters', 'Try another band or a wider probability range.', h('button', { class: 'btn', type: 'button', onclick: () => ctx.navigate('/customers') }, 'Clear filters')));
      return;
    }
    cursors[page + 1] = res.nextCursor;
    const rows = res.items.map((c) =>
      h(
        'tr',
        { class: 'clickable', tabindex: 0, 'data-testid': 'customer-row', 'data-customer': c.customerId, onclick: () => open(c), onkeydown: (e) => e.key === 'Enter' && open(c) },
        h('td', null, h('div', { class: 'cell-name' }, c.name || c.email || c.customerId), h('div', { class: 'sub mono' }, c.name || c.email ? c.customerId : c.account)),
        h('td', null, h('div', { class: 'risk-cell' }, h('span', { class: 'num' }, pct(c.probability)), riskBar(c), bandBadge(c.band))),
        h('td', { class: 'num' }, c.currency ? money(c.mrr, c.currency) : '–'),
        h('td', { class: 'cell-driver' }, c.topDriver ?? h('span', { class: 'muted' }, 'no single driver stands out')),
        h('td', { class: 'sub mono' }, c.account),
      ),
    );
    const first = page * PAGE + 1;
    replace(
      body,
      h('div', { class: 'table-wrap' }, h('table', null, h('thead', null, h('tr', null, h('th', null, 'Customer'), h('th', null, 'Churn risk'), h('th', { class: 'num' }, 'MRR'), h('th', null, 'Main driver'), h('th', null, 'Account'))), h('tbody', null, rows))),
      h(
        'div',
        { class: 'pager' },
        h('span', { class: 'muted small' }, `${count(first)}–${count(first + res.items.length - 1)}`),
        h(
          'div',
          { class: 'page-actions' },
          h('button', { class: 'btn btn-sm', type: 'button', disabled: page === 0, onclick: () => ((page -= 1), load()) }, '← Previous'),
          h('button', { class: 'btn btn-sm', type: 'button', disabled: !res.nextCursor, 'data-testid': 'next-page', onclick: () => ((page += 1), load()) }, 'Next →'),
        ),
      ),
    );
  }
  const open = (c) => ctx.navigate(`/customers/${encodeURIComponent(c.account)}/${encodeURIComponent(c.customerId)}`);
  await load();
}

function riskBar(c) {
  const fill = h('div', { class: `band-fill-${c.band}` });
  fill.style.width = `${Math.max(3, c.probability * 100).toFixed(1)}%`;
  return h('div', { class: 'risk-bar', 'aria-hidden': 'true' }, fill);
}
