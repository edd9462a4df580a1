import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { listModels, modelReport, promoteModel, rollbackModel, type ModelView } from '../services/models/models.js';
import { apiRoute, type ApiEnv } from './middleware/auth.js';
import { commonErrors, conflict, json, notFound } from './middleware/schemas.js';

/** A metric that is undefined on the data it was computed on (no churner, an empty bin) is null. */
const metric = z.number().nullable();

export const CalibrationBinSchema = z
  .object({ lower: z.number(), upper: z.number(), count: z.number().int(), meanPredicted: metric, fractionPositive: metric })
  .openapi('CalibrationBin');
export const ClassificationMetricsSchema = z
  .object({
    rows: z.number().int(), positives: z.number().int(), baseRate: metric, rocAuc: metric, prAuc: metric, brier: metric, logLoss: metric, ece: metric,
    calibration: z.array(CalibrationBinSchema),
    top: z.array(z.object({ fraction: z.number(), rows: z.number().int(), capture: metric, lift: metric, precision: metric })),
  })
  .openapi('ClassificationMetrics');
export const EvaluationMetricsSchema = z
  .object({ overall: ClassificationMetricsSchema, byChurnType: z.object({ voluntary: ClassificationMetricsSchema, involuntary: ClassificationMetricsSchema }).optional() })
  .openapi('EvaluationMetrics');
const ModelEvaluationSchema = z
  .object({
    role: z.enum(['candidate', 'baseline', 'champion']), version: z.string().optional(), architecture: z.string().optional(), metrics: EvaluationMetricsSchema,
    curves: z.object({
      roc: z.array(z.object({ fpr: metric, tpr: metric })),
      pr: z.array(z.object({ recall: metric, precision: metric })),
      calibration: z.array(CalibrationBinSchema),
      histogram: z.array(z.object({ lower: z.number(), upper: z.number(), churned: z.number().int(), retained: z.number().int() })),
    }),
  })
  .openapi('ModelEvaluation');
export const PromotionDecisionSchema = z.object({ promote: z.boolean(), reason: z.string() });
/** evaluation.json written beside the model by training (training/evaluate.ts) */
export const EvaluationReportSchema = z
  .object({
    generatedAt: z.string(), featureSetVersion: z.string(), heldOut: z.object({ rows: z.number().int(), positives: z.number().int() }),
    horizonDays: z.number().int().optional(), trainingWindow: z.object({ from: z.string(), to: z.string() }).optional(),
    candidate: ModelEvaluationSchema, baseline: ModelEvaluationSchema.optional(), champion: ModelEvaluationSchema.optional(), championNote: z.string().optional(),
    decision: PromotionDecisionSchema,
  })
  .openapi('EvaluationReport');

export const ModelSchema = z
  .object({
    name: z.string(), version: z.string(), status: z.enum(['candidate', 'champion', 'retired']),
    // held-out metrics of the network and of its logistic baseline, as the registry stored them at training time
    metrics: z.object({ model: EvaluationMetricsSchema.nullable().optional(), baseline: EvaluationMetricsSchema.nullable().optional() }),
    featureVersion: z.string().nullable(), createdAt: z.string(), promotedAt: z.string().nullable(), retiredAt: z.string().nullable(),
  })
  .openapi('ModelVersion');
/** A version with its evaluation report (null when training wrote none). */
export const ModelReportSchema = z.object({ model: ModelSchema, evaluation: EvaluationReportSchema.nullable() }).openapi('ModelReport');
type Model = z.infer<typeof ModelSchema>;
// the registry keeps status and metrics as text and jsonb; the schema states what they hold
const typed = (m: ModelView): Model => m as unknown as Model;
const Version = z.object({ version: z.string().min(1).openapi({ param: { name: 'version', in: 'path' } }) });

export function modelsRoutes(api: OpenAPIHono<ApiEnv>): void {
  api.openapi(
    apiRoute('viewer', { method: 'get', path: '/v1/models', tags: ['models'], summary: 'Model versions, newest first', responses: { 200: json(z.object({ items: z.array(ModelSchema) }), 'versions'), ...commonErrors } }),
    async (c) => c.json({ items: (await listModels(c.get('deps').database)).map(typed) }, 200),
  );
  api.openapi(
    apiRoute('viewer', { method: 'get', path: '/v1/models/{version}', tags: ['models'], summary: "A version's metrics and evaluation report ('champion' for the serving one)", request: { params: Version }, responses: { 200: json(ModelReportSchema, 'report'), ...notFound, ...commonErrors } }),
    async (c) => {
      const deps = c.get('deps');
      return c.json((await modelReport(deps.database, deps.env.MODEL_DIR, c.req.valid('param').version)) as z.infer<typeof ModelReportSchema>, 200);
    },
  );
  api.openapi(
    apiRoute('admin', { method: 'post', path: '/v1/models/{version}/promote', tags: ['models'], summary: 'Make this version the champion (audit-logged)', request: { params: Version }, responses: { 200: json(ModelSchema, 'new champion'), ...notFound, ...commonErrors } }),
    async (c) => {
      const deps = c.get('deps');
      const row = await promoteModel(deps.database, { version: c.req.valid('param').version, actor: c.get('principal').id, now: new Date(deps.now() * 1000) });
      void deps.models?.refresh();
      return c.json(typed(row), 200);
    },
  );
  api.openapi(
    apiRoute('admin', { method: 'post', path: '/v1/models/rollback', tags: ['models'], summary: 'Put the previous champion back (audit-logged)', responses: { 200: json(z.object({ retired: ModelSchema, restored: ModelSchema }), 'rolled back'), ...conflict, ...commonErrors } }),
    async (c) => {
      const deps = c.get('deps');
      const result = await rollbackModel(deps.database, { actor: c.get('principal').id, now: new Date(deps.now() * 1000) });
      void deps.models?.refresh();
      return c.json({ retired: typed(result.retired), restored: typed(result.restored) }, 200);
    },
  );
}
