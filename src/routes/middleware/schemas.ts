import { z } from '@hono/zod-openapi';
import { ERROR_CODES, type ErrorCode } from '../../lib/errors.js';

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]),
      message: z.string(),
      requestId: z.string(),
      /** with VALIDATION_FAILED: each failing field, its path starting with the request part (query, json, param) */
      details: z.array(z.object({ path: z.array(z.string()), message: z.string() })).optional(),
    }),
  })
  .openapi('Error');

const err = (description: string) => ({ content: { 'application/json': { schema: ErrorSchema } }, description });

/** Errors every authenticated route may answer with. */
export const commonErrors = {
  401: err('missing, unknown or revoked API key'),
  403: err('the key\'s role is too low'),
  422: err('validation failed; details lists the failing field paths'),
  429: err('rate limit reached; see Retry-After'),
};

export function json<T extends z.ZodType>(schema: T, description: string) {
  return { content: { 'application/json': { schema } }, description };
}

export const notFound = { 404: err('not found') };
/** Added by apiRoute to every operation that takes a body. */
export const malformedBody = { 400: err('the body is not valid JSON (MALFORMED_JSON)') };
export const conflict = { 409: err('conflicts with the current state') };
export const Loose = z.record(z.string(), z.unknown());
