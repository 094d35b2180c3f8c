/**
 * The `hermit serve` command end to end with OpenSSH's `ssh`: a command's output and exit status,
 * `ssh -tt` with a pty, `ssh -L`, `ssh -R` and `ssh -W` through the server — the same paths the
 * in-process tests cover, here through the CLI a user starts.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { createConnection, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentUserName } from '../server-host/server-auth.ts';
import { ensureBuilt, freePort, openSshBinaries, run, startHermitServe, tempDir, type HermitServer } from './openssh.ts';

const bins = openSshBinaries();
let dir: string;
let server: HermitServer;
let echo: Server;
let echoPort: number;
const user = currentUserName();

function ssh(args: string[], input?: string) {
  return run(bins.ssh, ['-p', String(server.port), '-i', join(dir, 'id'), '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', ...args], {
    timeoutMs: 60_000,
    ...(input !== undefined ? { input } : {}),
  });
}

/** Send bytes to 127.0.0.1:port and collect what comes back until the peer closes. */
function roundTrip(port: number, payload: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = createConnection({ host: '127.0.0.1', port }, () => socket.end(payload));
    socket.on('data', (d) => chunks.push(d));
    socket.on('end', () => resolve(Buffer.concat(chunks)));
    socket.on('error', reject);
  });
}

beforeAll(async () => {
  dir = await tempDir('serve-sessions');
  await ensureBuilt();
  const keygen = await run(bins.sshKeygen, ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'id')]);
  expect(keygen.code).toBe(0);
  await writeFile(join(dir, 'authorized_keys'), await readFile(join(dir, 'id.pub')));
  echo = createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoPort = (echo.address() as { port: number }).port;
  server = await startHermitServe(['--state-dir', join(dir, 'state'), '--authorized-keys', join(dir, 'authorized_keys')]);
});

afterAll(async () => {
  await server?.stop();
  echo?.close();
});

describe('hermit serve with OpenSSH ssh', () => {
  it('runs a command: stdout, stderr and the exit status', async () => {
    const r = await ssh([`${user}@127.0.0.1`, 'echo out; echo err >&2; exit 3']);
    expect([r.stdout, r.stderr, r.code]).toEqual(['out\n', 'err\n', 3]);
  });

  it('streams stdin through cat', async () => {
    const input = 'x'.repeat(300_000) + '\n';
    const r = await ssh([`${user}@127.0.0.1`, 'cat | sha256sum'], input);
    expect(r.stdout.split(' ')[0]).toBe(createHash('sha256').update(input).digest('hex'));
  });

  it('ssh -tt gets a pty', async () => {
    const r = await ssh(['-tt', `${user}@127.0.0.1`, 'tty; test -t 0 && echo interactive']);
    expect(r.stdout).toMatch(/^\/dev\/pts\/\d+\r?\ninteractive\r?\n/);
  });

  it('ssh -L forwards a local port through the server', async () => {
    const local = await freePort();
    const child = spawn(bins.ssh, ['-N', '-p', String(server.port), '-i', join(dir, 'id'), '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'ExitOnForwardFailure=yes', '-L', `127.0.0.1:${local}:127.0.0.1:${echoPort}`, `${user}@127.0.0.1`], { stdio: 'ignore' });
    try {
      const payload = Buffer.alloc(256 * 1024, 7);
      let got: Buffer | null = null;
      for (let i = 0; i < 50 && got === null; i++) {
        got = await roundTrip(local, payload).catch(async () => (await new Promise((r) => setTimeout(r, 100)), null));
      }
      expect(got?.equals(payload)).toBe(true);
    } finally {
      child.kill();
    }
  });

  it('ssh -R 0 allocates a port on the server and forwards it back', async () => {
    const child = spawn(bins.ssh, ['-N', '-v', '-p', String(server.port), '-i', join(dir, 'id'), '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'ExitOnForwardFailure=yes', '-R', `0:127.0.0.1:${echoPort}`, `${user}@127.0.0.1`], { stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      let stderr = '';
      const port = await new Promise<number>((resolve, reject) => {
        child.stderr!.on('data', (d: Buffer) => {
          stderr += d.toString();
          const m = /Allocated port (\d+) for remote forward/.exec(stderr);
          if (m) resolve(Number(m[1]));
        });
        child.on('exit', () => reject(new Error(`ssh exited: ${stderr}`)));
      });
      const payload = Buffer.from('hello through -R');
      expect((await roundTrip(port, payload)).toString()).toBe('hello through -R');
    } finally {
      child.kill();
    }
  });

  it('ClientAliveInterval drops a client that stops answering (ssh frozen with SIGSTOP)', async () => {
    const alive = await startHermitServe(['--state-dir', join(dir, 'state'), '--authorized-keys', join(dir, 'authorized_keys'), '-o', 'ClientAliveInterval=1', '-o', 'ClientAliveCountMax=2']);
    const child = spawn(bins.ssh, ['-N', '-p', String(alive.port), '-i', join(dir, 'id'), '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', `${user}@127.0.0.1`], { stdio: 'ignore' });
    try {
      const until = async (re: RegExp) => {
        for (let i = 0; i < 100 && !re.test(alive.output().stderr); i++) await new Promise((r) => setTimeout(r, 100));
        return alive.output().stderr;
      };
      expect(await until(/authenticated as/)).toMatch(/authenticated as/);
      // An answering client survives several intervals.
      await new Promise((r) => setTimeout(r, 2500));
      expect(alive.output().stderr).not.toMatch(/keepalive/);
      child.kill('SIGSTOP');
      expect(await until(/no answer to 2 keepalive requests/)).toMatch(/closed: no answer to 2 keepalive requests/);
    } finally {
      child.kill('SIGCONT');
      child.kill();
      await alive.stop();
    }
  });

  it('ssh -W connects stdin/stdout to a host:port through the server', async () => {
    const r = await ssh(['-W', `127.0.0.1:${echoPort}`, `${user}@127.0.0.1`], 'ping over -W');
    expect(r.stdout).toBe('ping over -W');
  });
});
