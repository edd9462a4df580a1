import { api, ApiError, describeError } from '../lib/api.js';
import { COLORS } from '../lib/charts.js';
import { h, icon, replace } from '../lib/dom.js';
import { count, date, dateTime, humanize, majorUnits, money, pct, toMinor } from '../lib/format.js';
import { card, emptyState, errorState, pageHeader, skeleton, toast } from '../lib/ui.js';
import { describeAction, describeTargeting, modeBadge } from './policies.js';

const REASONS = {
  below_threshold: 'Below the risk threshold',
  not_in_top_percent: 'Not in the riskiest share',
  outside_segment: 'Outside the segment',
  uplift_not_worth_cost: 'Offer worth less than it costs',
  uplift_harmful: 'Predicted to react badly',
  cooldown: 'Offered recently (cooldown)',
  yearly_cap: 'Yearly offer cap reached',
  already_discounted: 'Already discounted',
  cancelling: 'Already cancelling',
  canceled: 'Subscription ended',
  no_subscription: 'No live subscription',
  offer_over_budget: 'Offer costs more than the monthly budget',
  budget_exhausted: 'Budget ran out',
  taken_by_higher_priority: 'Taken by another policy',
  disabled: 'Policy disabled',
};

/**
 * The policy editor: a form over the policy's definition and, beside it, what the edited policy
 * would decide right now (POST /v1/policies/{id}/simulate with the unsaved draft), refreshed as
 * the person types. Saving PATCHes the same draft, which makes a new version.
 */
