import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { overviewReport } from '../services/reports/overview-report.js';
import { apiRoute, type ApiEnv } from './middleware/auth.js';
import { commonErrors, json } from './middleware/schemas.js';

const Band = z.enum(['low', 'medium', 'high', 'critical']);
const Arm = z.object({ stayed: z.number().int(), churned: z.number().int() });

export const OverviewSchema = z
  .object({
    now: z.number().int(),
    month: z.string().openapi({ example: '2026-11' }),
    currency: z.string(),
    snapshot: z.object({ modelName: z.string(), modelVersion: z.string(), asOf: z.number() }).nullable(),
    risk: z.object({
      customers: z.number().int(),
      mrr: z.number().int(),
      expectedMrrLoss: z.number().int(),
      bands: z.array(z.object({ band: Band, customers: z.number().int(), mrr: z.number().int(), expectedMrrLoss: z.number().int() })),
    }),
    interventions: z.array(z.object({ action: z.string(), arm: z.string(), status: z.string(), count: z.number().int(), cost: z.number().int() })),
    policies: z.array(
      z.object({
        policyId: z.string(), name: z.string(), version: z.number().int(), mode: z.string(), enabled: z.boolean(),
        budgetUsed: z.number().int(), budgetLimit: z.number().int(), budgetCurrency: z.string(),
        decided: z.object({ treated: z.number().int(), holdout: z.number().int() }),
        settled: z.object({ treatment: Arm, holdout: Arm }),
        savedCustomers: z.number().nullable(),
      }),
    ),
    openAlerts: z.number().int(),
  })
  .openapi('Overview');

/** GET /v1/reports/overview: the dashboard's first page (risk by band now, this month's retention work). */
export function overviewRoutes(api: OpenAPIHono<ApiEnv>): void {
  api.openapi(
    apiRoute('viewer', {
      method: 'get', path: '/v1/reports/overview', tags: ['reports'],
      summary: "Customers and MRR at risk by band (the champion's newest snapshot); interventions, outcomes settled and budget used this month (UTC) per policy",
      request: { query: z.object({ currency: z.string().regex(/^[a-z]{3}$/, 'a lower-case ISO currency code such as "usd"').optional() }) },
      responses: { 200: json(OverviewSchema, 'overview'), ...commonErrors },
    }),
    async (c) => {
      const deps = c.get('deps');
      return c.json(await overviewReport(deps.database, { now: deps.now(), currency: c.req.valid('query').currency }), 200);
    },
  );
}
