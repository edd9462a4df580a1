import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { createApp, type AppDeps } from './app.js';
import type { Database } from './db/client.js';
import type { Env } from './env.js';
import { systemNow } from './lib/clock.js';
import { startProjector, type ProjectorHandle } from './services/events/projector.js';

export interface RunningServer {
  url: string;
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
  options: { port?: number; host?: string; deps?: Partial<AppDeps>; background?: Array<{ stop(): Promise<void> }> } = {},
): Promise<RunningServer> {
  const projector = startProjector(database);
  const app = createApp({ database, env, now: systemNow, onEventsStored: projector.wake, ...options.deps });
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port: options.port ?? env.PORT, hostname: options.host ?? '0.0.0.0' }, () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    projector,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await projector.stop();
      for (const b of options.background ?? []) await b.stop();
    },
  };
}