export async function render(main, ctx) {
  const { id } = ctx.params;
  const back = h('a', { class: 'back', href: '#/policies' }, icon('back', 14), 'Policies');
  replace(main, back, pageHeader('Policy', id), h('div', { class: 'grid cols-2-1' }, card({}, skeleton(10)), card({}, skeleton(6))));
  let policy;
  try {
    policy = await api(`/policies/${encodeURIComponent(id)}`, { signal: ctx.signal });
  } catch (err) {
    if (err.name === 'AbortError') return;
    replace(main, back, pageHeader('Policy', id), card({}, errorState(err, () => render(main, ctx))));
    return;
  }
  const canEdit = ctx.role === 'editor' || ctx.role === 'admin';
  let saved = policy.definition;
  const cur = saved.budget.currency;

  // ---- form controls (each knows how to read itself back into a definition change) ----
  const controls = [];
  const control = (spec) => (controls.push(spec), spec);

  const text = (key, label, { area = false, hint } = {}) => {
    const input = h(area ? 'textarea' : 'input', { id: `f-${key}`, name: key, type: area ? undefined : 'text', value: saved[key] ?? '' });
    if (area) input.value = saved[key] ?? '';
    control({ read: () => ({ [key]: input.value }), input });
    return field(label, input, hint, `f-${key}`);
  };
  const number = (path, label, { min, max, step = 1, hint, scale = (v) => v, unscale = (v) => v, suffix } = {}) => {
    const key = path.join('-');
    const input = h('input', { id: `f-${key}`, name: key, type: 'number', min, max, step, value: unscale(get(saved, path)) });
    control({ read: () => setPath({}, path, input.value === '' ? NaN : scale(Number(input.value))), input });
    return field(label, suffix ? h('div', { class: 'slider-row' }, input, h('span', { class: 'muted small' }, suffix)) : input, hint, `f-${key}`);
  };
  /** a slider and a number box kept in step (percent of a 0–1 probability, or a plain percent) */
  const slider = (path, label, { min, max, step, probability = false, hint, testid }) => {
    const key = path.join('-');
    const toUi = (v) => (probability ? Math.round(v * 1000) / 10 : v);
    const fromUi = (v) => (probability ? Math.round(v * 10) / 1000 : v);
    const range = h('input', { type: 'range', min, max, step, value: toUi(get(saved, path)), 'aria-label': label, 'data-testid': testid ? `${testid}-range` : undefined });
    const box = h('input', { id: `f-${key}`, name: key, type: 'number', min, max, step, value: toUi(get(saved, path)), 'data-testid': testid });
    range.addEventListener('input', () => ((box.value = range.value), changed()));
    box.addEventListener('input', () => ((range.value = box.value), changed()));
    control({ read: () => setPath({}, path, box.value === '' ? NaN : fromUi(Number(box.value))), input: box, skipListener: true });
    return field(label, h('div', { class: 'slider-row' }, range, box, h('span', { class: 'muted small' }, '%')), hint, `f-${key}`);
  };
  const check = (path, label) => {
    const key = path.join('-');
    const input = h('input', { id: `f-${key}`, name: key, type: 'checkbox', checked: Boolean(get(saved, path)) });
    control({ read: () => setPath({}, path, input.checked), input });
    return h('label', { class: 'check', for: `f-${key}` }, input, label);
  };
  const select = (key, label, options) => {
    const input = h('select', { id: `f-${key}`, name: key }, options.map(([v, t]) => h('option', { value: v, selected: saved[key] === v }, t)));
    control({ read: () => ({ [key]: input.value }), input });
    return field(label, input, null, `f-${key}`);
  };

  const t = saved.targeting;
  const targetingField =
    t.kind === 'threshold'
      ? slider(['targeting', 'minProbability'], 'Minimum churn probability', { min: 0.5, max: 90, step: 0.5, probability: true, hint: 'Customers at or above this 30-day churn risk are targeted.', testid: 'threshold' })
      : t.kind === 'top_percent'
        ? slider(['targeting', 'percent'], 'Riskiest share of the segment', { min: 1, max: 100, step: 1, hint: 'This share of the segment, riskiest first, is targeted.', testid: 'threshold' })
        : slider(['targeting', 'fallbackMinProbability'], 'Risk threshold until uplift is learnt', { min: 0.5, max: 90, step: 0.5, probability: true, hint: `Uplift targeting takes over after ${t.minOutcomesPerArm} settled outcomes per arm.`, testid: 'threshold' });

  const a = saved.action;
  const offerField =
    a.kind === 'coupon' && a.percentOff !== undefined
      ? number(['action', 'percentOff'], 'Coupon discount', { min: 1, max: 100, step: 1, suffix: '% off' })
      : a.kind === 'coupon'
        ? number(['action', 'amountOff'], 'Coupon amount', { min: 0.01, step: 0.01, scale: (v) => toMinor(v, a.currency), unscale: (v) => majorUnits(v, a.currency), suffix: `${String(a.currency).toUpperCase()} off` })
        : a.kind === 'trial_extension' || a.kind === 'pause'
          ? number(['action', 'days'], a.kind === 'pause' ? 'Pause length' : 'Trial extension', { min: 1, max: a.kind === 'pause' ? 365 : 730, suffix: 'days' })
          : field('Offer', h('div', { class: 'muted' }, describeAction(a)));

  const form = h(
    'form',
    { class: 'form-grid', onsubmit: (e) => e.preventDefault(), 'aria-label': 'Policy settings' },
    h('div', { class: 'wide' }, text('name', 'Name')),
    h('div', { class: 'wide' }, text('description', 'Description', { area: true })),
    h('div', { class: 'wide' }, targetingField),
    h('div', { class: 'wide' }, slider(['holdoutPercent'], 'Holdout', { min: 0, max: 90, step: 1, hint: 'Share of targeted customers kept without an offer, to measure uplift against.' })),
    offerField,
    number(['budget', 'monthlyAmount'], 'Monthly budget', { min: 0, step: 1, scale: (v) => toMinor(v, cur), unscale: (v) => majorUnits(v, cur), suffix: cur.toUpperCase() }),
    select('mode', 'Mode', [['dry_run', 'Dry run: record, call nothing'], ['live', 'Live: apply offers through Stripe']]),
    number(['priority'], 'Priority', { min: 0, max: 1000, hint: 'Higher decides first when policies overlap.' }),
    number(['eligibility', 'cooldownDays'], 'Cooldown', { min: 0, suffix: 'days between offers' }),
    number(['eligibility', 'maxOffersPerYear'], 'Offers per customer per year', { min: 1 }),
    number(['horizonDays'], 'Outcome horizon', { min: 7, max: 365, suffix: 'days' }),
    number(['monthsKept'], 'A saved customer stays', { min: 0.1, max: 60, step: 0.1, suffix: 'months (for net value)' }),
    h('div', { class: 'wide check-row' }, check(['enabled'], 'Enabled'), ' ', check(['eligibility', 'skipIfDiscounted'], 'Skip customers who already have a discount'), ' ', check(['eligibility', 'includeCancelling'], 'Include customers already set to cancel')),
  );

  const status = h('span', { class: 'muted small', 'data-testid': 'save-status' }, canEdit ? 'No unsaved changes' : 'Viewers can preview changes; saving needs the editor role.');
  const discard = h('button', { class: 'btn', type: 'button', disabled: true, onclick: () => render(main, ctx) }, 'Discard');
  const save = h('button', { class: 'btn btn-primary', type: 'button', disabled: true, 'data-testid': 'save-policy', title: canEdit ? undefined : 'needs the editor role', onclick: () => saveDraft() }, 'Save as new version');
  if (!canEdit) save.hidden = true;
  const formError = h('div', { class: 'field-error', role: 'alert' });
  formError.hidden = true;

  // ---- preview ----
  const previewStatus = h('div', { class: 'preview-status', 'data-testid': 'preview-status' }, h('span', { class: 'dot dot-busy' }), 'Simulating…');
  const figTreated = h('div', { class: 'value', 'data-testid': 'preview-treated' }, '–');
  const figHoldout = h('div', { class: 'value', 'data-testid': 'preview-holdout' }, '–');
  const figCost = h('div', { class: 'value', 'data-testid': 'preview-cost' }, '–');
  const costSub = h('div', { class: 'label' }, 'expected cost');
  const delta = h('p', { class: 'small muted', 'data-testid': 'preview-delta' });
  const reasonsBox = h('div', null);
  const previewBody = h(
    'div',
    { class: 'preview' },
    previewStatus,
    h('div', { class: 'preview-figures' }, h('div', { class: 'preview-figure' }, figTreated, h('div', { class: 'label' }, 'would get the offer')), h('div', { class: 'preview-figure' }, figHoldout, h('div', { class: 'label' }, 'held out')), h('div', { class: 'preview-figure' }, figCost, costSub)),
    delta,
    h('h3', { class: 'preview-title' }, 'Why the others are not targeted'),
    reasonsBox,
  );
  const previewCard = card({ title: 'Live preview', subtitle: 'What this policy would decide now with the champion model. Nothing is recorded or sent to Stripe.', className: 'sticky' }, previewBody);

  const versionsCard = card(
    { title: 'Version history', subtitle: 'Every change is a new version; interventions keep the version they were decided under' },
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        null,
        h('thead', null, h('tr', null, h('th', null, 'Version'), h('th', null, 'Targets'), h('th', null, 'Holdout'), h('th', { class: 'num' }, 'Budget'), h('th', null, 'By'), h('th', null, 'When'))),
        h('tbody', { 'data-testid': 'versions' }, policy.versions.map((v) => h('tr', null, h('td', null, `v${v.version}`), h('td', null, describeTargeting(v.definition.targeting)), h('td', null, `${v.definition.holdoutPercent}%`), h('td', { class: 'num' }, money(v.definition.budget.monthlyAmount, v.definition.budget.currency)), h('td', { class: 'mono' }, v.createdBy), h('td', { class: 'nowrap' }, dateTime(v.createdAt))))),
      ),
    ),
  );

  replace(
    main,
    back,
    pageHeader(policy.name, `${describeAction(saved.action)} · ${describeTargeting(saved.targeting)} · v${policy.version}`, modeBadge(saved)),
    h('div', { class: 'grid cols-2-1 editor' }, card({ title: 'Settings' }, form, formError, h('div', { class: 'form-actions' }, status, discard, save)), h('div', null, previewCard)),
    versionsCard,
  );

  for (const c of controls) if (!c.skipListener) c.input.addEventListener('input', changed);

  // ---- behaviour ----
  let baseline = null;
  let reasonsChart = null;
  let seq = 0;
  let timer = null;
  // one simulate at a time (each scores every customer again): changes made meanwhile wait, and
  // only the newest of them is sent when it returns
  let inflight = false;
  let queued = null;

  function draft() {
    const change = {};
    for (const c of controls) mergeInto(change, c.read());
    return diff(saved, change);
  }

  function changed() {
    const d = draft();
    const dirty = Object.keys(d).length > 0;
    if (canEdit) {
      save.disabled = !dirty;
      discard.disabled = !dirty;
      status.textContent = dirty ? `Unsaved changes: ${Object.keys(d).map(humanize).join(', ')}` : 'No unsaved changes';
    } else discard.disabled = !dirty;
    clearTimeout(timer);
    timer = setTimeout(() => request(dirty ? d : undefined), 350);
    previewBody.classList.add('preview-stale');
    replace(previewStatus, h('span', { class: 'dot dot-busy' }), 'Simulating…');
  }

  async function request(d) {
    if (inflight) {
      queued = { d };
      return;
    }
    inflight = true;
    try {
      await preview(d);
    } finally {
      inflight = false;
    }
    if (queued && !ctx.signal.aborted) {
      const next = queued;
      queued = null;
      await request(next.d);
    }
  }

  async function preview(d) {
    const mine = ++seq;
    let res;
    try {
      res = await api(`/policies/${encodeURIComponent(id)}/simulate`, { method: 'POST', body: d ? { draft: d } : {}, signal: ctx.signal });
    } catch (err) {
      if (err.name === 'AbortError' || mine !== seq || queued) return;
      previewBody.classList.remove('preview-stale');
      const message = err instanceof ApiError && err.status === 422 ? `Not a valid policy: ${err.message.replace(/^invalid policy: /, '')}` : describeError(err);
      replace(previewStatus, h('span', { class: 'field-error', 'data-testid': 'preview-error' }, message));
      return;
    }
    if (mine !== seq) return;
    const p = res.policies[0];
    if (!d) baseline = p ?? null;
    // a newer change is waiting to be simulated: this answer is already out of date
    if (queued) return;
    previewBody.classList.remove('preview-stale');
    replace(previewStatus, h('span', { class: 'dot' }), h('span', null, h('strong', null, d ? 'Your unsaved changes' : 'The saved version'), ` · ${count(res.candidates)} customers scored as of ${date(res.asOf)}`));
    if (!p) {
      figTreated.textContent = '0';
      figHoldout.textContent = '0';
      figCost.textContent = money(0, cur);
      costSub.textContent = 'expected cost';
      delta.textContent = res.definition?.enabled === false ? 'The policy is disabled, so it decides nothing.' : '';
      replace(reasonsBox, emptyState('Decides nothing', 'A disabled policy makes no decisions.'));
      return;
    }
    figTreated.textContent = count(p.treated);
    figHoldout.textContent = count(p.holdout);
    figCost.textContent = money(p.expectedCost, p.currency);
    costSub.textContent = `of ${money(p.budgetLeftBefore, p.currency)} budget left`;
    delta.textContent = d && baseline ? `Saved version: ${count(baseline.treated)} offers, ${count(baseline.holdout)} held out, ${money(baseline.expectedCost, baseline.currency)}. ${p.upliftFallback ? 'Uplift is still on risk targeting.' : ''}` : p.upliftFallback ? 'Uplift targeting is still on its risk fallback (not enough settled outcomes).' : '';
    const reasons = Object.entries(p.reasons ?? {}).filter(([k, v]) => REASONS[k] && v > 0).sort((x, y) => y[1] - x[1]);
    if (reasonsChart) ctx.charts.drop(reasonsChart);
    reasonsChart = null;
    replace(
      reasonsBox,
      reasons.length
        ? (reasonsChart = ctx.charts.add(
            {
              type: 'bar',
              data: { labels: reasons.map(([k]) => REASONS[k]), datasets: [{ data: reasons.map(([, v]) => v), backgroundColor: reasons.map(([k]) => (k === 'budget_exhausted' || k === 'offer_over_budget' ? COLORS.bad : '#c7d2fe')), borderRadius: 4 }] },
              options: { indexAxis: 'y', animation: false, plugins: { legend: { display: false }, tooltip: { callbacks: { label: (c) => `${count(c.raw)} customers` } } }, scales: { x: { beginAtZero: true, ticks: { precision: 0 } }, y: { grid: { display: false } } } },
            },
            { height: Math.max(90, 34 * reasons.length + 30), label: 'customers not targeted, by reason' },
          ))
        : h('p', { class: 'muted small' }, 'Every scored customer was targeted.'),
    );
  }

  async function saveDraft() {
    const d = draft();
    if (!Object.keys(d).length) return;
    save.disabled = true;
    status.textContent = 'Saving…';
    formError.hidden = true;
    try {
      const updated = await api(`/policies/${encodeURIComponent(id)}`, { method: 'PATCH', body: d });
      toast(`Saved as version ${updated.version}`);
      saved = updated.definition;
      await render(main, ctx);
    } catch (err) {
      formError.textContent = describeError(err);
      formError.hidden = false;
      status.textContent = 'Not saved';
      save.disabled = false;
    }
  }

  await request(undefined);
}

