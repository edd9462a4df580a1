import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { ChurnError } from '../lib/errors.js';
import { simulatePolicy } from '../services/policies/simulate-policy.js';
import { estimateUpliftEffects } from '../services/retention/uplift-targeting.js';
import { createPolicy, currentPolicy, listPolicies, policyVersions, updatePolicy, type StoredPolicy } from '../services/policies/store.js';
import { apiRoute, type ApiEnv } from './middleware/auth.js';
import { commonErrors, conflict, json, Loose, notFound } from './middleware/schemas.js';

export const PolicySchema = z
  .object({ id: z.string(), version: z.number().int(), name: z.string(), definition: Loose, createdBy: z.string(), createdAt: z.string() })
  .openapi('Policy');
const Id = z.object({ id: z.string().min(1).openapi({ param: { name: 'id', in: 'path' } }) });

const view = (p: StoredPolicy) => ({ ...p, definition: p.definition as Record<string, unknown>, createdAt: p.createdAt.toISOString() });

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
    apiRoute('editor', { method: 'post', path: '/v1/policies', tags: ['policies'], summary: 'Create a policy (version 1)', request: { body: { content: { 'application/json': { schema: Loose } }, required: true } }, responses: { 201: json(PolicySchema, 'created'), ...commonErrors } }),
    async (c) => c.json(view(await createPolicy(c.get('deps').database, c.req.valid('json'), c.get('principal').id)), 201),
  );
  api.openapi(
    apiRoute('editor', { method: 'patch', path: '/v1/policies/{id}', tags: ['policies'], summary: 'Change a policy: a partial change becomes version n + 1', request: { params: Id, body: { content: { 'application/json': { schema: Loose } }, required: true } }, responses: { 200: json(PolicySchema, 'new version'), ...notFound, ...conflict, ...commonErrors } }),
    async (c) => c.json(view(await updatePolicy(c.get('deps').database, c.req.valid('param').id, c.req.valid('json'), c.get('principal').id)), 200),
  );
  api.openapi(
    apiRoute('viewer', {
      method: 'post', path: '/v1/policies/{id}/simulate', tags: ['policies'], summary: 'What the policy would decide now (records nothing, calls nothing)',
      request: {
        params: Id,
        body: {
          content: {
            'application/json': {
              schema: z.object({
                asOf: z.number().int().positive().optional(),
                draft: Loose.optional().openapi({ description: 'an unsaved partial change, merged onto the current version as PATCH would merge it; simulated, never stored' }),
              }),
            },
          },
          required: false,
        },
      },
      responses: { 200: json(z.object({ asOf: z.number(), modelVersion: z.string(), candidates: z.number(), policies: z.unknown(), draft: z.boolean(), definition: Loose }), 'decision summary'), ...notFound, ...conflict, ...commonErrors },
    }),
    async (c) => {
      const deps = c.get('deps');
      const { asOf, draft } = c.req.valid('json');
      const result = await simulatePolicy(deps.database, { id: c.req.valid('param').id, draft, asOf, model: await deps.models?.champion(), actor: c.get('principal').id, estimateEffects: estimateUpliftEffects });
      return c.json({ ...result, definition: result.definition as Record<string, unknown> }, 200);
    },
  );
}
