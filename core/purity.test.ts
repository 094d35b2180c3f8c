/**
 * The dependency rules of DESIGN.md section 1, enforced: core/ and machines/ stay free of runtimes
 * and clocks, machines/ never reaches into core/ or the adapters, core/ never into the adapters.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const runtime: Array<[RegExp, string]> = [
  [/from\s+['"]node:/, 'imports node:*'],
  [/(?<![.\w])require\(/, 'uses require()'],
  [/\bBuffer\b/, 'uses Buffer'],
  [/\bDeno\./, 'uses Deno'],
  [/\bset(Timeout|Interval|Immediate)\s*\(/, 'uses a timer'],
  [/\bDate\.now\s*\(|\bnew Date\s*\(/, 'reads the wall clock'],
  [/\bperformance\.now\s*\(/, 'reads a clock'],
  [/(?<![\w./'"-])process\./, 'uses process'],
  [/from\s+['"](\.\.\/)+(io-node|io-deno)\//, 'imports an adapter'],
];

function violations(dir: string, extra: Array<[RegExp, string]>): string[] {
  const found: string[] = [];
  for (const file of sources(join(root, dir))) {
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (/^\s*(\*|\/\/)/.test(line)) return; // comments may talk about what they avoid
      for (const [re, what] of [...runtime, ...extra]) if (re.test(line)) found.push(`${relative(root, file)}:${i + 1} ${what}: ${line.trim()}`);
    });
  }
  return found;
}

describe('dependency rules', () => {
  it('core/ imports no runtime, clock or adapter', () => {
    expect(violations('core', [])).toEqual([]);
  });

  it('machines/ imports only xstate', () => {
    const importsOtherThanXstate: [RegExp, string] = [/from\s+['"](?!xstate['"])(?!\.\/)[^'"]+['"]/, 'imports something other than xstate'];
    expect(violations('machines', [importsOtherThanXstate])).toEqual([]);
  });

  it('the check itself catches a violation', () => {
    const sample = "import { readFile } from 'node:fs';";
    expect(runtime.some(([re]) => re.test(sample))).toBe(true);
    expect(runtime.some(([re]) => re.test('const env = process.env;'))).toBe(true);
    expect(runtime.some(([re]) => re.test("const fs = require('fs');"))).toBe(true);
    // A method named require and a module named process.ts are not the runtime's.
    expect(runtime.some(([re]) => re.test("channel.require(request); import { x } from './process.ts';"))).toBe(false);
    expect(/from\s+['"](?!xstate['"])(?!\.\/)[^'"]+['"]/.test("import { x } from '../core/engine.ts';")).toBe(true);
  });
});
