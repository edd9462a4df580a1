import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { listAlerts } from '../services/alerts/run-checks.js';
import { apiRoute, type ApiEnv } from './middleware/auth.js';
import { commonErrors, json } from './middleware/schemas.js';

export const AlertSchema = z
  .object({
    id: z.string(), kind: z.string(), key: z.string(), severity: z.string(), message: z.string(), value: z.number(), threshold: z.number(),
    openedAt: z.number().int(), lastSeenAt: z.number().int(), closedAt: z.number().int().nullable(),
  })
  .openapi('Alert');

/** GET /v1/alerts: the anomaly alerts the service's own checks stored (open ones by default). */
export function alertsRoutes(api: OpenAPIHono<ApiEnv>): void {
  api.openapi(
    apiRoute('viewer', {
      method: 'get', path: '/v1/alerts', tags: ['alerts'], summary: 'Anomaly alerts, newest first: open ones, or all with status=all',
      request: { query: z.object({ status: z.enum(['open', 'all']).default('open'), limit: z.coerce.number().int().min(1).max(500).default(200) }) },
      responses: { 200: json(z.object({ items: z.array(AlertSchema) }), 'alerts'), ...commonErrors },
    }),
    async (c) => {
      const { status, limit } = c.req.valid('query');
      return c.json({ items: await listAlerts(c.get('deps').database, { includeClosed: status === 'all', limit }) }, 200);
    },
  );
}
