import { Inngest, type ClientOptions } from 'inngest';
import type { Env } from '../env.js';
import { logger } from '../lib/logger.js';

export type InngestEnv = Pick<Env, 'INNGEST_EVENT_KEY' | 'INNGEST_SIGNING_KEY' | 'INNGEST_DEV' | 'INNGEST_BASE_URL'>;

function parseDevFlag(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  return undefined;
}

/**
 * Client options from configuration. INNGEST_DEV may be a flag (`1`) or the dev server's URL
 * (`http://127.0.0.1:8288`), as the SDK itself accepts; INNGEST_BASE_URL points at a
 * self-hosted Inngest server. Anything unset is left to the SDK's own defaults.
 */
export function inngestClientOptions(env: Partial<InngestEnv>): ClientOptions {
  const options: ClientOptions = { id: 'churn', logger: logger.child({ component: 'inngest' }) };
  if (env.INNGEST_EVENT_KEY) options.eventKey = env.INNGEST_EVENT_KEY;
  if (env.INNGEST_SIGNING_KEY) options.signingKey = env.INNGEST_SIGNING_KEY;
  const devFlag = parseDevFlag(env.INNGEST_DEV);
  if (devFlag !== undefined) options.isDev = devFlag;
  else if (env.INNGEST_DEV && /^https?:\/\//.test(env.INNGEST_DEV)) {
    options.isDev = true;
    options.baseUrl = env.INNGEST_DEV;
  }
  if (env.INNGEST_BASE_URL) options.baseUrl = env.INNGEST_BASE_URL;
  return options;
}

export function createInngestClient(env: Partial<InngestEnv>): Inngest {
  return new Inngest(inngestClientOptions(env));
}

const blank = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v.trim());

/**
 * The app's one Inngest client. Functions are declared on it, so it is built at import time
 * from the process environment (only the INNGEST_* variables, which cannot be invalid).
 */
export const inngest = createInngestClient({
  INNGEST_EVENT_KEY: blank(process.env.INNGEST_EVENT_KEY),
  INNGEST_SIGNING_KEY: blank(process.env.INNGEST_SIGNING_KEY),
  INNGEST_DEV: blank(process.env.INNGEST_DEV),
  INNGEST_BASE_URL: blank(process.env.INNGEST_BASE_URL),
});

