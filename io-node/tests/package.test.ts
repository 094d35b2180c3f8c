/**
 * The published package, as a user gets it: `npm run build`, `npm pack`, install the tarball into a
 * fresh project (offline, from the npm cache), then import every entry from plain Node and from
 * Deno — no TypeScript sources involved, since Node refuses to strip types under node_modules and
 * Deno will not load `.ts` from an npm package either. Each runtime runs a client and a server
 * engine from the installed package against each other in memory until the client has logged in,
 * and the shipped `.d.ts` files are checked by tsc (Node entries) and `deno check` (Deno entry).
 */
import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const denoBin = join(repoRoot, 'node_modules', '.bin', 'deno');
const tscBin = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
const npmBin = process.platform === 'win32' ? 'npm.cmd' : 'npm';

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function exec(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000): Promise<Result> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env: { ...process.env, NO_COLOR: '1', ...env }, timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) + (err && code === -1 ? `\n${err.message}` : '') });
    });
  });
}

function ok(r: Result, what: string): Result {
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r;
}

/**
 * `npm run build` under the build lock the other test files use (io-node/tests/openssh.ts,
 * `ensureBuilt`), so parallel workers never run two builds at once; the stamp it refreshes lets
 * them skip theirs.
 */
async function buildUnderLock(): Promise<void> {
  const work = join(repoRoot, '.hermit-test');
  await mkdir(work, { recursive: true });
  const lock = join(work, 'build.lock');
  const deadline = Date.now() + 240_000;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = existsSync(lock) ? Date.now() - statSync(lock).mtimeMs : 0;
      if (age > 240_000) await rm(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for the build lock ${lock}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    const started = new Date();
    ok(await exec(npmBin, ['run', 'build'], repoRoot), 'npm run build');
    const stamp = join(work, 'build.stamp');
    await writeFile(stamp, '');
    await utimes(stamp, started, started);
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

/** Shared by the Node and the Deno check: a client and a server engine, bytes moved in memory until quiet. */
const PAIR_MJS = `
export function pairLogin(m) {
  const hostKey = m.generatePrivateKey('ed25519', m.systemRandom, m.pureCrypto);
  const client = new m.SshEngine({ role: 'client', now: 0, username: 'anonymous' });
  const server = new m.SshEngine({ role: 'server', now: 0, hostKeys: [hostKey], acceptNoneAuthentication: true });
  const answer = (d) => d.kind === 'hostKey' ? true : d.kind === 'authMethods' ? [['publickey']]
    : ['sign', 'password', 'passwordChange', 'keyboardInteractive'].includes(d.kind) ? null : false;
  const events = { client: [], server: [] };
  for (let round = 0, moved = true; moved && round < 1000; round++) {
    moved = false;
    for (const [name, from, to] of [['client', client, server], ['server', server, client]]) {
      for (let out; (out = from.pollTransmit()); moved = true) to.receive(out, 0);
      for (let e; (e = from.pollEvent()); moved = true) {
        events[name].push(e.type);
        if (e.type === 'decision') from.resolve(e.decision.id, answer(e.decision), 0);
      }
    }
  }
  return { events, sessionIdsMatch: client.sessionId !== null && client.sessionId.join() === server.sessionId?.join() };
}
`;

const NODE_CHECK_MJS = `
import { pairLogin } from './pair.mjs';
const core = await import('hermit-ssh');
const node = await import('hermit-ssh/node');
console.log(JSON.stringify({
  core: { SshEngine: typeof core.SshEngine, pureCrypto: typeof core.pureCrypto },
  node: { connect: typeof node.connect, serve: typeof node.serve, ConnectionPump: typeof node.ConnectionPump },
  pair: pairLogin(core),
}));
`;

const DENO_CHECK_TS = `
import * as deno from 'npm:hermit-ssh/deno';
import { pairLogin } from './pair.mjs';
console.log(JSON.stringify({
  deno: { SshEngine: typeof deno.SshEngine, connect: typeof deno.connect, listen: typeof deno.listen, DenoConnectionPump: typeof deno.DenoConnectionPump },
  pair: pairLogin(deno),
}));
`;

/** Type-checked against the shipped .d.ts: each @ts-expect-error fails the check if the types were \`any\`. */
const DENO_TYPES_TS = `
import { connect, SshEngine, type DenoConnectionPump } from 'npm:hermit-ssh/deno';
const engine: SshEngine = new SshEngine({ role: 'client', now: 0 });
const out: Uint8Array | null = engine.pollTransmit();
declare const pump: DenoConnectionPump;
const same: SshEngine = pump.engine;
// @ts-expect-error connect is a function
const wrong: string = connect;
// @ts-expect-error pollTransmit returns bytes
const wrong2: number = engine.pollTransmit();
export { out, same, wrong, wrong2 };
`;

const NODE_TYPES_TS = `
import { SshEngine } from 'hermit-ssh';
import { connect, type ConnectionPump } from 'hermit-ssh/node';
const engine: SshEngine = new SshEngine({ role: 'client', now: 0 });
const out: Uint8Array | null = engine.pollTransmit();
declare const pump: ConnectionPump;
// @ts-expect-error connect is a function
const wrong: string = connect;
// @ts-expect-error pollTransmit returns bytes
const wrong2: number = engine.pollTransmit();
export { out, pump, wrong, wrong2 };
`;

interface PairOutcome {
  readonly events: { readonly client: string[]; readonly server: string[] };
  readonly sessionIdsMatch: boolean;
}

function expectLogin(pair: PairOutcome): void {
  expect(pair.events.client).toContain('kexComplete');
  expect(pair.events.client).toContain('authSuccess');
  expect(pair.events.server).toContain('authSuccess');
  expect(pair.events.client).not.toContain('closed');
  expect(pair.events.server).not.toContain('closed');
  expect(pair.sessionIdsMatch).toBe(true);
}

describe('the packed package', () => {
  let root = '';
  let project = '';
  let packed: { filename: string; size: number; unpackedSize: number; files: { path: string }[] };

  beforeAll(async () => {
    await buildUnderLock();
    root = await mkdtemp(join(tmpdir(), 'hermit-package-'));
    project = join(root, 'project');
    await mkdir(project);
    const pack = ok(await exec(npmBin, ['pack', '--ignore-scripts', '--json', '--pack-destination', project], repoRoot), 'npm pack');
    const [first] = JSON.parse(pack.stdout) as (typeof packed)[];
    if (!first) throw new Error(`npm pack printed no package: ${pack.stdout}`);
    packed = first;
    const tarball = `file:${packed.filename}`;

    // A lockfile for the consumer, copied from ours for the package's dependency closure, lets
    // `npm ci --offline` install from the cache that our own `npm ci` filled (a plain
    // `npm install --offline` would need registry metadata, which that cache does not hold).
    const ours = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string> };
    const lock = JSON.parse(await readFile(join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dependencies?: Record<string, string> }> };
    const packages: Record<string, unknown> = {
      '': { name: 'consumer', dependencies: { 'hermit-ssh': tarball } },
      'node_modules/hermit-ssh': { version: ours.version, resolved: tarball, dependencies: ours.dependencies },
    };
    const todo = Object.keys(ours.dependencies);
    const seen = new Set<string>();
    while (todo.length > 0) {
      const name = todo.pop()!;
      if (seen.has(name)) continue;
      seen.add(name);
      for (const [key, entry] of Object.entries(lock.packages)) {
        if (key !== `node_modules/${name}` && !key.startsWith(`node_modules/${name}/node_modules/`)) continue;
        packages[key] = entry;
        todo.push(...Object.keys(entry.dependencies ?? {}));
      }
    }
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { 'hermit-ssh': tarball } }, null, 2));
    await writeFile(join(project, 'package-lock.json'), JSON.stringify({ name: 'consumer', lockfileVersion: 3, requires: true, packages }, null, 2));
    const offline = await exec(npmBin, ['ci', '--offline', '--no-audit', '--no-fund'], project);
    if (offline.code !== 0) ok(await exec(npmBin, ['install', '--prefer-offline', '--no-audit', '--no-fund'], project), `npm install (after npm ci --offline said: ${offline.stderr})`);

    await writeFile(join(project, 'pair.mjs'), PAIR_MJS);
    await writeFile(join(project, 'node-check.mjs'), NODE_CHECK_MJS);
    await writeFile(join(project, 'deno-check.ts'), DENO_CHECK_TS);
    await writeFile(join(project, 'deno-types.ts'), DENO_TYPES_TS);
    await writeFile(join(project, 'node-types.ts'), NODE_TYPES_TS);
    // Deno resolves npm: specifiers from this node_modules, with no registry or JSR access.
    await writeFile(join(project, 'deno.json'), JSON.stringify({ nodeModulesDir: 'manual' }));
  }, 300_000);

  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('ships compiled JavaScript and declarations for every entry, and no sources, tests or fixtures', () => {
    const paths = packed.files.map((f) => f.path);
    for (const p of ['package.json', 'dist/core/index.js', 'dist/core/index.d.ts', 'dist/io-node/index.js', 'dist/io-node/index.d.ts', 'dist/io-node/cli/cli.js', 'dist/io-deno/mod.js', 'dist/io-deno/mod.d.ts']) {
      expect(paths).toContain(p);
    }
    expect(paths.filter((p) => !/^(dist\/.*\.(js|d\.ts)|package\.json|README\.md|LICENSE)$/.test(p))).toEqual([]);
    expect(paths.filter((p) => /(^|\/)(tests|fixtures|node_modules)\/|[._]test\./.test(p))).toEqual([]);
    expect(packed.size).toBeLessThan(2_000_000);
  });

  it('imports from Node: hermit-ssh and hermit-ssh/node, and a client logs in to a server in memory', async () => {
    const r = ok(await exec(process.execPath, ['node-check.mjs'], project), 'node node-check.mjs');
    const out = JSON.parse(r.stdout) as { core: Record<string, string>; node: Record<string, string>; pair: PairOutcome };
    expect(out.core).toEqual({ SshEngine: 'function', pureCrypto: 'object' });
    expect(out.node).toEqual({ connect: 'function', serve: 'function', ConnectionPump: 'function' });
    expectLogin(out.pair);
  }, 60_000);

  it('runs the installed hermit command', async () => {
    const r = ok(await exec(process.execPath, [join(project, 'node_modules', 'hermit-ssh', 'dist', 'io-node', 'cli', 'cli.js'), '--help'], project), 'hermit --help');
    expect(r.stdout).toMatch(/^Usage: hermit/m);
  }, 60_000);

  it('imports npm:hermit-ssh/deno from Deno (offline), and a client logs in to a server in memory', async () => {
    const env = { DENO_DIR: join(root, 'deno-dir'), DENO_NO_UPDATE_CHECK: '1' };
    const r = ok(await exec(denoBin, ['run', '--allow-all', '--cached-only', 'deno-check.ts'], project, env), 'deno run deno-check.ts');
    const out = JSON.parse(r.stdout) as { deno: Record<string, string>; pair: PairOutcome };
    expect(out.deno).toEqual({ SshEngine: 'function', connect: 'function', listen: 'function', DenoConnectionPump: 'function' });
    expectLogin(out.pair);
  }, 60_000);

  it('the shipped declarations type-check a consumer: deno check for hermit-ssh/deno, tsc for hermit-ssh and hermit-ssh/node', async () => {
    const env = { DENO_DIR: join(root, 'deno-dir'), DENO_NO_UPDATE_CHECK: '1' };
    const [deno, tsc] = await Promise.all([
      exec(denoBin, ['check', '--cached-only', 'deno-types.ts'], project, env),
      exec(process.execPath, [tscBin, '--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--typeRoots', join(repoRoot, 'node_modules', '@types'), '--types', 'node', 'node-types.ts'], project),
    ]);
    ok(deno, 'deno check deno-types.ts');
    ok(tsc, 'tsc node-types.ts');
  }, 120_000);
});
