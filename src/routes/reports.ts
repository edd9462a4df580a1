import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { modelReport } from '../services/models/models.js';
import { upliftReportFromStore } from '../services/retention/uplift-report.js';
import { apiRoute, type ApiEnv } from './middleware/auth.js';
import { commonErrors, json, Loose, notFound } from './middleware/schemas.js';

export function reportsRoutes(api: OpenAPIHono<ApiEnv>): void {
  api.openapi(
    apiRoute('viewer', {
      method: 'get', path: '/v1/reports/uplift', tags: ['reports'], summary: 'Uplift per policy and overall: treated vs holdout churn, saved MRR, cost, ROI',
      request: { query: z.object({ policyId: z.string().optional(), from: z.coerce.number().int().optional(), to: z.coerce.number().int().optional() }) },
      responses: { 200: json(Loose.openapi('UpliftReport'), 'report'), ...commonErrors },
    }),
    async (c) => c.json((await upliftReportFromStore(c.get('deps').database, c.req.valid('query'))) as unknown as Record<string, unknown>, 200),
  );
  api.openapi(
    apiRoute('viewer', {
      method: 'get', path: '/v1/reports/model', tags: ['reports'], summary: "The champion's held-out performance and calibration (metadata metrics and evaluation.json)",
      responses: { 200: json(z.object({ model: Loose, evaluation: z.unknown() }), 'report'), ...notFound, ...commonErrors },
    }),
    async (c) => {
      const deps = c.get('deps');
      const r = await modelReport(deps.database, deps.env.MODEL_DIR, 'champion');
      return c.json({ model: r.model as unknown as Record<string, unknown>, evaluation: r.evaluation }, 200);
    },
  );
}
