import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { listModels, modelReport, promoteModel, rollbackModel } from '../services/models/models.js';
import { apiRoute, type ApiEnv } from './middleware/auth.js';
import { commonErrors, conflict, json, Loose, notFound } from './middleware/schemas.js';

export const ModelSchema = z
  .object({ name: z.string(), version: z.string(), status: z.string(), metrics: Loose, featureVersion: z.string().nullable(), createdAt: z.string(), promotedAt: z.string().nullable(), retiredAt: z.string().nullable() })
  .openapi('ModelVersion');
const Version = z.object({ version: z.string().min(1).openapi({ param: { name: 'version', in: 'path' } }) });

export function modelsRoutes(api: OpenAPIHono<ApiEnv>): void {
  api.openapi(
    apiRoute('viewer', { method: 'get', path: '/v1/models', tags: ['models'], summary: 'Model versions, newest first', responses: { 200: json(z.object({ items: z.array(ModelSchema) }), 'versions'), ...commonErrors } }),
    async (c) => c.json({ items: await listModels(c.get('deps').database) }, 200),
  );
  api.openapi(
    apiRoute('viewer', { method: 'get', path: '/v1/models/{version}', tags: ['models'], summary: "A version's metrics and evaluation report ('champion' for the serving one)", request: { params: Version }, responses: { 200: json(z.object({ model: ModelSchema, evaluation: z.unknown() }), 'report'), ...notFound, ...commonErrors } }),
    async (c) => {
      const deps = c.get('deps');
      return c.json(await modelReport(deps.database, deps.env.MODEL_DIR, c.req.valid('param').version), 200);
    },
  );
  api.openapi(
    apiRoute('admin', { method: 'post', path: '/v1/models/{version}/promote', tags: ['models'], summary: 'Make this version the champion (audit-logged)', request: { params: Version }, responses: { 200: json(ModelSchema, 'new champion'), ...notFound, ...commonErrors } }),
    async (c) => {
      const deps = c.get('deps');
      const row = await promoteModel(deps.database, { version: c.req.valid('param').version, actor: c.get('principal').id, now: new Date(deps.now() * 1000) });
      void deps.models?.refresh();
      return c.json(row, 200);
    },
  );
  api.openapi(
    apiRoute('admin', { method: 'post', path: '/v1/models/rollback', tags: ['models'], summary: 'Put the previous champion back (audit-logged)', responses: { 200: json(z.object({ retired: ModelSchema, restored: ModelSchema }), 'rolled back'), ...conflict, ...commonErrors } }),
    async (c) => {
      const deps = c.get('deps');
      const result = await rollbackModel(deps.database, { actor: c.get('principal').id, now: new Date(deps.now() * 1000) });
      void deps.models?.refresh();
      return c.json(result, 200);
    },
  );
}
