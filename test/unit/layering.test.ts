import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The product never depends on the simulator: the use-cases under src/services (and the model
 * code under src/ml) may not import src/simulator or src/demo, directly or by a dynamic import.
 * The demo, which drives the simulator, lives at the entry points (src/demo, src/cli).
 */

const ROOT = resolve('src');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** Every module specifier a file imports or re-exports, resolved to a path under src when relative. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:^|[^\w.])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm)].map((m) => m[1] ?? m[2] ?? m[3]!);
  return specs.map((s) => (s.startsWith('.') ? relative(ROOT, resolve(join(file, '..'), s)) : s));
}

describe('layering', () => {
  for (const layer of ['services', 'ml']) {
    it(`no file under src/${layer} imports src/simulator or src/demo`, () => {
      const offenders = tsFiles(join(ROOT, layer)).flatMap((f) =>
        importsOf(f)
          .filter((target) => /^(simulator|demo)(\/|$)/.test(target))
          .map((target) => `${relative(ROOT, f)} imports ${target}`),
      );
      expect(offenders).toEqual([]);
    });
  }

  it('sees the imports it checks (the demo does import the simulator)', () => {
    expect(importsOf(join(ROOT, 'demo', 'run-demo.ts')).some((t) => t.startsWith('simulator/'))).toBe(true);
  });
});
