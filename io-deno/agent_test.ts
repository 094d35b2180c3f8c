/**
 * The Deno SshAgent against a real OpenSSH `ssh-agent` started by the test with `Deno.Command`,
 * cross-checked with `ssh-add -l`: add every key type, list what ssh-add loaded, sign (RSA under
 * both SHA-2 flags), refusals, remove and remove-all.
 */
import assert from 'node:assert/strict';
import { parseOpenSshPrivateKey, type PrivateKey, pureCrypto, verifySignature } from '../core/index.ts';
import { AgentError, SshAgent } from './agent.ts';

const NAMES = ['ed25519', 'ecdsa-256', 'ecdsa-384', 'ecdsa-521', 'rsa-2048'] as const;
type Name = (typeof NAMES)[number];
const fixture = (name: string) => new URL(`../fixtures/keys/${name}`, import.meta.url);
const KEYS = Object.fromEntries(NAMES.map((n) => [n, parseOpenSshPrivateKey(Deno.readTextFileSync(fixture(n)))[0]!])) as Record<Name, PrivateKey>;
const FINGERPRINTS = Object.fromEntries(NAMES.map((n) => [n, Deno.readTextFileSync(fixture(`${n}.fp-sha256`)).split(' ')[1]!])) as Record<Name, string>;
const data = new TextEncoder().encode('what a server would ask us to sign');

interface RunningAgent {
  readonly dir: string;
  readonly socket: string;
  stop(): Promise<void>;
}

