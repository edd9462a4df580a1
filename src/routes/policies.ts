import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { ChurnError } from '../lib/errors.js';
import { dataWindow } from '../ml/dataset.js';
import { decideRetention } from '../services/retention/decide-retention.js';
import { estimateUpliftEffects } from '../services/retention/uplift-targeting.js';
import { createPolicy, currentPolicy, listPolicies, policyVersions, updatePolicy, type StoredPolicy } from '../services/policies/store.js';
import { policyDefinitionSchema, type PolicyIssue } from '../services/policies/definition.js';
import { apiRoute, type ApiEnv } from './middleware/auth.js';
import { commonErrors, conflict, json, Loose, notFound } from './middleware/schemas.js';

export const PolicySchema = z
  .object({ id: z.string(), version: z.number().int(), name: z.string(), definition: policyDefinitionSchema, createdBy: z.string(), createdAt: z.string() })
  .openapi('Policy');
/** What one policy would do: who it treats and holds out, what it costs, why the rest were not taken. */
export const PolicySimulationSchema = z
  .object({
    policyId: z.string(), policyVersion: z.number().int(), name: z.string(), mode: z.enum(['dry_run', 'live']), targeting: z.string(),
    treated: z.number().int(), holdout: z.number().int(),
    expectedCost: z.number().int().openapi({ description: 'minor units of `currency`' }), currency: z.string(), budgetLeftBefore: z.number().int(),
    reasons: z.record(z.string(), z.number().int()).openapi({ description: 'customers stopped by each reason code (once per customer)' }),
    upliftFallback: z.boolean(),
  })
  .openapi('PolicySimulation');
const Id = z.object({ id: z.string().min(1).openapi({ param: { name: 'id', in: 'path' } }) });

const view = (p: StoredPolicy) => ({ ...p, createdAt: p.createdAt.toISOString() });

/**
 * The policy store names a failing field by its dotted path in the definition; in the API's
 * envelope every detail's path is an array that starts with the request part, like the 422s
 * of request validation (`["json", "action", "percentOff"]`).
 */
async function withBodyPaths<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof ChurnError && err.code === 'VALIDATION_FAILED' && Array.isArray(err.details)) {
      const details = (err.details as PolicyIssue[]).map((i) => ({ path: ['json', ...(i.path === '(policy)' ? [] : i.path.split('.'))], message: i.message }));
      throw new ChurnError('VALIDATION_FAILED', err.message, { details, cause: err });
    }
    throw err;
  }
}

export function policiesRoutes(api: OpenAPIHono<ApiEnv>): void {
  api.openapi(
    apiRoute('viewer', { method: 'get', path: '/v1/policies', tags: ['policies'], summary: 'Newest version of every policy', responses: { 200: json(z.object({ items: z.array(PolicySchema) }), 'policies'), ...commonErrors } }),
    async (c) => c.json({ items: (await listPolicies(c.get('deps').database)).map(view) }, 200),
  );
  api.openapi(
    apiRoute('viewer', { method: 'get', path: '/v1/policies/{id}', tags: ['policies'], summary: 'A policy with all its versions', request: { params: Id }, responses: { 200: json(PolicySchema.extend({ versions: z.array(PolicySchema) }), 'policy'), ...notFound, ...commonErrors } }),
    async (c) => {
      const { id } = c.req.valid('param');
      const db = c.get('deps').database.db;
      const current = await currentPolicy(db, id);
      if (!current) throw new ChurnError('NOT_FOUND', `no policy ${id}`);
      return c.json({ ...view(current), versions: (await policyVersions(db, id)).map(view) }, 200);
    },
  );
  api.openapi(
    apiRoute('editor', { method: 'post', path: '/v1/policies', tags: ['policies'], summary: 'Create a policy (version 1)', request: { body: { content: { 'application/json': { schema: policyDefinitionSchema } }, required: true } }, responses: { 201: json(PolicySchema, 'created'), ...commonErrors } }),
    async (c) => c.json(view(await withBodyPaths(() => createPolicy(c.get('deps').database, c.req.valid('json'), c.get('principal').id))), 201),
  );
  api.openapi(
    apiRoute('editor', { method: 'patch', path: '/v1/policies/{id}', tags: ['policies'], summary: 'Change a policy: a partial change becomes version n + 1', request: { params: Id, body: { content: { 'application/json': { schema: Loose } }, required: true } }, responses: { 200: json(PolicySchema, 'new version'), ...notFound, ...conflict, ...commonErrors } }),
    async (c) => c.json(view(await withBodyPaths(() => updatePolicy(c.get('deps').database, c.req.valid('param').id, c.req.valid('json'), c.get('principal').id))), 200),
  );
  api.openapi(
    apiRoute('viewer', {
      method: 'post', path: '/v1/policies/{id}/simulate', tags: ['policies'], summary: 'What the policy would decide now (records nothing, calls nothing)',
      request: { params: Id, body: { content: { 'application/json': { schema: z.object({ asOf: z.number().int().positive().optional() }) } }, required: false } },
      responses: { 200: json(z.object({ asOf: z.number().int(), modelVersion: z.string(), candidates: z.number().int(), policies: z.array(PolicySimulationSchema) }), 'decision summary'), ...notFound, ...conflict, ...commonErrors },
    }),
    async (c) => {
      const deps = c.get('deps');
      const { id } = c.req.valid('param');
      if (!(await currentPolicy(deps.database.db, id))) throw new ChurnError('NOT_FOUND', `no policy ${id}`);
      const model = await deps.models?.champion();
      if (!model) throw new ChurnError('CONFLICT', 'no champion model is loaded: train and promote one first');
      const body = (await c.req.json().catch(() => ({}))) as { asOf?: number };
      const asOf = body.asOf ?? (await dataWindow(deps.database))?.end;
      if (asOf === undefined) throw new ChurnError('CONFLICT', 'no billing data to score yet');
      const result = await decideRetention(deps.database, { asOf, model, policyIds: [id], simulate: true, actor: c.get('principal').id, estimateEffects: estimateUpliftEffects });
      return c.json({ asOf, modelVersion: result.modelVersion, candidates: result.candidates, policies: result.decided.policies }, 200);
    },
  );
}
