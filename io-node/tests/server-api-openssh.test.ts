/**
 * The server API on Node (io-node/server-host/server.ts over core/api/server.ts) with OpenSSH's
 * `ssh` as the client on 127.0.0.1: exec with stdin read as lines, stdout, stderr and the exit status; a refused
 * key; `ssh -W` through the direct-tcpip policy to a real TCP echo, and refused by it; graceful close.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatPublicKeyLine, generatePrivateKey, publicKeysEqual, serializeOpenSshPrivateKey, systemRandom } from '../../core/index.ts';
import { listen, nodeCrypto, type SshServer } from '../index.ts';
import { failEachTestWithoutOpenSsh } from './openssh.ts';

failEachTestWithoutOpenSsh();

const hostKey = generatePrivateKey('ed25519', systemRandom, nodeCrypto);
const userKey = generatePrivateKey('ed25519', systemRandom, nodeCrypto);
const strangerKey = generatePrivateKey('ed25519', systemRandom, nodeCrypto);

let dir = '';
let server: SshServer;
let echo: Server;
let echoPort = 0;
let knownHosts = '';
const directAsked: string[] = [];

function ssh(args: string[], identity: string, input = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const port = (server.address as { port: number }).port;
  const child = spawn('ssh', ['-F', '/dev/null', '-p', String(port), '-i', identity, '-o', 'IdentitiesOnly=yes', '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', ...args], { stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  child.stdin.end(input);
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

async function keyFile(name: string, key: typeof userKey): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, serializeOpenSshPrivateKey(key, systemRandom), { mode: 0o600 });
  return path;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hermit-server-api-'));
  echo = createServer({ allowHalfOpen: true }, (s) => s.pipe(s));
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  echoPort = (echo.address() as AddressInfo).port;
  server = await listen({
    hostKeys: [hostKey],
    auth: { publicKey: (a) => a.username === 'alice' && publicKeysEqual(a.key, userKey.publicKey) },
    forwarding: { direct: ({ host, port }) => (directAsked.push(`${host}:${port}`), port === echoPort ? 'connect' : false) },
    session: async (s) => {
      const lines: string[] = [];
      for await (const line of s.readLines()) lines.push(line.toUpperCase());
      await s.stderr.write(`${lines.length} lines\n`);
      await s.stdout.write(`${s.username} ran "${s.command}": ${lines.join('|')}`);
      return 3;
    },
  });
  knownHosts = join(dir, 'known_hosts');
  await writeFile(knownHosts, `[127.0.0.1]:${(server.address as { port: number }).port} ${formatPublicKeyLine(hostKey.publicKey)}\n`);
});

afterAll(async () => {
  await server?.close();
  echo?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('OpenSSH ssh against a listen() server on Node', () => {
  it('runs a command: stdout, stderr, stdin and the exit status; a key the handler refuses is denied', async () => {
    const ok = await ssh(['alice@127.0.0.1', 'shout'], await keyFile('user', userKey), 'hello\nworld');
    expect(ok.stdout).toBe('alice ran "shout": HELLO|WORLD');
    expect(ok.stderr).toBe('2 lines\n');
    expect(ok.code).toBe(3);
    const denied = await ssh(['alice@127.0.0.1', 'shout'], await keyFile('stranger', strangerKey));
    expect(denied.code).toBe(255);
    expect(denied.stderr).toMatch(/Permission denied \(publickey\)/);
  });

  it('ssh -W reaches the TCP echo the direct-tcpip policy allows, and not a port it refuses', async () => {
    const through = await ssh(['-W', `127.0.0.1:${echoPort}`, 'alice@127.0.0.1'], await keyFile('user', userKey), 'round trip\n');
    expect(through.stdout).toBe('round trip\n');
    expect(through.code).toBe(0);
    const refused = await ssh(['-W', '127.0.0.1:1', 'alice@127.0.0.1'], await keyFile('user', userKey), 'x');
    expect(refused.code).toBe(255);
    expect(refused.stderr).toMatch(/administratively prohibited/);
    expect(directAsked).toEqual([`127.0.0.1:${echoPort}`, '127.0.0.1:1']);
  });

  it('close() says goodbye to a logged-in client with DISCONNECT 11', async () => {
    const extra = await listen({ hostKeys: [hostKey], auth: { publicKey: (a) => publicKeysEqual(a.key, userKey.publicKey) }, session: () => new Promise<number>(() => {}) });
    const port = (extra.address as { port: number }).port;
    await writeFile(knownHosts, `[127.0.0.1]:${port} ${formatPublicKeyLine(hostKey.publicKey)}\n`, { flag: 'a' });
    const child = spawn('ssh', ['-F', '/dev/null', '-p', String(port), '-i', join(dir, 'user'), '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'BatchMode=yes', 'alice@127.0.0.1', 'wait'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    for (let i = 0; i < 100 && extra.connections.size === 0; i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));
    await extra.close();
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(255);
    expect(stderr).toMatch(/closed by the server|server shutting down/);
  });
});
