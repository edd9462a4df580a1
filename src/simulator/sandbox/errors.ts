/**
 * Stripe's error envelope: `{ error: { type, code?, message, param?, doc_url? } }` with the status code
 * Stripe uses for it, so the official SDK turns each into the same error class it would in production.
 */
export type StripeErrorType =
  | 'api_error'
  | 'card_error'
  | 'idempotency_error'
  | 'invalid_request_error'
  | 'rate_limit_error'
  | 'authentication_error';

export interface StripeErrorBody {
  type: StripeErrorType;
  message: string;
  code?: string;
  param?: string;
  doc_url?: string;
  request_log_url?: string;
}

const DOC_BASE = 'https://stripe.com/docs/error-codes/';

export class StripeApiError extends Error {
  readonly status: number;
  readonly body: StripeErrorBody;
  /** Extra response headers (e.g. `Stripe-Should-Retry`). */
  readonly headers: Record<string, string>;

  constructor(status: number, body: StripeErrorBody, headers: Record<string, string> = {}) {
    super(body.message);
    this.name = 'StripeApiError';
    this.status = status;
    this.body = body.code && !body.doc_url ? { ...body, doc_url: DOC_BASE + body.code.replace(/_/g, '-') } : body;
    this.headers = headers;
  }

  toJSON(): { error: StripeErrorBody } {
    return { error: this.body };
  }
}

export function resourceMissing(kind: string, id: string, param = 'id'): StripeApiError {
  return new StripeApiError(404, {
    type: 'invalid_request_error',
    code: 'resource_missing',
    message: `No such ${kind}: '${id}'`,
    param,
  });
}

export function invalidParam(param: string, message: string, code = 'parameter_invalid'): StripeApiError {
  return new StripeApiError(400, { type: 'invalid_request_error', code, message, param });
}

export function missingParam(param: string): StripeApiError {
  return new StripeApiError(400, {
    type: 'invalid_request_error',
    code: 'parameter_missing',
    message: `Missing required param: ${param}.`,
    param,
  });
}

export function unknownParam(param: string): StripeApiError {
  return new StripeApiError(400, {
    type: 'invalid_request_error',
    code: 'parameter_unknown',
    message: `Received unknown parameter: ${param}`,
    param,
  });
}

export function unrecognizedUrl(method: string, path: string): StripeApiError {
  return new StripeApiError(404, {
    type: 'invalid_request_error',
    message: `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
  });
}

export function rateLimited(): StripeApiError {
  return new StripeApiError(
    429,
    {
      type: 'rate_limit_error',
      code: 'rate_limit',
      message: 'Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.',
    },
    // Stripe marks retryable 429s (lock timeouts, test-mode limits) so the SDK's own retry takes them.
    { 'Stripe-Should-Retry': 'true' },
  );
}

export function internalError(): StripeApiError {
  return new StripeApiError(500, {
    type: 'api_error',
    message: 'An unknown error occurred',
  });
}
