import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import type { UnixSeconds } from '../../lib/clock.js';
import { errorMessage } from '../../lib/errors.js';
import { logger } from '../../lib/logger.js';
import { alertDeliveries } from '../../lib/metrics.js';
import { resolveOutboundTarget } from '../../lib/outbound.js';

export interface AlertDelivery {
  /** ALERT_WEBHOOK_URL */
  url: string;
  /** ALERT_WEBHOOK_ALLOW_PRIVATE=1: a receiver on this machine or the private network */
  allowPrivate?: boolean;
  /** attempts per notice (default 3) */
  attempts?: number;
  /** wait before the second attempt, doubled after each (default 500 ms) */
  backoffMs?: number;
  timeoutMs?: number;
  /** how to wait between attempts (tests) */
  sleep?: (ms: number) => Promise<void>;
}

/** The delivery configured by the environment, or null when ALERT_WEBHOOK_URL is unset. */
export function alertDeliveryFromEnv(env: { ALERT_WEBHOOK_URL?: string; ALERT_WEBHOOK_ALLOW_PRIVATE?: string }): AlertDelivery | null {
  return env.ALERT_WEBHOOK_URL ? { url: env.ALERT_WEBHOOK_URL, allowPrivate: env.ALERT_WEBHOOK_ALLOW_PRIVATE === '1' } : null;
}

/** A receiver the product will not post to (a private address without allow-private); never retried. */
export class AlertDeliveryRefused extends Error {}

class PermanentRejection extends Error {}

/**
 * Resolves once, refuses private and loopback addresses unless allowed, and connects to the checked
 * address itself, so a DNS answer that changes between the check and the connection cannot send the
 * post elsewhere (TLS still verifies the certificate against the host name).
 */
async function postOnce(url: URL, body: string, delivery: AlertDelivery): Promise<number> {
  const target = await resolveOutboundTarget(url, delivery.allowPrivate === true, (m) => new AlertDeliveryRefused(`${m} (set ALERT_WEBHOOK_ALLOW_PRIVATE=1 to allow it)`));
  const hostname = target.hostname;
  const client = url.protocol === 'https:' ? https : http;
  const timeoutMs = delivery.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const request = client.request(
      {
        host: target.address,
        family: target.family,
        port: url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        servername: isIP(hostname) ? undefined : hostname,
        headers: { host: url.host, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
        timeout: timeoutMs,
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer from ${url.host} within ${timeoutMs} ms`)));
    request.on('error', reject);
    request.end(body);
  });
}

/**
 * Posts `{text}` (what Slack's incoming webhooks and most chat bridges accept), retrying network
 * errors, 429s and 5xx with a doubling wait; any other 4xx and a refused address are final.
 */
export async function postAlertText(delivery: AlertDelivery, text: string): Promise<void> {
  const url = new URL(delivery.url);
  const body = JSON.stringify({ text });
  const attempts = delivery.attempts ?? 3;
  const sleep = delivery.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let wait = delivery.backoffMs ?? 500;
  let last: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const status = await postOnce(url, body, delivery);
      if (status >= 200 && status < 300) return;
      if (status !== 429 && status < 500) throw new PermanentRejection(`${url.host} answered ${status}`);
      last = new Error(`${url.host} answered ${status}`);
    } catch (err) {
      if (err instanceof AlertDeliveryRefused || err instanceof PermanentRejection) throw err;
      last = err;
    }
    if (attempt < attempts) {
      await sleep(wait);
      wait *= 2;
    }
  }
  throw last instanceof Error ? last : new Error(String(last));
}

export interface DeliverySummary {
  delivered: number;
  failed: number;
  refused: number;
}

/**
 * Sends a notice for every alert opened or closed and not yet announced, and records each one the
 * receiver accepted; a notice that failed stays unannounced and is tried again at the next check.
 */
export async function deliverAlertNotices(database: Database, delivery: AlertDelivery, now: UnixSeconds): Promise<DeliverySummary> {
  const summary: DeliverySummary = { delivered: 0, failed: 0, refused: 0 };
  const rows = await database.query<{ id: string; kind: string; key: string; severity: string; message: string; closed_at: number | null; notified_open_at: number | null }>(sql`
    select id, kind, key, severity, message, closed_at, notified_open_at from alerts
     where (closed_at is null and notified_open_at is null)
        or (closed_at is not null and notified_close_at is null and notified_open_at is not null)
     order by opened_at, id limit 100`);
  for (const row of rows) {
    const closing = row.closed_at !== null;
    const text = closing
      ? `:white_check_mark: resolved ${row.kind} (${row.key}): ${row.message}`
      : `:rotating_light: ${row.severity} ${row.kind} (${row.key}): ${row.message}`;
    try {
      await postAlertText(delivery, text);
      await database.query(closing ? sql`update alerts set notified_close_at = ${now} where id = ${row.id}` : sql`update alerts set notified_open_at = ${now} where id = ${row.id}`);
      summary.delivered += 1;
      alertDeliveries.inc({ outcome: 'delivered' });
    } catch (err) {
      const refused = err instanceof AlertDeliveryRefused;
      summary[refused ? 'refused' : 'failed'] += 1;
      alertDeliveries.inc({ outcome: refused ? 'refused' : 'failed' });
      logger.warn({ alertId: row.id, error: errorMessage(err) }, refused ? 'alert webhook refused' : 'alert webhook delivery failed; will retry at the next check');
      // The same receiver refuses every notice: one warning is enough.
      if (refused) break;
    }
  }
  return summary;
}
