import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { createApiKey, listApiKeys, revokeApiKey, ROLES, type ApiKeyInfo } from '../services/auth/index.js';
import { apiRoute, type ApiEnv } from './middleware/auth.js';
import { commonErrors, json, notFound } from './middleware/schemas.js';

const KeySchema = z
  .object({ id: z.string(), prefix: z.string(), name: z.string().nullable(), role: z.enum(ROLES), createdAt: z.string(), lastUsedAt: z.string().nullable(), revokedAt: z.string().nullable() })
  .openapi('ApiKey');
const view = (k: ApiKeyInfo) => ({ ...k, createdAt: k.createdAt.toISOString(), lastUsedAt: k.lastUsedAt?.toISOString() ?? null, revokedAt: k.revokedAt?.toISOString() ?? null });

export function keysRoutes(api: OpenAPIHono<ApiEnv>): void {
  api.openapi(
    apiRoute('admin', { method: 'get', path: '/v1/keys', tags: ['keys'], summary: 'API keys (prefixes only; secrets are never stored)', responses: { 200: json(z.object({ items: z.array(KeySchema) }), 'keys'), ...commonErrors } }),
    async (c) => c.json({ items: (await listApiKeys(c.get('deps').database)).map(view) }, 200),
  );
  api.openapi(
    apiRoute('admin', {
      method: 'post', path: '/v1/keys', tags: ['keys'], summary: 'Create a key; the whole key is in this answer only',
      request: { body: { content: { 'application/json': { schema: z.object({ role: z.enum(ROLES), name: z.string().max(200).optional() }) } }, required: true } },
      responses: { 201: json(z.object({ key: z.string(), apiKey: KeySchema }), 'created'), ...commonErrors },
    }),
    async (c) => {
      const deps = c.get('deps');
      const { role, name } = c.req.valid('json');
      const { key, apiKey } = await createApiKey(deps.database, { role, name, actor: c.get('principal').id, now: new Date(deps.now() * 1000) });
      return c.json({ key, apiKey: view(apiKey) }, 201);
    },
  );
  api.openapi(
    apiRoute('admin', { method: 'delete', path: '/v1/keys/{prefix}', tags: ['keys'], summary: 'Revoke a key', request: { params: z.object({ prefix: z.string().openapi({ param: { name: 'prefix', in: 'path' } }) }) }, responses: { 200: json(KeySchema, 'revoked'), ...notFound, ...commonErrors } }),
    async (c) => {
      const deps = c.get('deps');
      return c.json(view(await revokeApiKey(deps.database, c.req.valid('param').prefix, c.get('principal').id, new Date(deps.now() * 1000))), 200);
    },
  );
}
