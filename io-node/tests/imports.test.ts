/**
 * DESIGN.md section 1 for the adapter: io-node never reaches into machines/, and the pump, the
 * CLI and its helpers use core only through its public modules, so that they keep working however
 * core is arranged inside.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ioNode = join(import.meta.dirname, '..');
const PUBLIC_CORE = /^(\.\.\/)+core\/(engine|index|errors|events|transport\/algorithms|keys\/[^/]+|api\/index|testing\/index)\.ts$/;
const FRONT_FILES = ['connection-pump.ts', 'index.ts', 'cli.ts', 'serve.ts', 'probe.ts', 'state-dir.ts'];

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

function imports(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+'([^']+)'/gm)].map((m) => m[1]!);
}

describe('io-node dependency rules', () => {
  it('no io-node file imports machines/', () => {
    const offenders = sources(ioNode).flatMap((f) => imports(f).filter((s) => /(^|\/)machines\//.test(s)).map((s) => `${relative(ioNode, f)}: ${s}`));
    expect(offenders).toEqual([]);
  });

  it('the pump and the CLI use only public core modules', () => {
    const offenders = FRONT_FILES.flatMap((name) =>
      imports(join(ioNode, name))
        .filter((s) => s.includes('/core/') && !PUBLIC_CORE.test(s))
        .map((s) => `${name}: ${s}`),
    );
    expect(offenders).toEqual([]);
    // The check sees imports at all (an empty result must not come from a broken pattern).
    expect(imports(join(ioNode, 'probe.ts'))).toContain('../core/index.ts');
  });
});
