import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { getIntervention, listInterventions } from '../services/interventions/list-interventions.js';
import { apiRoute, type ApiEnv } from './middleware/auth.js';
import { commonErrors, json, Loose, notFound } from './middleware/schemas.js';

export const InterventionSchema = Loose.openapi('Intervention');

export function interventionsRoutes(api: OpenAPIHono<ApiEnv>): void {
  api.openapi(
    apiRoute('viewer', {
      method: 'get', path: '/v1/interventions', tags: ['interventions'], summary: 'Interventions, newest decision first (cursor pages)',
      request: {
        query: z.object({
          policyId: z.string().optional(), arm: z.enum(['treatment', 'holdout']).optional(), status: z.string().optional(),
          outcome: z.enum(['stayed', 'churned', 'pending']).optional(), limit: z.coerce.number().int().min(1).max(200).default(50), cursor: z.string().optional(),
        }),
      },
      responses: { 200: json(z.object({ items: z.array(InterventionSchema), nextCursor: z.string().nullable() }), 'a page'), ...commonErrors },
    }),
    async (c) => {
      const page = await listInterventions(c.get('deps').database, c.req.valid('query'));
      return c.json(page as unknown as { items: Record<string, unknown>[]; nextCursor: string | null }, 200);
    },
  );
  api.openapi(
    apiRoute('viewer', { method: 'get', path: '/v1/interventions/{id}', tags: ['interventions'], summary: 'One intervention', request: { params: z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' } }) }) }, responses: { 200: json(InterventionSchema, 'intervention'), ...notFound, ...commonErrors } }),
    async (c) => c.json((await getIntervention(c.get('deps').database, c.req.valid('param').id)) as unknown as Record<string, unknown>, 200),
  );
}
