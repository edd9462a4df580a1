import { Hono } from 'hono';
import type { AppEnv } from '../app.js';
import { databaseReachable } from '../db/client.js';

export function healthRoutes() {
  const routes = new Hono<AppEnv>();
  routes.get('/healthz', (c) => {
    const deps = c.get('deps');
    return c.json({ status: 'ok', database: deps.database.kind, ...(deps.healthInfo?.() ?? {}) });
  });
  routes.get('/readyz', async (c) => {
    const deps = c.get('deps');
    const checks: Record<string, boolean> = { database: await databaseReachable(deps.database) };
    for (const [name, check] of Object.entries(deps.readinessChecks ?? {})) {
      try {
        checks[name] = await check();
      } catch {
        checks[name] = false;
      }
    }
    const ready = Object.values(checks).every(Boolean);
    // The model is reported beside the checks, never one of them: webhooks must flow before any model exists.
    const model = deps.healthInfo?.().model;
    return c.json({ status: ready ? 'ready' : 'not_ready', checks, ...(model === undefined ? {} : { model }) }, ready ? 200 : 503);
  });
  return routes;
}
