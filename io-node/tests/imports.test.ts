/**
 * DESIGN.md sections 1 and 3 for the adapters: no io-node or io-deno file (tests, bench and tools
 * included) reaches into machines/, and every import of core goes through one of its public
 * entries, so the adapters keep working however core is arranged inside.
 *
 * Each import specifier is resolved against its file, so `../core/x.ts`, `../../core/x.js` and a
 * dynamic `import('../core/x.ts')` are all judged by the file they name. Offenders are reported as
 * `file:line specifier`.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const ADAPTERS = ['io-node', 'io-deno'];
/** The public entries of core (repo-relative); `core/keys/index.ts` is the keys entry. */
const PUBLIC_CORE = new Set(['core/index.ts', 'core/api/index.ts', 'core/testing/index.ts', 'core/keys/index.ts']);

/**
 * TEMPORARY: inner-core imports that remain in files the lead is rewriting
 * (io-node/streams/client.ts, io-node/index.ts, io-node/runtime/*, io-deno/mod.ts, io-deno/net.ts,
 * io-deno/pump.ts). Each entry is exactly an offender line as reported below. Empty this list as
 * those files are fixed: an entry that no longer matches an offender fails the test, so the list
 * cannot outlive the imports it excuses.
 */
const TEMPORARY_ALLOWED_OFFENDERS: readonly string[] = [];

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

interface Import {
  readonly line: number;
  readonly specifier: string;
}

/** Static `import … from`, `export … from`, bare `import '…'` and dynamic `import('…')`. */
const IMPORT_FORMS = [
  /^[ \t]*(?:import|export)\b[^;'"]*?\bfrom\s*(['"])([^'"\n]+)\1/gm,
  /^[ \t]*import\s*(['"])([^'"\n]+)\1/gm,
  /\bimport\s*\(\s*(['"])([^'"\n]+)\1\s*\)/g,
];

function importsOf(text: string): Import[] {
  const found = new Map<number, Import>();
  for (const form of IMPORT_FORMS) {
    for (const m of text.matchAll(form)) {
      // Report the line of the specifier (the `from '…'` line of a multi-line import).
      const at = m.index + m[0].lastIndexOf(m[2]!);
      const line = text.slice(0, at).split('\n').length;
      found.set(at, { line, specifier: m[2]! });
    }
  }
  return [...found.entries()].sort(([a], [b]) => a - b).map(([, i]) => i);
}

/** Repo-relative path an import names, or null for a package or `node:` import. */
function target(file: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  return relative(root, resolve(dirname(file), specifier)).split(sep).join('/').replace(/\.js$/, '.ts');
}

/** Why an import breaks the rules, or null when it keeps them. */
function ruleBroken(to: string | null): string | null {
  if (to === null) return null;
  if (to === 'machines' || to.startsWith('machines/')) return 'imports machines/';
  if ((to === 'core' || to.startsWith('core/')) && !PUBLIC_CORE.has(to)) return 'imports core past its public entries';
  return null;
}

function scan(files: readonly string[]): { offenders: string[]; imports: number; coreImports: number } {
  const offenders: string[] = [];
  let imports = 0;
  let coreImports = 0;
  for (const file of files) {
    for (const { line, specifier } of importsOf(readFileSync(file, 'utf8'))) {
      imports++;
      const to = target(file, specifier);
      if (to?.startsWith('core/')) coreImports++;
      const why = ruleBroken(to);
      if (why) offenders.push(`${relative(root, file).split(sep).join('/')}:${line} ${specifier} (${why})`);
    }
  }
  return { offenders, imports, coreImports };
}

describe('adapter dependency rules (every .ts file under io-node/ and io-deno/)', () => {
  const files = ADAPTERS.flatMap((dir) => sources(join(root, dir)));
  const { offenders, imports, coreImports } = scan(files);

  it('no file imports machines/ or core past its public entries (except the temporary list)', () => {
    const unexpected = offenders.filter((o) => !TEMPORARY_ALLOWED_OFFENDERS.includes(o));
    expect(unexpected, `offenders:\n${unexpected.join('\n')}`).toEqual([]);
  });

  it('every temporarily allowed offender still exists (the list cannot rot)', () => {
    const stale = TEMPORARY_ALLOWED_OFFENDERS.filter((o) => !offenders.includes(o));
    expect(stale, `no longer offending, remove from TEMPORARY_ALLOWED_OFFENDERS:\n${stale.join('\n')}`).toEqual([]);
  });

  it('the check sees the files and their imports (an empty result is not a broken pattern)', () => {
    const names = files.map((f) => relative(root, f).split(sep).join('/'));
    for (const f of ['io-node/index.ts', 'io-node/streams/client.ts', 'io-node/tests/imports.test.ts', 'io-deno/mod.ts', 'io-deno/pair_test.ts']) {
      expect(names).toContain(f);
    }
    expect(files.length).toBeGreaterThan(50);
    expect(imports).toBeGreaterThan(300);
    expect(coreImports).toBeGreaterThan(50);
    // io-deno/mod.ts re-exports the core entry; io-node/cli/probe.ts imports it.
    const of = (f: string) => importsOf(readFileSync(join(root, f), 'utf8')).map((i) => target(join(root, f), i.specifier));
    expect(of('io-deno/mod.ts')).toContain('core/index.ts');
    expect(of('io-node/cli/probe.ts')).toContain('core/index.ts');
  });

  it('the scanner reports offenders by file:line in every import form', () => {
    // Built from `up` so that a plain grep for inner core imports does not mistake these strings for imports.
    const up = '../';
    const sample = [
      `import { a } from '${up}core/index.ts';`, // 1: public
      'import {', // 2
      '  b,', // 3
      `} from '${up}core/wire/reader.ts';`, // 4: inner, multi-line
      `export { c } from '${up}core/keys/format.js';`, // 5: inner, .js spelling
      `import type { D } from "${up}machines/transport.ts";`, // 6: machines
      `const e = await import('${up}core/engine.ts');`, // 7: dynamic
      `import '${up}core/api/runtime.ts';`, // 8: side effect
      "import { f } from 'node:fs';", // 9: package
      `import { g } from '${up}core/testing/index.ts';`, // 10: public
    ].join('\n');
    const file = join(root, 'io-node', 'sample.ts');
    const broken = importsOf(sample).filter((i) => ruleBroken(target(file, i.specifier))).map((i) => `${i.line} ${i.specifier}`);
    expect(broken).toEqual([
      '4 ../core/wire/reader.ts',
      '5 ../core/keys/format.js',
      '6 ../machines/transport.ts',
      '7 ../core/engine.ts',
      '8 ../core/api/runtime.ts',
    ]);
    expect(ruleBroken(target(join(root, 'io-node', 'runtime', 'x.ts'), '../../core/keys/index.ts'))).toBeNull();
    expect(ruleBroken(target(join(root, 'io-node', 'runtime', 'x.ts'), '../../core/keys/format.ts'))).not.toBeNull();
  });
});