function field(label, control, hint, id) {
  return h('div', { class: 'field' }, id ? h('label', { for: id }, label) : h('span', { class: 'field-label' }, label), control, hint ? h('div', { class: 'field-hint' }, hint) : null);
}

function get(obj, path) {
  return path.reduce((o, k) => (o == null ? undefined : o[k]), obj);
}

function setPath(obj, path, value) {
  let o = obj;
  path.slice(0, -1).forEach((k) => (o = o[k] ??= {}));
  o[path[path.length - 1]] = value;
  return obj;
}

function mergeInto(target, change) {
  for (const [k, v] of Object.entries(change)) {
    if (v && typeof v === 'object' && !Array.isArray(v)) target[k] = { ...(target[k] ?? {}), ...v };
    else target[k] = v;
  }
}

/** Only what differs from the saved definition (objects one level deep, as PATCH merges them). */
function diff(saved, change) {
  const out = {};
  for (const [k, v] of Object.entries(change)) {
    if (v && typeof v === 'object') {
      const inner = Object.fromEntries(Object.entries(v).filter(([ik, iv]) => !same(saved[k]?.[ik], iv)));
      if (Object.keys(inner).length) out[k] = inner;
    } else if (!same(saved[k], v)) out[k] = v;
  }
  return out;
}

function same(a, b) {
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) < 1e-9;
  if (Number.isNaN(b)) return false;
  return (a ?? '') === (b ?? '');
}
