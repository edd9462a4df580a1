import { readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import type { AppEnv } from '../app.js';

/**
 * The growth team's dashboard at `/`: plain ES modules and a stylesheet from src/dashboard, plus
 * Chart.js and the Inter font served from their npm packages, so nothing is loaded from a CDN and
 * nothing needs building. The page talks only to /v1 with the API key the person signs in with.
 *
 * Every response carries a strict Content-Security-Policy: scripts, styles, fonts and fetches from
 * this origin only, no inline script or style, no framing. The pages build the DOM with
 * textContent, never innerHTML, so stored text (customer names come from Stripe, i.e. from anyone
 * who can sign up) is shown, never run.
 */

export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'content-security-policy': DASHBOARD_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
};

const SOURCE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'dashboard');

/** Every file under src/dashboard by its URL path: only these are served, so no path can walk out. */
function listFiles(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (TYPES[extname(name)]) files.set(relative(dir, path).split(sep).join('/'), path);
    }
  };
  walk(dir);
  return files;
}

function vendorFiles(): Map<string, string> {
  const require = createRequire(import.meta.url);
  return new Map([
    // chart.js exports only its entry points: the UMD build sits beside the CommonJS one
    ['chart.umd.min.js', join(dirname(require.resolve('chart.js')), 'chart.umd.min.js')],
    ['inter.woff2', require.resolve('@fontsource-variable/inter/files/inter-latin-wght-normal.woff2')],
  ]);
}

export function dashboardRoutes(options: { sourceDir?: string } = {}): Hono<AppEnv> {
  const own = listFiles(options.sourceDir ?? SOURCE_DIR);
  const vendor = vendorFiles();
  const send = async (path: string, maxAge: number) =>
    new Response(new Uint8Array(await readFile(path)), {
      status: 200,
      headers: { ...SECURITY_HEADERS, 'content-type': TYPES[extname(path)]!, 'cache-control': maxAge > 0 ? `public, max-age=${maxAge}` : 'no-cache' },
    });

  const app = new Hono<AppEnv>();
  app.get('/', () => send(own.get('index.html')!, 0));
  app.get('/dashboard/vendor/:file', async (c) => {
    const path = vendor.get(c.req.param('file'));
    return path ? send(path, 86_400) : c.notFound();
  });
  app.get('/dashboard/*', async (c) => {
    const path = own.get(c.req.path.slice('/dashboard/'.length));
    return path ? send(path, 0) : c.notFound();
  });
  return app;
}
