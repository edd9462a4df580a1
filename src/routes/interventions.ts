import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { getIntervention, listInterventions } from '../services/interventions/list-interventions.js';
import { apiRoute, type ApiEnv } from './middleware/auth.js';
import { commonErrors, json, notFound } from './middleware/schemas.js';

export const InterventionSchema = z
  .object({
    id: z.string(), account: z.string(), customerId: z.string(), subscriptionId: z.string().nullable(), policyId: z.string(), policyVersion: z.number().int(),
    decidedAt: z.number().int().openapi({ description: 'unix seconds (the score\'s as-of)' }),
    arm: z.enum(['treatment', 'holdout']), action: z.enum(['coupon', 'trial_extension', 'pause', 'notify']),
    params: z.record(z.string(), z.unknown()).openapi({ description: 'the action\'s parameters as applied (coupon id, days, resumes_at …)' }),
    status: z.enum(['decided', 'applying', 'applied', 'failed', 'holdout', 'dry_run', 'skipped']),
    probability: z.number(), band: z.enum(['low', 'medium', 'high', 'critical']), modelVersion: z.string().nullable(), upliftEffect: z.number().nullable(),
    reasons: z.array(z.object({ code: z.string(), detail: z.string() })).openapi({ description: 'why, and for skips why not' }),
    mrr: z.number().int(), currency: z.string(),
    expectedCost: z.number().int().openapi({ description: 'minor units of the policy\'s budget currency' }), cost: z.number().int().openapi({ description: 'minor units of `currency`' }),
    error: z.string().nullable(), appliedAt: z.number().int().nullable(), outcome: z.enum(['stayed', 'churned']).nullable(),
    churnType: z.enum(['voluntary', 'involuntary']).nullable(), settledAt: z.number().int().nullable(),
  })
  .openapi('Intervention');
type Intervention = z.infer<typeof InterventionSchema>;

export function interventionsRoutes(api: OpenAPIHono<ApiEnv>): void {
  api.openapi(
    apiRoute('viewer', {
      method: 'get', path: '/v1/interventions', tags: ['interventions'], summary: 'Interventions, newest decision first (cursor pages)',
      request: {
        query: z.object({
          policyId: z.string().optional(), arm: z.enum(['treatment', 'holdout']).optional(), status: z.enum(['decided', 'applying', 'applied', 'failed', 'holdout', 'dry_run', 'skipped']).optional(),
          outcome: z.enum(['stayed', 'churned', 'pending']).optional(), limit: z.coerce.number().int().min(1).max(200).default(50), cursor: z.string().optional(),
        }),
      },
      responses: { 200: json(z.object({ items: z.array(InterventionSchema), nextCursor: z.string().nullable() }), 'a page'), ...commonErrors },
    }),
    async (c) => {
      const page = await listInterventions(c.get('deps').database, c.req.valid('query'));
      return c.json(page as { items: Intervention[]; nextCursor: string | null }, 200);
    },
  );
  api.openapi(
    apiRoute('viewer', { method: 'get', path: '/v1/interventions/{id}', tags: ['interventions'], summary: 'One intervention', request: { params: z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' } }) }) }, responses: { 200: json(InterventionSchema, 'intervention'), ...notFound, ...commonErrors } }),
    async (c) => c.json((await getIntervention(c.get('deps').database, c.req.valid('param').id)) as Intervention, 200),
  );
}
