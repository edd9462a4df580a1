import { Hono } from 'hono';
import type { SandboxEnv } from '../context.js';
import { listAndRetrieve } from './read-only.js';

/** /v1/credit_notes: list (`customer`, `invoice`, `created`), retrieve; read only. */
export function creditNoteRoutes(): Hono<SandboxEnv> {
  const app = new Hono<SandboxEnv>();
  listAndRetrieve(app, 'credit_notes', 'credit_note', ['customer', 'invoice']);
  return app;
}
