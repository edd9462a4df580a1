import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { apiRoute, type ApiEnv } from './middleware/auth.js';
import { commonErrors, json } from './middleware/schemas.js';

export const MeSchema = z
  .object({ actor: z.string().openapi({ description: "the key's id as the audit log names it ('admin-token' for CHURN_ADMIN_TOKEN)" }), role: z.enum(['viewer', 'editor', 'admin']) })
  .openapi('Me');

/** GET /v1/me: who the key is and what it may do, so a client (the dashboard) can check a key and hide what its role cannot do. */
export function meRoutes(api: OpenAPIHono<ApiEnv>): void {
  api.openapi(
    apiRoute('viewer', { method: 'get', path: '/v1/me', tags: ['keys'], summary: "The calling key's audit actor and role", responses: { 200: json(MeSchema, 'the key'), ...commonErrors } }),
    async (c) => {
      const principal = c.get('principal');
      return c.json({ actor: principal.id, role: principal.role }, 200);
    },
  );
}
