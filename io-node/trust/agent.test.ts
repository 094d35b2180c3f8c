/**
 * SshAgent against a real OpenSSH `ssh-agent` started by the tests (`ssh-agent -D -a <socket>`),
 * cross-checked with `ssh-add`: keys we add are the keys `ssh-add -l` lists, keys `ssh-add` loads
 * are the keys we list, signatures verify, constraints are honoured. Malformed replies come from a
 * scripted Unix socket server, since a real agent never sends them.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { chmod, copyFile, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  encodeIdentitiesAnswer,
  encodeSignResponse,
  encodeSuccess,
  frameAgentMessage,
  parseOpenSshPrivateKey,
  type PrivateKey,
  pureCrypto,
  sign,
  verifySignature,
} from '../../core/index.ts';
import { AgentError, SshAgent } from './agent.ts';

const fixtures = new URL('../../fixtures/keys/', import.meta.url);
const NAMES = ['ed25519', 'ecdsa-256', 'ecdsa-384', 'ecdsa-521', 'rsa-2048'] as const;
type Name = (typeof NAMES)[number];
const fixturePath = (name: string) => new URL(name, fixtures).pathname;
const KEYS = Object.fromEntries(NAMES.map((n) => [n, parseOpenSshPrivateKey(readFileSync(fixturePath(n), 'utf8'))[0]!])) as Record<Name, PrivateKey>;
const FINGERPRINTS = Object.fromEntries(NAMES.map((n) => [n, readFileSync(fixturePath(`${n}.fp-sha256`), 'utf8').split(' ')[1]!])) as Record<Name, string>;
const data = new TextEncoder().encode('what a server would ask us to sign');

function findBinary(name: string): string | null {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      /* keep looking */
    }
  }
  return null;
}

const SSH_AGENT = findBinary('ssh-agent');
const SSH_ADD = findBinary('ssh-add');
const SSH_KEYGEN = findBinary('ssh-keygen');
const MISSING =
  SSH_AGENT && SSH_ADD && SSH_KEYGEN
    ? null
    : new Error('the agent tests need ssh-agent, ssh-add and ssh-keygen; install them with: apt-get install -y openssh-client');

function exec(file: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') reject(err);
      else resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}

interface RunningAgent {
  readonly socket: string;
  readonly dir: string;
  stop(): Promise<void>;
}

