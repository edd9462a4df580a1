/**
 * `npm run bench -- <name> [args]` runs bench/<name>.ts; with no name, lists them.
 * Every benchmark prints one JSON object of figures (and a human summary on stderr).
 */
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const names = readdirSync(here).filter((f) => f.endsWith('.ts') && f !== 'run.ts').map((f) => f.replace(/\.ts$/, ''));
const [name, ...args] = process.argv.slice(2);
if (!name || !names.includes(name)) {
  process.stderr.write(`usage: npm run bench -- <${names.join('|')}> [options]\n`);
  process.exit(name ? 2 : 0);
}
const tsx = join(here, '..', 'node_modules', '.bin', 'tsx');
const r = spawnSync(tsx, [join(here, `${name}.ts`), ...args], { stdio: 'inherit' });
process.exit(r.status ?? 1);
