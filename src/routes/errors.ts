import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ChurnError, ERROR_CODES, type ErrorCode } from '../lib/errors.js';
import { logger } from '../lib/logger.js';

export interface ErrorBody {
  error: { code: ErrorCode; message: string; requestId: string; details?: unknown };
}

/** The one error envelope every route answers with: a closed code, a message, the request id. */
export function errorResponse(c: Context, code: ErrorCode, message: string, details?: unknown) {
  const body: ErrorBody = { error: { code, message, requestId: String(c.get('requestId' as never) ?? '') } };
  if (details !== undefined) body.error.details = details;
  return c.json(body, ERROR_CODES[code] as ContentfulStatusCode);
}

/** Maps anything thrown to the envelope; unknown errors become INTERNAL without a stack trace. */
export function handleError(err: unknown, c: Context) {
  if (err instanceof ChurnError) return errorResponse(c, err.code, err.message, err.details);
  const status = (err as { status?: number })?.status;
  if (status === 413) return errorResponse(c, 'PAYLOAD_TOO_LARGE', 'request body too large');
  logger.error({ err, requestId: c.get('requestId' as never) }, 'unhandled error');
  return errorResponse(c, 'INTERNAL', 'internal error');
}
