// The dashboard's only way to the server: /v1 with the signed-in key as a Bearer token.
// The key lives in sessionStorage, so it is gone when the tab is closed.

const KEY = 'churn.apiKey';

export const session = {
  get key() {
    return sessionStorage.getItem(KEY);
  },
  set(key) {
    sessionStorage.setItem(KEY, key);
  },
  clear() {
    sessionStorage.removeItem(KEY);
  },
};

export class ApiError extends Error {
  constructor(status, code, message, requestId, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.requestId = requestId;
    this.details = details;
  }
}

/** What a person should read for an API error (the server's messages are written for people). */
export function describeError(err) {
  if (err instanceof ApiError) {
    if (err.status === 0) return 'The churn server cannot be reached. Check that `churn serve` is running.';
    if (err.status === 429) return 'Too many requests with this key: wait a moment and try again.';
    return err.message;
  }
  return err instanceof Error ? err.message : String(err);
}

/**
 * fetch /v1<path>. Resolves to the parsed JSON; rejects with ApiError (status 0 = network).
 * A 401 signs the session out (the key was revoked or is wrong) unless `keepSession`.
 */
export async function api(path, { method = 'GET', body, key = session.key, signal, keepSession = false } = {}) {
  const headers = { accept: 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    // `signal` marks the answer unwanted (the person left the page) without cancelling the
    // request: a cancelled request is a network error in the browser's log, and the server has
    // done the work anyway
    res = await fetch(`/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'NETWORK', 'network error', null);
  }
  const text = await res.text();
  if (signal?.aborted) throw new DOMException('the page was left', 'AbortError');
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const e = data?.error;
    const error = new ApiError(res.status, e?.code ?? 'HTTP_' + res.status, e?.message ?? `the server answered ${res.status}`, e?.requestId ?? res.headers.get('x-request-id'), e?.details);
    if (res.status === 401 && !keepSession) {
      session.clear();
      window.dispatchEvent(new CustomEvent('churn:signed-out', { detail: { reason: 'Your key is no longer accepted. Sign in again.' } }));
    }
    throw error;
  }
  return data;
}

/** Builds a query string from the defined, non-empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const text = q.toString();
  return text ? `?${text}` : '';
}
