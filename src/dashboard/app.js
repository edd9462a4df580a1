// The dashboard shell: sign-in with an API key, the navigation, and a hash router that renders
// one page at a time into <main>.

import { api, ApiError, describeError, session } from './lib/api.js';
import { ChartSet } from './lib/charts.js';
import { h, icon, replace } from './lib/dom.js';
import { withCode } from './lib/ui.js';
import * as alerts from './pages/alerts.js';
import * as customer from './pages/customer.js';
import * as customers from './pages/customers.js';
import * as models from './pages/models.js';
import * as overview from './pages/overview.js';
import * as policies from './pages/policies.js';
import * as policy from './pages/policy.js';
import * as uplift from './pages/uplift.js';

const NAV = [
  { path: '/', label: 'Overview', icon: 'overview' },
  { path: '/customers', label: 'Customers', icon: 'customers' },
  { path: '/policies', label: 'Policies', icon: 'policies' },
  { path: '/uplift', label: 'Uplift', icon: 'uplift' },
  { path: '/models', label: 'Model', icon: 'models' },
  { path: '/alerts', label: 'Alerts', icon: 'alerts' },
];

const ROUTES = [
  { pattern: /^\/$/, page: overview, nav: '/' },
  { pattern: /^\/customers$/, page: customers, nav: '/customers' },
  { pattern: /^\/customers\/([^/]+)\/([^/]+)$/, page: customer, nav: '/customers', params: ['account', 'customerId'] },
  { pattern: /^\/policies$/, page: policies, nav: '/policies' },
  { pattern: /^\/policies\/([^/]+)$/, page: policy, nav: '/policies', params: ['id'] },
  { pattern: /^\/uplift$/, page: uplift, nav: '/uplift' },
  { pattern: /^\/models$/, page: models, nav: '/models' },
  { pattern: /^\/alerts$/, page: alerts, nav: '/alerts' },
];

const root = document.getElementById('root');
let me = null;
let current = null;

export function navigate(path) {
  location.hash = `#${path}`;
}

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, search = ''] = raw.split('?');
  return { path: path || '/', query: new URLSearchParams(search) };
}

function signInView(message) {
  const input = h('input', { id: 'api-key', name: 'api-key', type: 'password', autocomplete: 'off', spellcheck: 'false', placeholder: 'churn_live_…', required: true, 'aria-describedby': 'signin-help' });
  const error = h('p', { class: 'signin-error', role: 'alert', id: 'signin-error' }, message ?? '');
  if (!message) error.hidden = true;
  const button = h('button', { class: 'btn btn-primary btn-block', type: 'submit' }, 'Sign in');
  const form = h(
    'form',
    {
      class: 'signin-card',
      onsubmit: async (e) => {
        e.preventDefault();
        const key = input.value.trim();
        if (!key) return;
        button.disabled = true;
        button.textContent = 'Checking…';
        error.hidden = true;
        try {
          me = await api('/me', { key, keepSession: true });
          session.set(key);
          start();
        } catch (err) {
          replace(error, ...withCode(err instanceof ApiError && err.status === 401 ? 'That key is not valid: it is unknown, mistyped or revoked. Create one with `churn keys create --role viewer`.' : describeError(err)));
          error.hidden = false;
          button.disabled = false;
          button.textContent = 'Sign in';
          input.select();
        }
      },
    },
    h('div', { class: 'brand brand-large' }, h('img', { src: '/dashboard/favicon.svg', alt: '', width: 32, height: 32 }), h('span', null, 'churn')),
    h('h1', null, 'Sign in'),
    h('p', { class: 'muted', id: 'signin-help' }, 'Paste an API key. It stays in this browser tab only and is sent to this server with each request.'),
    h('label', { for: 'api-key' }, 'API key'),
    input,
    error,
    button,
    h('p', { class: 'muted small' }, 'No key yet? Run ', h('code', null, 'npx churn keys create --role viewer'), ' on the server.'),
  );
  replace(root, h('div', { class: 'signin' }, form));
  root.classList.remove('boot');
  root.removeAttribute('aria-busy');
  input.focus();
}

function shell() {
  const nav = h(
    'nav',
    { class: 'nav', 'aria-label': 'Main' },
    NAV.map((n) => h('a', { href: `#${n.path}`, class: 'nav-link', dataset: { path: n.path } }, icon(n.icon), h('span', null, n.label))),
  );
  const role = h('span', { class: `role role-${me.role}`, title: `signed in as ${me.actor}` }, me.role);
  const signOut = h('button', { class: 'btn btn-ghost nav-signout', type: 'button', onclick: () => signOutNow() }, icon('logout', 16), h('span', null, 'Sign out'));
  const main = h('main', { id: 'main', class: 'main', tabindex: '-1' });
  replace(
    root,
    h('div', { class: 'layout' }, h('aside', { class: 'sidebar' }, h('div', { class: 'sidebar-inner' }, h('a', { class: 'brand', href: '#/' }, h('img', { src: '/dashboard/favicon.svg', alt: '', width: 26, height: 26 }), h('span', null, 'churn')), nav, h('div', { class: 'sidebar-foot' }, h('div', { class: 'who' }, h('span', { class: 'muted small' }, 'Signed in'), role), signOut))), main),
  );
  root.classList.remove('boot');
  root.removeAttribute('aria-busy');
  return main;
}

function signOutNow(message) {
  current?.charts.destroy();
  current?.controller.abort();
  current = null;
  me = null;
  session.clear();
  // the next person to sign in starts on the overview
  history.replaceState(null, '', '/');
  signInView(message);
}

async function route() {
  if (!me) return;
  const main = document.getElementById('main');
  if (!main) return;
  const { path, query } = parseHash();
  const match = ROUTES.map((r) => ({ r, m: r.pattern.exec(path) })).find((x) => x.m);
  current?.charts.destroy();
  current?.controller.abort();
  for (const a of document.querySelectorAll('.nav-link')) a.classList.toggle('active', match?.r.nav === a.dataset.path);
  if (!match) {
    replace(main, h('div', { class: 'state state-empty' }, h('h3', null, 'No such page'), h('p', null, h('a', { href: '#/' }, 'Back to the overview'))));
    return;
  }
  const params = Object.fromEntries((match.r.params ?? []).map((name, i) => [name, decodeURIComponent(match.m[i + 1])]));
  const ctx = { params, query, role: me.role, actor: me.actor, charts: new ChartSet(), controller: new AbortController(), navigate, main };
  ctx.signal = ctx.controller.signal;
  current = ctx;
  main.scrollTop = 0;
  try {
    await match.r.page.render(main, ctx);
  } catch (err) {
    if (err?.name === 'AbortError' || ctx !== current) return;
    replace(main, h('div', { class: 'state state-error', role: 'alert' }, h('h3', null, 'This page could not be shown'), h('p', null, describeError(err))));
  }
}

async function start() {
  if (!me) {
    try {
      me = await api('/me', { keepSession: true });
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return signOutNow('Your key is no longer accepted. Sign in again.');
      replace(root, h('div', { class: 'signin' }, h('div', { class: 'signin-card' }, h('h1', null, 'Cannot reach churn'), h('p', null, describeError(err)), h('button', { class: 'btn btn-primary', type: 'button', onclick: () => start() }, 'Try again'))));
      root.classList.remove('boot');
      return;
    }
  }
  shell();
  await route();
}

window.addEventListener('hashchange', () => route());
window.addEventListener('churn:signed-out', (e) => signOutNow(e.detail?.reason));

if (session.key) start();
else signInView();