async function startAgent(): Promise<RunningAgent> {
  const dir = await Deno.makeTempDir({ prefix: 'hermit-deno-agent-' });
  const socket = `${dir}/agent.sock`;
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command('ssh-agent', { args: ['-D', '-a', socket], stdin: 'null', stdout: 'piped', stderr: 'null' }).spawn();
  } catch (err) {
    throw new Error(`cannot run ssh-agent (${(err as Error).message}); install it with: apt-get install -y openssh-client`);
  }
  // In -D mode ssh-agent prints its SSH_AUTH_SOCK line once the socket is listening.
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let output = '';
  const deadline = setTimeout(() => child.kill('SIGKILL'), 10_000);
  while (!output.includes('SSH_AUTH_SOCK=')) {
    const { value, done } = await reader.read();
    if (done) {
      clearTimeout(deadline);
      await child.status;
      throw new Error(`ssh-agent exited before it was ready: ${output}`);
    }
    output += value;
  }
  clearTimeout(deadline);
  await reader.cancel();
  return {
    dir,
    socket,
    stop: async () => {
      try {
        child.kill('SIGTERM');
      } catch {
        // Already gone.
      }
      await child.status;
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function sshAdd(agent: RunningAgent, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command('ssh-add', { args: [...args], env: { SSH_AUTH_SOCK: agent.socket }, stdin: 'null' }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

async function sshAddList(agent: RunningAgent): Promise<string[]> {
  const r = await sshAdd(agent, ['-l']);
  if (r.code === 1 && /no identities/.test(r.stdout)) return [];
  assert.equal(r.code, 0, `ssh-add -l failed: ${r.stdout}${r.stderr}`);
  return r.stdout
    .trim()
    .split('\n')
    .map((line) => line.split(' ')[1]!);
}

async function withAgent(fn: (agent: RunningAgent, client: SshAgent) => Promise<void>): Promise<void> {
  const agent = await startAgent();
  const client = new SshAgent({ socketPath: agent.socket });
  try {
    await fn(agent, client);
  } finally {
    await client.close();
    await agent.stop();
  }
}

const sorted = (v: readonly string[]) => [...v].sort();

Deno.test('agent: keys we add are what ssh-add -l lists, and sign with every type', async () => {
  await withAgent(async (agent, client) => {
    assert.deepEqual(await client.list(), []);
    for (const name of NAMES) await client.add(KEYS[name]);
    assert.deepEqual(sorted(await sshAddList(agent)), sorted(NAMES.map((n) => FINGERPRINTS[n])));
    const listed = await client.list();
    assert.deepEqual(
      listed.map((i) => [i.fingerprint, i.comment, i.key?.type]),
      NAMES.map((n) => [FINGERPRINTS[n], `hermit-fixture-${n}`, KEYS[n].type]),
    );

    for (const name of NAMES) {
      const key = KEYS[name];
      const algorithms = key.type === 'ssh-rsa' ? (['rsa-sha2-256', 'rsa-sha2-512'] as const) : [undefined];
      for (const algorithm of algorithms) {
        const signature = await client.sign(key.publicKey, data, algorithm ? { algorithm } : {});
        assert.equal(signature.algorithm, algorithm ?? key.type);
        assert.ok(verifySignature(pureCrypto, key.publicKey, signature.algorithm, signature.blob, data), `${name} ${signature.algorithm}`);
      }
    }
  });
});

Deno.test('agent: keys ssh-add loaded are listed; refusals, remove and remove-all', async () => {
  await withAgent(async (agent, client) => {
    for (const name of ['ed25519', 'rsa-2048'] as const) {
      const copy = `${agent.dir}/${name}`;
      await Deno.copyFile(fixture(name), copy);
      await Deno.chmod(copy, 0o600);
      const r = await sshAdd(agent, [copy]);
      assert.equal(r.code, 0, r.stderr);
    }
    const listed = await client.list();
    assert.deepEqual(sorted(listed.map((i) => i.fingerprint)), sorted([FINGERPRINTS['ed25519'], FINGERPRINTS['rsa-2048']]));
    const rsa = listed.find((i) => i.keyType === 'ssh-rsa')!;
    assert.deepEqual(rsa.blob, KEYS['rsa-2048'].publicKey.blob);
    const s = await client.sign(rsa.key!, data, { algorithm: 'rsa-sha2-512' });
    assert.ok(verifySignature(pureCrypto, rsa.key!, 'rsa-sha2-512', s.blob, data));

    const refused = await client.sign(KEYS['ecdsa-384'].publicKey, data).catch((e: unknown) => e);
    assert.ok(refused instanceof AgentError);
    assert.equal(refused.code, 'AGENT_FAILURE');
    assert.match(refused.message, new RegExp(`the agent refused to sign with ecdsa-sha2-nistp384 key ${FINGERPRINTS['ecdsa-384'].replace(/[+/]/g, '\\$&')}`));

    await client.add(KEYS['ecdsa-521'], { lifetimeSeconds: 600 });
    await client.remove(KEYS['ed25519'].publicKey);
    assert.deepEqual(sorted(await sshAddList(agent)), sorted([FINGERPRINTS['rsa-2048'], FINGERPRINTS['ecdsa-521']]));
    await client.removeAll();
    assert.deepEqual(await sshAddList(agent), []);
    assert.deepEqual(await client.list(), []);
  });
});

Deno.test('agent: concurrent calls are answered in order over one connection', async () => {
  await withAgent(async (_agent, client) => {
    const [, list, signature] = await Promise.all([client.add(KEYS['ecdsa-256']), client.list(), client.sign(KEYS['ecdsa-256'].publicKey, data)]);
    assert.deepEqual(list.map((i) => i.fingerprint), [FINGERPRINTS['ecdsa-256']]);
    assert.equal(signature.algorithm, 'ecdsa-sha2-nistp256');
  });
});

Deno.test('agent: no SSH_AUTH_SOCK, or no socket, is AGENT_UNAVAILABLE with a clear message', async () => {
  const saved = Deno.env.get('SSH_AUTH_SOCK');
  Deno.env.delete('SSH_AUTH_SOCK');
  try {
    assert.throws(() => new SshAgent(), {
      name: 'AgentError',
      code: 'AGENT_UNAVAILABLE',
      message: 'SSH_AUTH_SOCK is not set: start an agent with `eval $(ssh-agent)` or pass a socket path',
    });
  } finally {
    if (saved !== undefined) Deno.env.set('SSH_AUTH_SOCK', saved);
  }
  const missing = new SshAgent({ socketPath: '/nonexistent/hermit/agent.sock' });
  const err = await missing.list().catch((e: unknown) => e);
  assert.ok(err instanceof AgentError);
  assert.equal(err.code, 'AGENT_UNAVAILABLE');
  assert.match(err.message, /cannot connect to the agent at \/nonexistent\/hermit\/agent\.sock/);
  await missing.close();
});

Deno.test('agent: a malformed reply is AGENT_PROTOCOL, and the next request reconnects', async () => {
  const dir = await Deno.makeTempDir({ prefix: 'hermit-deno-bad-agent-' });
  const path = `${dir}/bad.sock`;
  const listener = Deno.listen({ transport: 'unix', path });
  // First connection: a reply announcing 16 MiB. Second: an empty identities answer.
  const replies = [Uint8Array.of(0x01, 0, 0, 0), Uint8Array.of(0, 0, 0, 5, 12, 0, 0, 0, 0)];
  const served = (async () => {
    for (const reply of replies) {
      const conn = await listener.accept();
      const request = new Uint8Array(64);
      await conn.read(request);
      await conn.write(reply);
      // Wait for the client to hang up (it must, after a protocol error) or for its next request.
      await conn.read(request).catch(() => null);
      conn.close();
    }
  })();
  const client = new SshAgent({ socketPath: path });
  try {
    const err = await client.list().catch((e: unknown) => e);
    assert.ok(err instanceof AgentError);
    assert.equal(err.code, 'AGENT_PROTOCOL');
    assert.match(err.message, /16777216-byte message; the limit is 262144 bytes/);
    assert.deepEqual(await client.list(), []);
  } finally {
    await client.close();
    await served;
    listener.close();
    await Deno.remove(dir, { recursive: true });
  }
});
