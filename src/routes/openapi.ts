import { OpenAPIHono } from '@hono/zod-openapi';
import { HTTPException } from 'hono/http-exception';
import { alertsRoutes } from './alerts.js';
import { customersRoutes } from './customers.js';
import { errorResponse, handleError } from './errors.js';
import { interventionsRoutes } from './interventions.js';
import { keysRoutes } from './keys.js';
import { apiAuth, DEFAULT_RATE_LIMIT, type ApiEnv } from './middleware/auth.js';
import { meRoutes } from './me.js';
import { modelsRoutes } from './models.js';
import { overviewRoutes } from './overview.js';
import { policiesRoutes } from './policies.js';
import { reportsRoutes } from './reports.js';
import { trainingRunsRoutes } from './training-runs.js';

export const OPENAPI_INFO = { title: 'churn API', version: '1' };

/** The /v1 JSON API and its OpenAPI 3.1 document at /openapi.json. */
export function apiRoutes(options: { rateLimit?: { capacity: number; refillPerSecond: number } } = {}): OpenAPIHono<ApiEnv> {
  const api = new OpenAPIHono<ApiEnv>({
    // request validation failures: 422 with each failing field's path
    defaultHook: (result, c) => {
      if (!result.success) {
        const details = result.error.issues.map((i) => ({ path: [result.target, ...i.path.map(String)], message: i.message }));
        return errorResponse(c, 'VALIDATION_FAILED', `invalid ${result.target}: ${details.map((d) => `${d.path.join('.')} ${d.message}`).join('; ')}`, details);
      }
    },
  });
  api.onError((err, c) => {
    if (err instanceof HTTPException && err.status === 400) return errorResponse(c, 'MALFORMED_JSON', 'the body is not valid JSON');
    return handleError(err, c);
  });
  api.use('/v1/*', apiAuth(options.rateLimit ?? DEFAULT_RATE_LIMIT));
  api.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer', description: 'an API key (churn_live_…) or CHURN_ADMIN_TOKEN' });
  policiesRoutes(api);
  customersRoutes(api);
  interventionsRoutes(api);
  reportsRoutes(api);
  modelsRoutes(api);
  trainingRunsRoutes(api);
  keysRoutes(api);
  overviewRoutes(api);
  alertsRoutes(api);
  meRoutes(api);
  api.doc31('/openapi.json', { openapi: '3.1.0', info: OPENAPI_INFO });
  return api;
}

