/**
 * Handshake benchmarks, up to the server's answer to the `none` authentication request:
 * - in memory: two engines joined by a Pair (no sockets), per provider and kex;
 * - loopback TCP in one process: hermit's Node pump on both ends vs the `ssh2` package on both ends;
 * - whole commands against one private OpenSSH sshd: `hermit probe` vs OpenSSH's `ssh`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import {
  type CryptoProvider,
  generatePrivateKey,
  type PrivateKey,
  pureCrypto,
  SshEngine,
  systemRandom,
} from '../../core/index.ts';
import { Pair } from '../../core/testing/index.ts';
import { ConnectionPump, dialTcp } from '../runtime/connection-pump.ts';
import { nodeCrypto } from '../runtime/crypto-node.ts';

type Table = { header: string[]; rows: (string | number)[][] };

function timeLoop(seconds: number, fn: () => void): number {
  for (let i = 0; i < 5; i++) fn();
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    fn();
    n++;
  }
  return (performance.now() - start) / n;
}

async function timeLoopAsync(count: number, fn: () => Promise<void>): Promise<number> {
  for (let i = 0; i < 5; i++) await fn();
  const start = performance.now();
  for (let i = 0; i < count; i++) await fn();
  return (performance.now() - start) / count;
}

function inMemory(crypto: CryptoProvider, kex: string, hostKeys: PrivateKey[]): void {
  const pair = new Pair({
    client: { crypto, algorithms: { kex: [kex], hostKey: ['ssh-ed25519'] }, clientAuth: { methods: [] } },
    server: { crypto, hostKeys, algorithms: { kex: [kex] } },
  });
  pair.pump();
  if (!pair.clientEvents.some((e) => e.type === 'authFailure')) throw new Error(`in-memory handshake with ${kex} did not finish`);
}

export async function inMemoryTable(seconds = 1.5): Promise<Table> {
  const rows: (string | number)[][] = [];
  for (const kex of ['curve25519-sha256', 'mlkem768x25519-sha256']) {
    for (const crypto of [nodeCrypto, pureCrypto]) {
      const hostKeys = [generatePrivateKey('ed25519', systemRandom, crypto)];
      const ms = timeLoop(seconds, () => inMemory(crypto, kex, hostKeys));
      rows.push([`${kex} + ssh-ed25519`, crypto.name, ms, 1000 / ms, crypto === nodeCrypto && kex === 'curve25519-sha256' ? (ms <= 5 ? 'met (≤ 5 ms)' : 'MISSED (≤ 5 ms)') : '']);
    }
  }
  return { header: ['handshake (in memory, both ends)', 'provider', 'ms each', 'per second', 'target'], rows };
}

// ---------------------------------------------------------------- loopback TCP: hermit vs ssh2

const fixtureKey = fileURLToPath(new URL('../../../fixtures/keys/ed25519', import.meta.url));

async function hermitLoopback(hostKeys: PrivateKey[]): Promise<{ server: Server; once: () => Promise<void> }> {
  const server = createServer((socket) => {
    const engine = new SshEngine({ role: 'server', now: performance.now(), crypto: nodeCrypto, hostKeys, algorithms: { kex: ['curve25519-sha256'] } });
    new ConnectionPump(engine, socket, { onDecision: (d) => (d.kind === 'authMethods' ? [['publickey'], ['password']] : false) });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const once = async () => {
    const socket = await dialTcp('127.0.0.1', port);
    const engine = new SshEngine({ role: 'client', now: performance.now(), crypto: nodeCrypto, algorithms: { kex: ['curve25519-sha256'], hostKey: ['ssh-ed25519'] }, clientAuth: { methods: [] } });
    let pump!: ConnectionPump;
    pump = new ConnectionPump(engine, socket, {
      onDecision: (d) => d.kind === 'hostKey',
    });
    // With no methods configured the client ends after the answer to `none`, as the bench wants.
    const reason = await pump.closed;
    if (reason === null || !('code' in reason) || reason.code !== 'AUTH_FAILED') throw new Error(`hermit loopback handshake failed: ${reason?.message}`);
  };
  return { server, once };
}

interface Ssh2Module {
  Client: new () => {
    on(event: string, fn: (...args: unknown[]) => void): unknown;
    connect(options: Record<string, unknown>): void;
    end(): void;
  };
  Server: new (options: Record<string, unknown>, onClient: (client: { on(event: string, fn: (...args: unknown[]) => void): unknown }) => void) => Server;
}

async function ssh2Loopback(): Promise<{ server: Server; once: (noDelay: boolean) => Promise<void> } | null> {
  let ssh2: Ssh2Module;
  try {
    ssh2 = createRequire(import.meta.url)('ssh2') as Ssh2Module;
  } catch {
    return null;
  }
  let serverNoDelay = false;
  const server = new ssh2.Server({ hostKeys: [readFileSync(fixtureKey)] }, (client) => {
    if (serverNoDelay) (client as { _sock?: { setNoDelay?: (v: boolean) => void } })._sock?.setNoDelay?.(true);
    client.on('authentication', (ctx) => (ctx as { reject(methods: string[]): void }).reject(['publickey', 'password']));
    client.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const once = (noDelay: boolean) =>
    new Promise<void>((resolve, reject) => {
      serverNoDelay = noDelay;
      const c = new ssh2.Client();
      c.on('error', (err) => {
        // The expected end: `none` was refused and nothing else is configured.
        if (/authentication methods failed/.test(String((err as Error).message))) resolve();
        else reject(err as Error);
        c.end();
      });
      c.on('ready', () => reject(new Error('ssh2 unexpectedly authenticated')));
      const options: Record<string, unknown> = { host: '127.0.0.1', port, username: 'bench', algorithms: { kex: ['curve25519-sha256'], serverHostKey: ['ssh-ed25519'] } };
      // ssh2 leaves Nagle on; TCP_NODELAY on both sockets (its server's through a private field) shows what that costs it.
      if (noDelay) options['sock'] = connect({ host: '127.0.0.1', port }).setNoDelay(true);
      c.connect(options);
    });
  return { server, once };
}

export async function loopbackTable(count = 200): Promise<Table> {
  const hostKeys = [generatePrivateKey('ed25519', systemRandom, nodeCrypto)];
  const hermit = await hermitLoopback(hostKeys);
  const hermitMs = await timeLoopAsync(count, hermit.once);
  hermit.server.close();
  const rows: (string | number)[][] = [['hermit (node provider)', hermitMs, 1000 / hermitMs, 1]];
  const ssh2 = await ssh2Loopback();
  if (ssh2) {
    const version = (createRequire(import.meta.url)('ssh2/package.json') as { version: string }).version;
    const ssh2Ms = await timeLoopAsync(count / 4, () => ssh2.once(false));
    const ssh2NoDelayMs = await timeLoopAsync(count, () => ssh2.once(true));
    ssh2.server.close();
    rows.push([`ssh2 ${version}, as shipped`, ssh2Ms, 1000 / ssh2Ms, ssh2Ms / hermitMs]);
    rows.push([`ssh2 ${version}, TCP_NODELAY set on both sockets`, ssh2NoDelayMs, 1000 / ssh2NoDelayMs, ssh2NoDelayMs / hermitMs]);
  } else {
    rows.push(['ssh2 (not installed: npm ci installs it as a dev dependency)', NaN, NaN, NaN]);
  }
  return { header: ['loopback TCP, one process, curve25519 + ed25519', 'ms each', 'per second', 'their ms / ours'], rows };
}

// ---------------------------------------------------------------- commands against sshd: hermit probe vs ssh

function which(name: string, extra: string[] = []): string | null {
  for (const dir of [...(process.env['PATH'] ?? '').split(':'), ...extra]) {
    const p = join(dir, name);
    if (spawnSync('test', ['-x', p]).status === 0) return p;
  }
  return null;
}

function runTimed(cmd: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(cmd, args, { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', () => resolve(performance.now() - start));
  });
}

export async function commandTable(count = 20): Promise<Table> {
  const sshd = which('sshd', ['/usr/sbin']);
  const ssh = which('ssh');
  const keygen = which('ssh-keygen');
  if (!sshd || !ssh || !keygen) {
    return { header: ['whole command against sshd', 'ms each'], rows: [['OpenSSH not installed (apt-get install -y openssh-server openssh-client)', NaN]] };
  }
  const dir = mkdtempSync(join(tmpdir(), 'hermit-bench-'));
  spawnSync(keygen, ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host')]);
  const port = await new Promise<number>((r) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => r(p));
    });
  });
  const config = join(dir, 'sshd_config');
  writeFileSync(config, [`Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${join(dir, 'host')}`, `PidFile ${join(dir, 'pid')}`, 'UsePAM no', 'MaxStartups 100', 'LogLevel QUIET', 'KexAlgorithms curve25519-sha256'].join('\n') + '\n');
  spawnSync('mkdir', ['-p', '/run/sshd']);
  const daemon = spawn(sshd, ['-D', '-f', config], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 300));
    const cli = fileURLToPath(new URL('../cli/cli.js', import.meta.url));
    const probeArgs = [cli, 'probe', '-p', String(port), '-o', 'KexAlgorithms=curve25519-sha256', '127.0.0.1'];
    const sshArgs = ['-p', String(port), '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'PreferredAuthentications=none', '-o', 'KexAlgorithms=curve25519-sha256', '-o', 'LogLevel=QUIET', 'bench@127.0.0.1', 'true'];
    const nodeStart = await timeLoopAsync(count, async () => void (await runTimed(process.execPath, ['-e', '0'])));
    const hermit = await timeLoopAsync(count, async () => void (await runTimed(process.execPath, probeArgs)));
    const openssh = await timeLoopAsync(count, async () => void (await runTimed(ssh, sshArgs)));
    return {
      header: ['whole command against one sshd (curve25519), spawn to exit', 'ms each', 'ours / OpenSSH'],
      rows: [
        ['OpenSSH ssh (PreferredAuthentications=none)', openssh, 1],
        ['hermit probe (node)', hermit, hermit / openssh],
        ['  of which: bare `node -e 0` start-up', nodeStart, nodeStart / openssh],
      ],
    };
  } finally {
    daemon.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}
