import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { createApp, type AppDeps } from './app.js';
import type { Database } from './db/client.js';
import { webhookSecrets, type Env } from './env.js';
import { systemNow } from './lib/clock.js';
import { ChurnError } from './lib/errors.js';
import { startProjector, type ProjectorHandle } from './services/events/projector.js';
import { startRelay } from './services/outbox/relay.js';
import { inngest } from './inngest/client.js';
import { logger } from './lib/logger.js';
import { activeBackend, initBackend } from './ml/backend.js';
import { featureSet } from './ml/features.js';
import { ModelRegistry } from './ml/registry.js';
import { inngestServeProblem } from './routes/inngest.js';

/** The relay runs only where an Inngest server is configured; otherwise the outbox just waits. */
export function inngestConfigured(env: Env): boolean {
  return Boolean(env.INNGEST_EVENT_KEY || env.INNGEST_DEV || env.INNGEST_BASE_URL);
}

export interface RunningServer {
  /** where a client on this machine reaches the server (loopback when bound to every interface) */
  url: string;
  /** the address really bound, as a URL: `http://0.0.0.0:3000` means every IPv4 interface */
  boundUrl: string;
  host: string;
  models: ModelRegistry;
  port: number;
  projector: ProjectorHandle;
  close(): Promise<void>;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** A failed bind as one sentence an operator can act on (the raw error is a stack trace). */
export function listenFailure(err: NodeJS.ErrnoException, host: string, port: number): ChurnError {
  const where = `${urlHost(host)}:${port}`;
  switch (err.code) {
    case 'EADDRINUSE':
      return new ChurnError('UNAVAILABLE', `port ${port} is in use (something already listens on ${where}); stop it or choose another port with --port or PORT`, { cause: err });
    case 'EACCES':
      return new ChurnError('UNAVAILABLE', `not allowed to listen on port ${port} (ports below 1024 need privileges); choose another with --port or PORT`, { cause: err });
    case 'EADDRNOTAVAIL':
      return new ChurnError('UNAVAILABLE', `cannot listen on ${host}: not an address of this machine (set HOST or --host to one of its addresses, or 0.0.0.0 for all)`, { cause: err });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ChurnError('UNAVAILABLE', `cannot listen on ${host}: unknown host name (set HOST or --host to an address of this machine)`, { cause: err });
    default:
      return new ChurnError('UNAVAILABLE', `cannot listen on ${where}: ${err.message}`, { cause: err });
  }
}

/** How often `churn serve` looks for a newly promoted champion: one small query; a new champion is in service within this plus its load time. */
export const MODEL_RELOAD_SECONDS = 10;

/**
 * The long-running service: the HTTP app plus its background workers (projector; the outbox
 * relay and model reloads join through `extra`). The database is the caller's to close.
 * The port is bound before any worker starts, so a failed bind leaves nothing running.
 */
export async function startServer(
  database: Database,
  env: Env,
  options: {
    port?: number;
    host?: string;
    deps?: Partial<AppDeps>;
    background?: Array<{ stop(): Promise<void> }>;
    relay?: boolean;
    /** seconds between looks at the champion row (default MODEL_RELOAD_SECONDS) */
    modelReloadSeconds?: number;
  } = {},
): Promise<RunningServer> {
  const background = [...(options.background ?? [])];
  const stopBackground = async () => {
    for (const b of background) await b.stop();
  };
  const host = options.host ?? env.HOST;
  const wantedPort = options.port ?? env.PORT;
  let projector: ProjectorHandle | null = null;
  let server: ServerType;
  let models: ModelRegistry;
  try {
    await initBackend(env.TFJS_BACKEND);
    models = new ModelRegistry({ db: database.db, modelDir: env.MODEL_DIR, featureSet: featureSet() });
    await models.refresh();
    const registry = models;
    const app = createApp({
      database,
      env,
      now: systemNow,
      onEventsStored: () => projector?.wake(),
      models,
      // Webhooks must keep flowing before any model exists, so readiness needs only the database;
      // the model's state is reported beside it.
      healthInfo: () => ({ tfjsBackend: activeBackend(), model: registry.status() }),
      ...options.deps,
    });
    server = await new Promise<ServerType>((resolve, reject) => {
      // The listen error is emitted on a later tick, so this handler is in place in time; without
      // it the error would surface as an uncaught exception (and a dump of whatever module
      // installed a global handler, such as the wasm backend).
      const s = serve({ fetch: app.fetch, port: wantedPort, hostname: host }, () => {
        s.off('error', onError);
        resolve(s);
      });
      function onError(err: NodeJS.ErrnoException) {
        reject(listenFailure(err, host, wantedPort));
      }
      s.once('error', onError);
    });
  } catch (err) {
    await stopBackground();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  projector = startProjector(database);
  // A champion promoted by another process (`churn train`, the API of another instance) is only
  // visible in model_versions: look at it on a timer, not only when something asks for a score.
  const reload = setInterval(() => void models.refresh().catch(() => {}), (options.modelReloadSeconds ?? MODEL_RELOAD_SECONDS) * 1000);
  reload.unref();
  background.push({ stop: async () => clearInterval(reload) });
  if (options.relay ?? inngestConfigured(env)) {
    const relay = startRelay({ database, send: (events) => inngest.send(events) });
    background.push({ stop: () => relay.stop().then(() => {}) });
  } else {
    logger.info('Inngest is not configured: stored events are projected here and wait in the outbox for a relay');
  }
  // Said once here rather than on every request that meets the gap.
  if (webhookSecrets(env).length === 0) {
    logger.warn('STRIPE_WEBHOOK_SECRET is not set: every webhook delivery will be answered 503 (and retried by Stripe) until it is');
  }
  // Running without Inngest is a supported mode (the server projects events itself), so this is
  // information, not a warning.
  const inngestProblem = inngestServeProblem(inngest);
  if (inngestProblem) logger.info(`/api/inngest answers 503: ${inngestProblem}`);
  const running = projector;
  return {
    url: `http://${WILDCARDS.has(host) ? '127.0.0.1' : urlHost(host)}:${port}`,
    boundUrl: `http://${urlHost(host)}:${port}`,
    host,
    port,
    projector: running,
    models,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await running.stop();
      await stopBackground();
    },
  };
}
