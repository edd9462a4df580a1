import { ChurnError } from '../../lib/errors.js';

/** The platform's own account, for events that carry no `account`. */
export const PLATFORM_ACCOUNT = 'platform';

/** The part of a Stripe event the store relies on; the rest is kept verbatim. */
export interface StripeEventEnvelope {
  id: string;
  object?: 'event';
  type: string;
  created: number;
  api_version?: string | null;
  livemode?: boolean;
  account?: string | null;
  data: { object: Record<string, unknown> & { id?: string; object?: string }; previous_attributes?: Record<string, unknown> };
  [key: string]: unknown;
}

/** Checks a parsed value is a Stripe event; a clear MALFORMED_JSON/VALIDATION_FAILED error otherwise. */
export function asStripeEvent(value: unknown): StripeEventEnvelope {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new ChurnError('VALIDATION_FAILED', 'not a Stripe event: expected a JSON object');
  const e = value as Record<string, unknown>;
  if (typeof e.id !== 'string' || !e.id.startsWith('evt_'))
    throw new ChurnError('VALIDATION_FAILED', 'not a Stripe event: `id` must be a string starting with evt_');
  if (typeof e.type !== 'string' || e.type.length === 0)
    throw new ChurnError('VALIDATION_FAILED', `event ${e.id}: \`type\` must be a non-empty string`);
  if (typeof e.created !== 'number' || !Number.isInteger(e.created))
    throw new ChurnError('VALIDATION_FAILED', `event ${e.id}: \`created\` must be unix seconds`);
  const data = e.data as Record<string, unknown> | undefined;
  if (!data || typeof data !== 'object' || !data.object || typeof data.object !== 'object')
    throw new ChurnError('VALIDATION_FAILED', `event ${e.id}: \`data.object\` is missing`);
  if (e.account !== undefined && e.account !== null && (typeof e.account !== 'string' || !e.account.startsWith('acct_')))
    throw new ChurnError('VALIDATION_FAILED', `event ${e.id}: \`account\` must be an acct_ id`);
  return e as unknown as StripeEventEnvelope;
}

/** `what` names the text in the error: the webhook body, or `line 12` of a file. */
export function parseStripeEventJson(text: string, what = 'body'): StripeEventEnvelope {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ChurnError('MALFORMED_JSON', `${what} is not valid JSON: ${(err as Error).message}`);
  }
  return asStripeEvent(parsed);
}

export function eventAccount(event: Pick<StripeEventEnvelope, 'account'>): string {
  return event.account ?? PLATFORM_ACCOUNT;
}
