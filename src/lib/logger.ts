import { pino, type DestinationStream, type Logger } from 'pino';
import { LOG_LEVELS } from '../env.js';

const LEVELS = new Set<string>(LOG_LEVELS);
const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/**
 * The configured level. A bad LOG_LEVEL must not throw here (this runs at import time, before
 * any command can print the one-line configuration error): it falls back to `info`, and
 * `checkLogLevel` / `parseEnv` report it.
 */
function configuredLevel(env: NodeJS.ProcessEnv): string {
  const wanted = env.LOG_LEVEL?.trim();
  if (wanted && LEVELS.has(wanted)) return wanted;
  if (env.NODE_ENV === 'test' || env.VITEST) return 'silent';
  return 'info';
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /\s/.test(value) ? JSON.stringify(value) : value;
  if (value && typeof value === 'object' && 'message' in value) return JSON.stringify((value as { message: unknown }).message);
  return JSON.stringify(value);
}

/**
 * Logs for a person at a terminal: `12:00:01 WARN  message key=value`. Anywhere else (a pipe, a
 * file, a log collector) the lines stay pino's JSON.
 */
export function terminalLogStream(out: { write(text: string): unknown }): DestinationStream {
  return {
    write(line: string) {
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        out.write(line);
        return;
      }
      const { level, time, msg, pid: _pid, hostname: _host, ...fields } = record;
      const clock = typeof time === 'number' ? new Date(time).toISOString().slice(11, 19) : '';
      const extra = Object.entries(fields).map(([k, v]) => `${k}=${formatValue(v)}`);
      out.write(`${clock} ${(LEVEL_NAMES[Number(level)] ?? String(level)).padEnd(5)} ${String(msg ?? '')}${extra.length ? `  ${extra.join(' ')}` : ''}\n`);
    },
  };
}

/**
 * Never logged, wherever they appear (top level or one level down): keys, tokens, signatures and
 * authorization headers; database URLs (they carry passwords); and whole card objects (a charge's
 * payment_method_details, a payment method's card), so no card number, expiry or fingerprint can
 * reach a log even if a full Stripe object is logged by mistake.
 */
export const LOG_REDACT_PATHS = [
  'secret', '*.secret', 'apiKey', '*.apiKey', 'key', '*.key', 'authorization', '*.authorization',
  'headers.authorization', 'headers.cookie', 'headers["stripe-signature"]', 'headers["x-api-key"]', 'signature', '*.signature',
  'password', '*.password', 'token', '*.token', 'secretKey', '*.secretKey', 'webhookSecret', '*.webhookSecret',
  'signingKey', '*.signingKey', 'eventKey', '*.eventKey', 'databaseUrl', '*.databaseUrl',
  'card', '*.card', 'payment_method_details', '*.payment_method_details', 'cvc', '*.cvc',
  'STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET', 'CHURN_ADMIN_TOKEN', 'INNGEST_SIGNING_KEY', 'INNGEST_EVENT_KEY', 'DATABASE_URL',
  'ALERT_WEBHOOK_URL',
] as const;
export const LOG_REDACT_CENSOR = '[redacted]';

/**
 * One structured logger, always on stderr: stdout carries only a command's human progress and
 * results (or its CSV/JSON), so it can be piped. Secrets never reach it: keys, signatures and
 * authorization headers are redacted wherever they appear in a logged object.
 */
export const logger: Logger = pino(
  {
    level: configuredLevel(process.env),
    redact: { paths: [...LOG_REDACT_PATHS], censor: LOG_REDACT_CENSOR },
  },
  process.stderr.isTTY ? terminalLogStream(process.stderr) : pino.destination({ fd: 2, sync: true }),
);

export type { Logger };
