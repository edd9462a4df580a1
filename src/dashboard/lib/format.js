// Formatting for people. Money arrives in integer minor units with its currency.

const ZERO_DECIMAL = new Set(['bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf']);

export function majorUnits(minor, currency = 'usd') {
  return ZERO_DECIMAL.has(String(currency).toLowerCase()) ? minor : minor / 100;
}

export function toMinor(major, currency = 'usd') {
  return Math.round(ZERO_DECIMAL.has(String(currency).toLowerCase()) ? major : major * 100);
}

/** $1,234 (whole units unless small) */
export function money(minor, currency = 'usd', { exact = false } = {}) {
  if (minor === null || minor === undefined || Number.isNaN(minor)) return '–';
  const value = majorUnits(minor, currency);
  const digits = exact || Math.abs(value) < 100 ? 2 : 0;
  try {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency: String(currency).toUpperCase(), minimumFractionDigits: digits, maximumFractionDigits: digits }).format(value);
  } catch {
    return `${value.toFixed(digits)} ${String(currency).toUpperCase()}`;
  }
}

/** $12.3k */
export function moneyShort(minor, currency = 'usd') {
  if (minor === null || minor === undefined) return '–';
  const value = majorUnits(minor, currency);
  try {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency: String(currency).toUpperCase(), notation: 'compact', maximumFractionDigits: 1 }).format(value);
  } catch {
    return money(minor, currency);
  }
}

export function count(n) {
  return n === null || n === undefined ? '–' : new Intl.NumberFormat('en-US').format(n);
}

/** 0.1234 -> "12.3%" */
export function pct(p, digits = 1) {
  return p === null || p === undefined || Number.isNaN(p) ? '–' : `${(p * 100).toFixed(digits)}%`;
}

/** a difference in probability, in percentage points: "+2.1 pts" */
export function points(d, digits = 1) {
  if (d === null || d === undefined) return '–';
  const v = d * 100;
  return `${v > 0 ? '+' : v < 0 ? '−' : ''}${Math.abs(v).toFixed(digits)} pts`;
}

const DATE = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
const DATE_TIME = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZone: 'UTC' });
const MONTH = new Intl.DateTimeFormat('en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' });

/** unix seconds or ISO string -> "3 Nov 2025" (UTC) */
export function date(t) {
  if (t === null || t === undefined) return '–';
  return DATE.format(typeof t === 'number' ? new Date(t * 1000) : new Date(t));
}

export function dateTime(t) {
  if (t === null || t === undefined) return '–';
  return `${DATE_TIME.format(typeof t === 'number' ? new Date(t * 1000) : new Date(t))} UTC`;
}

/** '2025-11' -> 'November 2025' */
export function monthName(month) {
  const [y, m] = month.split('-').map(Number);
  return MONTH.format(new Date(Date.UTC(y, m - 1, 1)));
}

/** snake_case or kebab -> "Sentence case" */
export function humanize(text) {
  const t = String(text ?? '').replace(/[_-]+/g, ' ').trim();
  return t ? t[0].toUpperCase() + t.slice(1) : '';
}

export function plural(n, one, many = `${one}s`) {
  return `${count(n)} ${n === 1 ? one : many}`;
}
