import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { getTrainingRun } from '../services/models/models.js';
import { startTrainingInBackground } from '../services/models/start-training.js';
import { writeAudit } from '../services/policies/store.js';
import { apiRoute, type ApiEnv } from './middleware/auth.js';
import { commonErrors, conflict, json, notFound } from './middleware/schemas.js';
import { EvaluationMetricsSchema, PromotionDecisionSchema } from './models.js';

const PerPart = z.object({ train: z.number().int(), valid: z.number().int(), calib: z.number().int(), test: z.number().int() });
export const TrainingRunSchema = z
  .object({
    id: z.string(), modelName: z.string(), status: z.enum(['queued', 'running', 'succeeded', 'failed']), trigger: z.string().openapi({ description: 'who asked: cli, api, schedule, demo' }),
    params: z
      .object({ asOf: z.number().nullable(), horizonDays: z.number().int(), seed: z.number().int(), accounts: z.array(z.string()).nullable().optional(), maxSnapshots: z.number().int().nullable().optional() })
      .openapi({ description: 'what the trainer was called with (null: its default)' }),
    modelVersion: z.string().nullable(),
    /** held-out metrics of the candidate, its baseline and the champion at the time, and the data used */
    metrics: z
      .object({
        model: EvaluationMetricsSchema, baseline: EvaluationMetricsSchema, champion: EvaluationMetricsSchema.nullable(),
        data: z.object({ snapshots: z.number().int(), from: z.string().nullable(), to: z.string().nullable(), horizonDays: z.number().int(), rows: PerPart, positives: PerPart, testMonths: z.array(z.string()) }),
      })
      .nullable(),
    decision: PromotionDecisionSchema.extend({ champion: z.string().nullable(), promotedVersion: z.string().nullable() }).nullable(),
    error: z.string().nullable(), startedAt: z.string(), finishedAt: z.string().nullable(),
  })
  .openapi('TrainingRun');

export function trainingRunsRoutes(api: OpenAPIHono<ApiEnv>): void {
  api.openapi(
    apiRoute('editor', {
      method: 'post', path: '/v1/training-runs', tags: ['training'], summary: 'Train a candidate in the background; poll the run for its result',
      request: { body: { content: { 'application/json': { schema: z.object({ asOf: z.number().int().positive().optional(), horizonDays: z.number().int().min(1).max(365).optional(), seed: z.number().int().optional() }) } }, required: false } },
      responses: { 202: json(z.object({ id: z.string(), status: z.literal('running') }), 'started'), ...conflict, ...commonErrors },
    }),
    async (c) => {
      const deps = c.get('deps');
      const body = (await c.req.json().catch(() => ({}))) as { asOf?: number; horizonDays?: number; seed?: number };
      const now = new Date(deps.now() * 1000);
      const id = await startTrainingInBackground(deps.database, { modelDir: deps.env.MODEL_DIR, now, ...body });
      await writeAudit(deps.database.db, { actor: c.get('principal').id, action: 'training.start', entityType: 'training_run', entityId: id, before: null, after: body });
      return c.json({ id, status: 'running' as const }, 202);
    },
  );
  api.openapi(
    apiRoute('viewer', { method: 'get', path: '/v1/training-runs/{id}', tags: ['training'], summary: 'A training run: status, metrics, promotion decision', request: { params: z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' } }) }) }, responses: { 200: json(TrainingRunSchema, 'run'), ...notFound, ...commonErrors } }),
    async (c) => c.json((await getTrainingRun(c.get('deps').database, c.req.valid('param').id)) as unknown as z.infer<typeof TrainingRunSchema>, 200),
  );
}
