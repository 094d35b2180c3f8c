/**
 * The compiler half of DESIGN.md section 1's rule "core/ never imports node:*, Deno, Buffer,
 * timers": tsconfig.core.json (run by `npm run typecheck`) compiles core/ and machines/ with ES2022
 * and the Web globals of core-web-globals.d.ts only. These tests compile temporary core-like files
 * with exactly that configuration and show that every runtime global is refused, while the Web
 * globals core legitimately uses still compile, so the check can fail and fails for the right
 * reason. core/purity.test.ts is the textual half (it also catches `Date.now`, which ES2022 has).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const configPath = join(root, 'tsconfig.core.json');

function coreConfig(): ts.ParsedCommandLine {
  const parsed = ts.getParsedCommandLineOfConfigFile(configPath, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')); } });
  if (!parsed) throw new Error('tsconfig.core.json did not parse');
  expect(parsed.errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))).toEqual([]);
  return parsed;
}

const dir = mkdtempSync(join(tmpdir(), 'hermit-core-purity-'));
// An ES module, as every file of the package is ("type": "module").
writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Compile each sample as its own module with tsconfig.core.json's options; errors per sample. */
function compile(samples: Record<string, string>): Record<string, string[]> {
  const { options, fileNames } = coreConfig();
  const globals = fileNames.filter((f) => f.endsWith('core-web-globals.d.ts'));
  const files = Object.entries(samples).map(([name, code]) => {
    const file = join(dir, `${name}.ts`);
    writeFileSync(file, `${code}\nexport {};\n`);
    return [name, file] as const;
  });
  // The samples live outside the repository, so drop its rootDir (an emit setting only).
  const { rootDir: _rootDir, ...compilerOptions } = options;
  const program = ts.createProgram([...globals, ...files.map(([, f]) => f)], { ...compilerOptions, noEmit: true });
  const out: Record<string, string[]> = {};
  for (const [name, file] of files) {
    const source = program.getSourceFile(file)!;
    out[name] = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)].map(
      (d) => `TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`,
    );
  }
  return out;
}

describe('tsconfig.core.json refuses Node and Deno in core/ and machines/', () => {
  it('compiles core/ and machines/ without their tests, with no DOM and no @types', () => {
    const { options, fileNames } = coreConfig();
    const names = fileNames.map((f) => relative(root, f).split(sep).join('/'));
    expect(names).toContain('core/engine.ts');
    expect(names).toContain('core/api/index.ts');
    expect(names).toContain('core-web-globals.d.ts');
    expect(names.some((n) => n.startsWith('machines/'))).toBe(true);
    expect(names.filter((n) => /\.test\.ts$|_test\.ts$|\/tests\//.test(n))).toEqual([]);
    expect(names.filter((n) => !/^(core|machines)\//.test(n) && n !== 'core-web-globals.d.ts')).toEqual([]);
    expect(options.types).toEqual([]);
    expect(options.lib).toEqual(['lib.es2022.d.ts']);
  });

  it('every Node or Deno import and global is a compile error', () => {
    const refused = {
      nodeImport: "import { readFileSync } from 'node:fs';\nreadFileSync('x');",
      nodeTypeImport: "import type { Socket } from 'node:net';\nexport type S = Socket;",
      buffer: "const b = Buffer.from('x');\nb.length;",
      process: 'const home = process.env.HOME;\nhome;',
      deno: "Deno.connect({ port: 22 });",
      setTimeout: 'setTimeout(() => {}, 10);',
      setInterval: 'setInterval(() => {}, 10);',
      require: "const fs = require('fs');\nfs;",
      dirname: 'const here = __dirname;\nhere;',
    };
    const errors = compile(refused);
    const because: Record<keyof typeof refused, RegExp> = {
      nodeImport: /TS2307: Cannot find module 'node:fs'/,
      nodeTypeImport: /TS2307: Cannot find module 'node:net'/,
      buffer: /Cannot find name 'Buffer'/,
      process: /Cannot find name 'process'/,
      deno: /Cannot find name 'Deno'/,
      setTimeout: /Cannot find name 'setTimeout'/,
      setInterval: /Cannot find name 'setInterval'/,
      require: /Cannot find name 'require'/,
      dirname: /Cannot find name '__dirname'/,
    };
    for (const [name, reason] of Object.entries(because)) expect(errors[name]!.join('\n'), name).toMatch(reason);
  });

  it('the Web globals core uses still compile (the refusals above are not a broken setup)', () => {
    const allowed = {
      web: [
        "const bytes = new TextEncoder().encode('x');",
        "const text: string = new TextDecoder('utf-8', { fatal: true }).decode(bytes);",
        'globalThis.crypto.getRandomValues(new Uint8Array(8));',
        'queueMicrotask(() => {});',
        'export function aborted(signal: AbortSignal): boolean { signal.addEventListener("abort", () => {}, { once: true }); return signal.aborted; }',
        'export class R { async [Symbol.asyncDispose](): Promise<void> {} }',
        'text.length;',
      ].join('\n'),
    };
    expect(compile(allowed)).toEqual({ web: [] });
  });
});