/** Start an agent on `<dir>/agent.sock` (a new directory unless given); `stop()` removes the directory. */
async function startAgent(reuseDir?: string): Promise<RunningAgent & { kill(): Promise<void> }> {
  const dir = reuseDir ?? (await mkdtemp(join(tmpdir(), 'hermit-agent-')));
  const socket = join(dir, 'agent.sock');
  const child: ChildProcess = spawn(SSH_AGENT!, ['-D', '-a', socket], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ssh-agent did not start within 10 s: ${output}`)), 10_000);
    const onData = (d: Buffer) => {
      output += d.toString();
      if (output.includes('SSH_AUTH_SOCK=')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`ssh-agent exited with ${code}: ${output}`));
    });
  });
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  };
  return {
    socket,
    dir,
    kill,
    stop: async () => {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** `ssh-add -l` fingerprints (empty when the agent has no identities). */
async function sshAddList(agent: RunningAgent): Promise<string[]> {
  const r = await exec(SSH_ADD!, ['-l'], { ...process.env, SSH_AUTH_SOCK: agent.socket });
  if (r.code === 1 && /no identities/.test(r.stdout)) return [];
  if (r.code !== 0) throw new Error(`ssh-add -l failed (${r.code}): ${r.stdout}${r.stderr}`);
  return r.stdout
    .trim()
    .split('\n')
    .map((line) => line.split(' ')[1]!);
}

/** `ssh-add <copy of the fixture>`: ssh-add insists on private permissions. */
async function sshAdd(agent: RunningAgent, name: string, extra: readonly string[] = []): Promise<void> {
  const copy = join(agent.dir, name);
  await copyFile(fixturePath(name), copy);
  await chmod(copy, 0o600);
  const r = await exec(SSH_ADD!, [...extra, copy], { ...process.env, SSH_AUTH_SOCK: agent.socket });
  if (r.code !== 0) throw new Error(`ssh-add ${name} failed (${r.code}): ${r.stderr}`);
}

const sorted = (v: readonly string[]) => [...v].sort();

describe('SshAgent against OpenSSH ssh-agent', () => {
  let agent: Awaited<ReturnType<typeof startAgent>> | null = null;
  let client: SshAgent;

  beforeEach(async () => {
    if (MISSING) throw MISSING;
    agent = await startAgent();
    client = new SshAgent({ socketPath: agent.socket });
  });

  afterEach(async () => {
    await client?.close();
    await agent?.stop();
    agent = null;
  });

  it('keys we add of every type are the keys ssh-add -l lists', async () => {
    expect(await client.list()).toEqual([]);
    for (const name of NAMES) await client.add(KEYS[name]);
    expect(sorted(await sshAddList(agent!))).toEqual(sorted(NAMES.map((n) => FINGERPRINTS[n])));
    const listed = await client.list();
    expect(listed.map((i) => [i.fingerprint, i.comment])).toEqual(NAMES.map((n) => [FINGERPRINTS[n], `hermit-fixture-${n}`]));
  });

  it('keys ssh-add loads are listed by us, parsed, with their comments', async () => {
    for (const name of NAMES) await sshAdd(agent!, name);
    const listed = await client.list();
    expect(sorted(listed.map((i) => i.fingerprint))).toEqual(sorted(NAMES.map((n) => FINGERPRINTS[n])));
    for (const name of NAMES) {
      const identity = listed.find((i) => i.fingerprint === FINGERPRINTS[name])!;
      expect(identity.key?.type).toBe(KEYS[name].type);
      expect(identity.keyType).toBe(KEYS[name].type);
      expect(identity.blob).toEqual(KEYS[name].publicKey.blob);
      expect(identity.comment).toBe(`hermit-fixture-${name}`);
    }
  });

  it('signs with every key type, and with RSA under each sign flag; signatures verify', async () => {
    for (const name of NAMES) await client.add(KEYS[name]);
    await sshAdd(agent!, 'rsa-3072');
    const cases: Array<[PrivateKey, 'rsa-sha2-256' | 'rsa-sha2-512' | 'ssh-rsa' | undefined, string]> = [
      ...NAMES.filter((n) => n !== 'rsa-2048').map((n) => [KEYS[n], undefined, KEYS[n].type] as [PrivateKey, undefined, string]),
      [KEYS['rsa-2048'], undefined, 'rsa-sha2-512'],
      [KEYS['rsa-2048'], 'rsa-sha2-512', 'rsa-sha2-512'],
      [KEYS['rsa-2048'], 'rsa-sha2-256', 'rsa-sha2-256'],
      [KEYS['rsa-2048'], 'ssh-rsa', 'ssh-rsa'],
    ];
    for (const [key, algorithm, expected] of cases) {
      const signature = await client.sign(key.publicKey, data, algorithm === undefined ? {} : { algorithm });
      expect(signature.algorithm).toBe(expected);
      // Checked again here, independently of the client's own check, with the pure provider.
      expect(verifySignature(pureCrypto, key.publicKey, expected, signature.blob, data)).toBe(true);
      expect(verifySignature(pureCrypto, key.publicKey, expected, signature.blob, new Uint8Array([1, ...data]))).toBe(false);
    }
    // A key that only ssh-add loaded, found through list().
    const rsa3072 = (await client.list()).find((i) => i.comment === 'hermit-fixture-rsa-3072')!;
    const s = await client.sign(rsa3072.key!, data, { algorithm: 'rsa-sha2-256' });
    expect(verifySignature(pureCrypto, rsa3072.key!, 'rsa-sha2-256', s.blob, data)).toBe(true);
  });

  it('serves concurrent calls one request at a time, each with its own answer', async () => {
    const [, , a, b, c, d] = await Promise.all([
      client.add(KEYS['ed25519']),
      client.add(KEYS['ecdsa-256']),
      client.list(),
      client.sign(KEYS['ed25519'].publicKey, data),
      client.sign(KEYS['ecdsa-256'].publicKey, data),
      client.list(),
    ]);
    expect(a.map((i) => i.fingerprint)).toEqual([FINGERPRINTS['ed25519'], FINGERPRINTS['ecdsa-256']]);
    expect(b.algorithm).toBe('ssh-ed25519');
    expect(c.algorithm).toBe('ecdsa-sha2-nistp256');
    expect(d).toEqual(a);
  });

  it('remove and removeAll are reflected by ssh-add -l', async () => {
    for (const name of NAMES) await client.add(KEYS[name]);
    await client.remove(KEYS['ecdsa-384'].publicKey);
    expect(sorted(await sshAddList(agent!))).toEqual(sorted(NAMES.filter((n) => n !== 'ecdsa-384').map((n) => FINGERPRINTS[n])));
    // By raw blob, as list() reports it.
    await client.remove((await client.list()).find((i) => i.fingerprint === FINGERPRINTS['rsa-2048'])!.blob);
    expect(await sshAddList(agent!)).not.toContain(FINGERPRINTS['rsa-2048']);
    await client.removeAll();
    expect(await sshAddList(agent!)).toEqual([]);
    expect(await client.list()).toEqual([]);
  });

  it('removing a key the agent does not hold is AGENT_FAILURE naming it', async () => {
    const err = await client.remove(KEYS['ed25519'].publicKey).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentError);
    expect((err as AgentError).code).toBe('AGENT_FAILURE');
    expect((err as AgentError).message).toContain(FINGERPRINTS['ed25519']);
  });

  it('a lifetime constraint is accepted and the agent forgets the key when it ends', async () => {
    // Long enough to be seen by `ssh-add -l` on a loaded CI machine, short enough to wait out.
    await client.add(KEYS['ed25519'], { lifetimeSeconds: 4 });
    await client.add(KEYS['ecdsa-256'], { lifetimeSeconds: 3600, comment: 'an hour' });
    expect(sorted(await sshAddList(agent!))).toEqual(sorted([FINGERPRINTS['ed25519'], FINGERPRINTS['ecdsa-256']]));
    const deadline = Date.now() + 20_000;
    let listed = await sshAddList(agent!);
    while (listed.includes(FINGERPRINTS['ed25519']) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      listed = await sshAddList(agent!);
    }
    expect(listed).toEqual([FINGERPRINTS['ecdsa-256']]);
    expect((await client.list()).map((i) => i.comment)).toEqual(['an hour']);
  });

  it('a confirm constraint is accepted', async () => {
    await client.add(KEYS['rsa-2048'], { confirm: true });
    expect(await sshAddList(agent!)).toEqual([FINGERPRINTS['rsa-2048']]);
  });

  it('signing with a key the agent does not hold is AGENT_FAILURE with a clear message', async () => {
    await client.add(KEYS['ed25519']);
    const err = await client.sign(KEYS['ecdsa-521'].publicKey, data).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentError);
    expect((err as AgentError).code).toBe('AGENT_FAILURE');
    expect((err as AgentError).message).toContain(`the agent refused to sign with ecdsa-sha2-nistp521 key ${FINGERPRINTS['ecdsa-521']}`);
    // The connection is still good.
    expect((await client.sign(KEYS['ed25519'].publicKey, data)).algorithm).toBe('ssh-ed25519');
  });

  it('lists a certificate ssh-add loaded as a raw blob, and signs as it', async () => {
    const dir = agent!.dir;
    const ca = join(dir, 'ca');
    expect((await exec(SSH_KEYGEN!, ['-q', '-t', 'ed25519', '-N', '', '-C', 'ca', '-f', ca])).code).toBe(0);
    const user = join(dir, 'id');
    await copyFile(fixturePath('ed25519'), user);
    await chmod(user, 0o600);
    await copyFile(fixturePath('ed25519.pub'), `${user}.pub`);
    const signed = await exec(SSH_KEYGEN!, ['-q', '-s', ca, '-I', 'hermit-test', '-n', 'alice', `${user}.pub`]);
    expect(signed.code, signed.stderr).toBe(0);
    const added = await exec(SSH_ADD!, [user], { ...process.env, SSH_AUTH_SOCK: agent!.socket });
    expect(added.code, added.stderr).toBe(0);
    const listed = await client.list();
    const cert = listed.find((i) => i.keyType === 'ssh-ed25519-cert-v01@openssh.com');
    expect(cert).toBeDefined();
    expect(cert!.key).toBeNull();
    const plain = listed.find((i) => i.keyType === 'ssh-ed25519');
    expect(plain?.fingerprint).toBe(FINGERPRINTS['ed25519']);
    // Without the plain key the agent signs only when the request names the certificate.
    await client.remove(KEYS['ed25519'].publicKey);
    const plainRefused = await client.sign(KEYS['ed25519'].publicKey, data).catch((e: unknown) => e);
    expect((plainRefused as AgentError).code).toBe('AGENT_FAILURE');
    const signature = await client.sign(KEYS['ed25519'].publicKey, data, { certificate: cert!.blob });
    expect(verifySignature(pureCrypto, KEYS['ed25519'].publicKey, 'ssh-ed25519', signature.blob, data)).toBe(true);
    // The raw blob is enough to remove it.
    await client.remove(cert!.blob);
    expect(await client.list()).toEqual([]);
  });

  it('asks for the agent extensions with the query extension', async () => {
    const names = await client.extensions();
    // OpenSSH before 10.3 does not know "query" (null); later versions list session-bind.
    if (names !== null) expect(names).toContain('session-bind@openssh.com');
    expect(await client.list()).toEqual([]);
  });

  it('fails pending requests with AGENT_UNAVAILABLE when the agent goes away, then reconnects', async () => {
    await client.add(KEYS['ed25519']);
    await agent!.kill();
    const err = await client.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentError);
    expect((err as AgentError).code).toBe('AGENT_UNAVAILABLE');
    // A new agent on the same socket: the same SshAgent connects to it on the next request.
    agent = await startAgent(agent!.dir);
    expect(await client.list()).toEqual([]);
    await client.add(KEYS['ecdsa-256']);
    expect(await sshAddList(agent)).toEqual([FINGERPRINTS['ecdsa-256']]);
  });
});

describe('SshAgent without an agent', () => {
  it('says how to start one when SSH_AUTH_SOCK is unset', () => {
    const saved = process.env['SSH_AUTH_SOCK'];
    delete process.env['SSH_AUTH_SOCK'];
    try {
      expect(() => new SshAgent()).toThrow('SSH_AUTH_SOCK is not set: start an agent with `eval $(ssh-agent)` or pass a socket path');
      try {
        new SshAgent();
      } catch (err) {
        expect((err as AgentError).code).toBe('AGENT_UNAVAILABLE');
      }
    } finally {
      if (saved !== undefined) process.env['SSH_AUTH_SOCK'] = saved;
    }
  });

  it('uses SSH_AUTH_SOCK when no path is given', () => {
    const saved = process.env['SSH_AUTH_SOCK'];
    process.env['SSH_AUTH_SOCK'] = '/run/some/agent.sock';
    try {
      expect(new SshAgent().socketPath).toBe('/run/some/agent.sock');
    } finally {
      if (saved === undefined) delete process.env['SSH_AUTH_SOCK'];
      else process.env['SSH_AUTH_SOCK'] = saved;
    }
  });

  it('a socket path that does not exist is AGENT_UNAVAILABLE naming the path', async () => {
    const agent = new SshAgent({ socketPath: '/nonexistent/hermit/agent.sock' });
    const err = await agent.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentError);
    expect((err as AgentError).code).toBe('AGENT_UNAVAILABLE');
    expect((err as AgentError).message).toMatch(/cannot connect to the agent at \/nonexistent\/hermit\/agent\.sock: ENOENT/);
    await agent.close();
  });

  it('a closed SshAgent refuses further requests', async () => {
    const agent = new SshAgent({ socketPath: '/nonexistent/agent.sock' });
    await agent.close();
    await expect(agent.list()).rejects.toMatchObject({ code: 'AGENT_UNAVAILABLE' });
  });

  it('local misuse rejects without sending anything', async () => {
    const agent = new SshAgent({ socketPath: '/nonexistent/agent.sock' });
    await expect(agent.add(KEYS['ed25519'], { lifetimeSeconds: 0 })).rejects.toThrow(/lifetimeSeconds/);
    await expect(agent.sign(KEYS['ed25519'].publicKey, data, { algorithm: 'rsa-sha2-256' })).rejects.toThrow(/cannot sign/);
    await agent.close();
  });
});

describe('SshAgent with a misbehaving agent', () => {
  let dir: string;
  let server: Server;
  let script: (socket: Socket, request: Buffer) => void;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hermit-bad-agent-'));
    server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('data', (request) => script(socket, request));
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(join(dir, 'bad.sock'), resolve));
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  const cases: Array<[string, (socket: Socket) => void, RegExp]> = [
    ['a truncated reply', (s) => s.end(frameAgentMessage(encodeIdentitiesAnswer([{ blob: KEYS['ed25519'].publicKey.blob, comment: 'x' }])).subarray(0, 30)), /in the middle of a reply/],
    ['a reply of the wrong type', (s) => s.write(frameAgentMessage(encodeSuccess())), /answered a request for its keys with SSH_AGENT_SUCCESS/],
    ['an oversized length', (s) => s.write(Buffer.from([0x01, 0, 0, 0])), /16777216-byte message; the limit is 262144/],
    ['an unknown message type', (s) => s.write(frameAgentMessage(Uint8Array.of(200))), /message type 200/],
    ['a malformed identities answer', (s) => s.write(frameAgentMessage(Uint8Array.of(12, 0, 0, 0, 3))), /3 keys but sent only 0 bytes/],
  ];

  it.each(cases)('%s is AGENT_PROTOCOL, not a crash', async (_what, reply, pattern) => {
    script = (socket) => reply(socket);
    const agent = new SshAgent({ socketPath: join(dir, 'bad.sock') });
    const err = await agent.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentError);
    expect((err as AgentError).code).toBe('AGENT_PROTOCOL');
    expect((err as AgentError).message).toMatch(pattern);
    await agent.close();
  });

  it('a signature that does not verify is AGENT_PROTOCOL; a later request reconnects', async () => {
    script = (socket) => socket.write(frameAgentMessage(encodeSignResponse(sign(pureCrypto, KEYS['ed25519'], 'ssh-ed25519', new Uint8Array([9])))));
    const agent = new SshAgent({ socketPath: join(dir, 'bad.sock') });
    const err = await agent.sign(KEYS['ed25519'].publicKey, data).catch((e: unknown) => e);
    expect((err as AgentError).code).toBe('AGENT_PROTOCOL');
    expect((err as AgentError).message).toMatch(/does not verify/);
    script = (socket) => socket.write(frameAgentMessage(encodeIdentitiesAnswer([])));
    expect(await agent.list()).toEqual([]);
    await agent.close();
  });
});
