import { z } from 'zod';
import { ConfigError } from './lib/errors.js';

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

/** A whole-number variable; unset or blank takes the default, anything else must be in range. */
function wholeNumber(min: number, max: number, fallback: number) {
  return optionalString.transform((v, ctx) => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      ctx.addIssue({ code: 'custom', message: `must be a whole number from ${min} to ${max}, got "${v}"` });
      return z.NEVER;
    }
    return n;
  });
}

/** One of a closed set of words; the message lists them. */
function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return optionalString.transform((v, ctx) => {
    if (v === undefined) return undefined;
    if (!(values as readonly string[]).includes(v)) {
      ctx.addIssue({ code: 'custom', message: `must be one of ${values.join(', ')}, got "${v}"` });
      return z.NEVER;
    }
    return v as T[number];
  });
}

/** pino's levels, plus `silent`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Where `churn serve` listens unless HOST or --host says otherwise: every interface (containers, VMs behind a proxy). */
export const DEFAULT_HOST = '0.0.0.0';

/** A host name or IP literal to listen on: no scheme, no port, no path. */
export function hostProblem(value: string): string | undefined {
  const bare = value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value;
  if (!/^[A-Za-z0-9.:%_-]+$/.test(bare) || /^[a-z]+:\/\//i.test(value)) {
    return `must be a host name or IP address to listen on (e.g. 127.0.0.1, 0.0.0.0, ::), got "${value}"`;
  }
  return undefined;
}

const EnvSchema = z.object({
  DATABASE_URL: optionalString.refine((v) => v === undefined || /^postgres(ql)?:\/\/[^\s]+$/.test(v), {
    message: 'must be a postgres:// or postgresql:// URL',
  }),
  DATA_DIR: z.string().default('./.data'),
  HOST: optionalString.transform((v, ctx) => {
    if (v === undefined) return DEFAULT_HOST;
    const problem = hostProblem(v);
    if (problem) {
      ctx.addIssue({ code: 'custom', message: problem });
      return z.NEVER;
    }
    return v.startsWith('[') && v.endsWith(']') ? v.slice(1, -1) : v;
  }),
  PORT: wholeNumber(1, 65535, 3000),
  STRIPE_SECRET_KEY: optionalString.refine((v) => v === undefined || /^(sk|rk)_(test|live)_/.test(v), {
    message: 'must start with sk_test_, sk_live_, rk_test_ or rk_live_',
  }),
  STRIPE_API_BASE: optionalString.refine((v) => v === undefined || /^https?:\/\//.test(v), {
    message: 'must be an http(s) URL',
  }),
  STRIPE_WEBHOOK_SECRET: optionalString.refine(
    (v) => v === undefined || v.split(',').every((s) => s.trim().startsWith('whsec_')),
    { message: 'must be whsec_... (comma-separated during rotation)' },
  ),
  WEBHOOK_MAX_BYTES: wholeNumber(1024, 2 ** 31 - 1, 512 * 1024),
  INNGEST_EVENT_KEY: optionalString,
  INNGEST_SIGNING_KEY: optionalString,
  INNGEST_DEV: optionalString,
  INNGEST_BASE_URL: optionalString,
  MODEL_DIR: z.string().default('./models'),
  CHURN_ADMIN_TOKEN: optionalString,
  TFJS_BACKEND: oneOf(['tensorflow', 'wasm', 'cpu'] as const),
  LOG_LEVEL: oneOf(LOG_LEVELS),
  /** OTLP/HTTP collector for traces, e.g. http://127.0.0.1:4318; unset = no tracing (the no-op API) */
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalString.refine((v) => v === undefined || /^https?:\/\/[^\s]+$/.test(v), {
    message: 'must be an http(s) URL',
  }),
  /** where `churn alerts --check` and the check-alerts function post new and cleared alerts ({text}, Slack-compatible) */
  ALERT_WEBHOOK_URL: optionalString.refine((v) => v === undefined || /^https?:\/\/[^\s]+$/.test(v), {
    message: 'must be an http(s) URL',
  }),
  /** 1 = ALERT_WEBHOOK_URL may resolve to a private or loopback address (a self-hosted receiver) */
  ALERT_WEBHOOK_ALLOW_PRIVATE: oneOf(['0', '1'] as const),
});

export type Env = z.infer<typeof EnvSchema>;

/** Parses configuration once; the first bad variable becomes one ConfigError naming it. */
export function parseEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const result = EnvSchema.safeParse(source);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new ConfigError(String(issue.path[0] ?? 'environment'), issue.message);
  }
  return result.data;
}

/**
 * LOG_LEVEL alone, for every command (even those that read no other configuration): the
 * logger exists before any command runs, so a bad level must still be one line, not a stack.
 */
export function checkLogLevel(source: NodeJS.ProcessEnv = process.env): void {
  const v = source.LOG_LEVEL?.trim();
  if (v && !(LOG_LEVELS as readonly string[]).includes(v)) throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got "${v}"`);
}

export function webhookSecrets(env: Pick<Env, 'STRIPE_WEBHOOK_SECRET'>): string[] {
  return (env.STRIPE_WEBHOOK_SECRET ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}
