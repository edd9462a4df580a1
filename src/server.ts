import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { createApp, type AppDeps } from './app.js';
import type { Database } from './db/client.js';
import type { Env } from './env.js';
import { systemNow } from './lib/clock.js';
import { startProjector, type ProjectorHandle } from './services/events/projector.js';
import { startRelay } from './services/outbox/relay.js';
import { inngest } from './inngest/client.js';
import { logger } from './lib/logger.js';
import { activeBackend, initBackend } from './ml/backend.js';
import { featureSet } from './ml/features.js';
import { ModelRegistry } from './ml/registry.js';

/** The relay runs only where an Inngest server is configured; otherwise the outbox just waits. */
export function inngestConfigured(env: Env): boolean {
  return Boolean(env.INNGEST_EVENT_KEY || env.INNGEST_DEV || env.INNGEST_BASE_URL);
}

export interface RunningServer {
  url: string;
  models: ModelRegistry;
  port: number;
  projector: ProjectorHandle;
  close(): Promise<void>;
}

/**
 * The long-running service: the HTTP app plus its background workers (projector; the outbox
 * relay and model reloads join through `extra`). The database is the caller's to close.
 */
export async function startServer(
  database: Database,
  env: Env,
  options: { port?: number; host?: string; deps?: Partial<AppDeps>; background?: Array<{ stop(): Promise<void> }>; relay?: boolean } = {},
): Promise<RunningServer> {
  const projector = startProjector(database);
  const background = [...(options.background ?? [])];
  if (options.relay ?? inngestConfigured(env)) {
    const relay = startRelay({ database, send: (events) => inngest.send(events) });
    background.push({ stop: () => relay.stop().then(() => {}) });
  } else {
    logger.info('Inngest is not configured: stored events are projected here and wait in the outbox for a relay');
  }
  await initBackend(env.TFJS_BACKEND);
  const models = new ModelRegistry({ db: database.db, modelDir: env.MODEL_DIR, featureSet: featureSet() });
  await models.refresh();
  const app = createApp({
    database,
    env,
    now: systemNow,
    onEventsStored: projector.wake,
    models,
    // Webhooks must keep flowing before any model exists, so readiness needs only the database;
    // the model's state is reported beside it.
    healthInfo: () => ({ tfjsBackend: activeBackend(), model: models.status() }),
    ...options.deps,
  });
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port: options.port ?? env.PORT, hostname: options.host ?? '0.0.0.0' }, () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    projector,
    models,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await projector.stop();
      for (const b of background) await b.stop();
    },
  };
}
