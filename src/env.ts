import { z } from 'zod';
import { ConfigError } from './lib/errors.js';

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const EnvSchema = z.object({
  DATABASE_URL: optionalString.refine((v) => v === undefined || /^postgres(ql)?:\/\//.test(v), {
    message: 'must be a postgres:// or postgresql:// URL',
  }),
  DATA_DIR: z.string().default('./.data'),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
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
  WEBHOOK_MAX_BYTES: z.coerce.number().int().min(1024).default(512 * 1024),
  INNGEST_EVENT_KEY: optionalString,
  INNGEST_SIGNING_KEY: optionalString,
  INNGEST_DEV: optionalString,
  INNGEST_BASE_URL: optionalString,
  MODEL_DIR: z.string().default('./models'),
  CHURN_ADMIN_TOKEN: optionalString,
  TFJS_BACKEND: z.enum(['tensorflow', 'wasm', 'cpu']).optional(),
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

export function webhookSecrets(env: Pick<Env, 'STRIPE_WEBHOOK_SECRET'>): string[] {
  return (env.STRIPE_WEBHOOK_SECRET ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}
