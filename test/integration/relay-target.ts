import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Inngest } from 'inngest';
import type { OutboxEvent, SendEvents } from '../../src/services/outbox/relay.js';

/**
 * A real HTTP server on 127.0.0.1 that speaks Inngest's event API (`POST /e/<event key>` →
 * `{ ids, status }`), so the relay is tested through the real `inngest.send` over the network.
 * `mode` switches it between accepting, failing with 500, and answering slowly.
 */
export interface InngestTarget {
  url: string;
  received: OutboxEvent[];
  requests: number;
  mode: 'accept' | 'fail';
  delayMs: number;
  /** `inngest.send` of a real client pointed at this server */
  send: SendEvents;
  close(): Promise<void>;
}

export async function startInngestTarget(options: { port?: number } = {}): Promise<InngestTarget> {
  const target = { received: [] as OutboxEvent[], requests: 0, mode: 'accept' as 'accept' | 'fail', delayMs: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      target.requests += 1;
      if (target.delayMs) await new Promise((r) => setTimeout(r, target.delayMs));
      res.setHeader('content-type', 'application/json');
      if (req.method !== 'POST' || !req.url?.startsWith('/e/')) {
        res.statusCode = 404;
        return res.end(JSON.stringify({ error: 'not found', status: 404 }));
      }
      if (target.mode === 'fail') {
        res.statusCode = 500;
        return res.end(JSON.stringify({ error: 'inngest is having a bad day', status: 500 }));
      }
      const events = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OutboxEvent[];
      target.received.push(...events);
      res.end(JSON.stringify({ ids: events.map((e) => e.id), status: 200 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new Inngest({ id: 'churn-test', eventKey: 'test-event-key', baseUrl: url, isDev: false, logger: silentLogger });
  return Object.assign(target, {
    url,
    send: (events: OutboxEvent[]) => client.send(events),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
}

/** A client for a port where nothing listens: every send fails with a connection error. */
export function unreachableInngest(port: number): SendEvents {
  const client = new Inngest({ id: 'churn-test', eventKey: 'test-event-key', baseUrl: `http://127.0.0.1:${port}`, isDev: false, logger: silentLogger });
  return (events) => client.send(events);
}

const noop = () => {};
export const silentLogger = { info: noop, warn: noop, error: noop, debug: noop };
