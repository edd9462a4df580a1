import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { modelReport } from '../services/models/models.js';
import { upliftReportFromStore } from '../services/retention/uplift-report.js';
import { apiRoute, type ApiEnv } from './middleware/auth.js';
import { commonErrors, json, notFound } from './middleware/schemas.js';
import { ModelReportSchema } from './models.js';

/** An estimate with its interval; a share is null when it cannot be computed (an arm with no settled outcome). */
const Interval = z.object({ estimate: z.number().nullable(), lower: z.number().nullable(), upper: z.number().nullable() });
const Arm = z.object({
  settled: z.number().int(), pending: z.number().int(), churned: z.number().int(), voluntary: z.number().int(), involuntary: z.number().int(), unknownType: z.number().int(),
  churnRate: z.number().nullable(), voluntaryRate: z.number().nullable(), involuntaryRate: z.number().nullable(), mrr: z.number(),
});
const UpliftGroupSchema = z
  .object({
    scope: z.enum(['policy', 'overall']), policyId: z.string().nullable(), policyName: z.string().nullable(),
    policyVersions: z.array(z.number().int()), actions: z.array(z.string()), horizonDays: z.array(z.number().int()),
    period: z.object({ firstDecidedAt: z.number(), lastDecidedAt: z.number() }).nullable(),
    treated: Arm, holdout: Arm, excluded: z.object({ skipped: z.number().int(), dryRun: z.number().int() }), strataUsed: z.number().int(),
    effect: Interval.nullable(), effectByType: z.object({ voluntary: Interval.nullable(), involuntary: Interval.nullable() }),
    savedCustomers: Interval.nullable(), savedMrr: Interval.nullable(), offerCost: z.number(),
    monthsKept: z.object({ value: z.number(), source: z.enum(['option', 'policy', 'one_horizon', 'mixed']), statement: z.string() }).nullable(),
    netValue: Interval.nullable(), numberNeededToTreat: Interval,
    verdict: z.object({ status: z.enum(['not_enough_data', 'reduces_churn', 'increases_churn']), reason: z.enum(['too_few_outcomes', 'interval_contains_zero']).nullable(), message: z.string() }),
    warnings: z.array(z.string()),
  })
  .openapi('UpliftGroup');
export const UpliftReportSchema = z
  .object({
    currency: z.string(), confidenceLevel: z.number(), z: z.number(), minOutcomesPerArm: z.number().int(),
    method: z.object({ effect: z.string(), savedMrr: z.string(), bootstrap: z.object({ seed: z.number(), resamples: z.number().int() }) }),
    overall: UpliftGroupSchema, policies: z.array(UpliftGroupSchema),
  })
  .openapi('UpliftReport');

export function reportsRoutes(api: OpenAPIHono<ApiEnv>): void {
  api.openapi(
    apiRoute('viewer', {
      method: 'get', path: '/v1/reports/uplift', tags: ['reports'], summary: 'Uplift per policy and overall: treated vs holdout churn, saved MRR, cost, ROI',
      request: { query: z.object({ policyId: z.string().optional(), from: z.coerce.number().int().optional(), to: z.coerce.number().int().optional() }) },
      responses: { 200: json(UpliftReportSchema, 'report'), ...commonErrors },
    }),
    async (c) => c.json((await upliftReportFromStore(c.get('deps').database, c.req.valid('query'))) as unknown as z.infer<typeof UpliftReportSchema>, 200),
  );
  api.openapi(
    apiRoute('viewer', {
      method: 'get', path: '/v1/reports/model', tags: ['reports'], summary: "The champion's held-out performance and calibration (metadata metrics and evaluation.json)",
      responses: { 200: json(ModelReportSchema, 'report'), ...notFound, ...commonErrors },
    }),
    async (c) => {
      const deps = c.get('deps');
      return c.json((await modelReport(deps.database, deps.env.MODEL_DIR, 'champion')) as unknown as z.infer<typeof ModelReportSchema>, 200);
    },
  );
}
