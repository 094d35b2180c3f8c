/**
 * One client test suite, written once and run under Node (client-suite.test.ts, vitest) and under
 * Deno (io-deno/client_suite_test.ts), against a private OpenSSH sshd and against `hermit serve`
 * (DESIGN.md section 3: the API is the same in both runtimes, so is its proof).
 *
 * Each runtime passes its `connect`, `HostKeyPolicy` and the few stream operations that differ
 * (Node streams vs Web streams). Everything else — the servers, keys, agent, cases and their
 * assertions — is here. Only node:* modules Deno also provides are used.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { cliPath, ensureBuilt, makeHostKeys, nodeExecutable, openSshBinaries, run, startHermitServe, startSshd, tempDir, type HermitServer, type HostKeyFiles, type Sshd } from './openssh-peers.ts';

/** What differs between the runtimes. */
export interface SuiteRuntime {
  readonly name: 'node' | 'deno';
  // deno-lint-ignore no-explicit-any
  connect(options: any): Promise<any>;
  // deno-lint-ignore no-explicit-any
  readonly HostKeyPolicy: { load(options: any): Promise<unknown> };
  /** Algorithms to use (Deno's default provider is pure JS: chacha20 is its fast cipher). */
  readonly algorithms?: Record<string, string>;
  readAll(stream: unknown): Promise<Uint8Array>;
  /** Read until the text seen so far contains `text` (or the stream ends); returns it. */
  readUntil(stream: unknown, text: string): Promise<string>;
  write(stream: unknown, bytes: Uint8Array): Promise<void>;
  end(stream: unknown): Promise<void>;
  /** Pipe a process's output into another's input (Node: pipe; Deno: pipeTo), ending it at the end. */
  pipe(from: unknown, to: unknown): void;
}

export interface SuiteCase {
  readonly name: string;
  readonly run: () => Promise<void>;
}

const TEST_USER = 'hermit-test';
const TEST_PASSWORD = 'hermit-interop-pw-7';
const PASSPHRASE = 'suite passphrase';
const MiB = 1024 * 1024;

interface Target {
  readonly name: string;
  readonly port: number;
  readonly username: string;
  readonly password: string;
  /** The server's host key fingerprints (SHA256:…) it may present. */
  readonly fingerprints: readonly string[];
  readonly kbdInteractive: boolean;
}

export function clientSuite(rt: SuiteRuntime): { setup(): Promise<void>; teardown(): Promise<void>; cases: SuiteCase[] } {
  let dir = '';
  let keys: HostKeyFiles;
  let sshd: Sshd | null = null;
  let hermit: HermitServer | null = null;
  let agent: ChildProcess | null = null;
  let agentSocket = '';
  const targets: Target[] = [];

  const file = (name: string): string => join(dir, name);

  async function keygen(args: readonly string[]): Promise<void> {
    const r = await run(openSshBinaries().sshKeygen, ['-q', ...args]);
    if (r.code !== 0) throw new Error(`ssh-keygen ${args.join(' ')} failed: ${r.stderr}`);
  }

  async function setup(): Promise<void> {
    dir = await tempDir(`client-suite-${rt.name}`);
    await chmod(dir, 0o755);
    await ensureBuilt();
    keys = await makeHostKeys();
    const k = (name: string, passphrase = ''): Promise<void> => keygen(['-t', 'ed25519', '-N', passphrase, '-C', `suite-${name}`, '-f', file(name)]);
    await Promise.all([k('plain'), k('encrypted', PASSPHRASE), k('certified'), k('user_ca'), k('in_agent'), k('stranger')]);
    await keygen(['-s', file('user_ca'), '-I', 'suite user', '-n', `${TEST_USER},${userInfo().username}`, '-V', '-5m:+1h', file('certified.pub')]);
    // The certified key's own public key is not authorized: only the CA vouches for it.
    const authorized = (await Promise.all(['plain', 'encrypted', 'in_agent'].map((n) => readFile(file(`${n}.pub`), 'utf8')))).join('');
    await writeFile(file('authorized_keys'), authorized);
    await chmod(file('authorized_keys'), 0o644);

    // An agent holding one key no file offers.
    agentSocket = file('agent.sock');
    agent = spawn(openSshBinaries().ssh.replace(/ssh$/, 'ssh-agent'), ['-D', '-a', agentSocket], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      if ((await run('test', ['-S', agentSocket])).code === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const added = await run(openSshBinaries().ssh.replace(/ssh$/, 'ssh-add'), [file('in_agent')], { env: { ...process.env, SSH_AUTH_SOCK: agentSocket } });
    if (added.code !== 0) throw new Error(`ssh-add failed: ${added.stderr}`);

    const hostFingerprints = Object.values(keys.fingerprints);
    sshd = await startSshd({
      keys,
      usePam: true,
      extra: ['Match All', 'KbdInteractiveAuthentication yes', `AuthorizedKeysFile ${file('authorized_keys')}`, `TrustedUserCAKeys ${file('user_ca.pub')}`],
    });
    targets.push({ name: 'sshd', port: sshd.port, username: TEST_USER, password: TEST_PASSWORD, fingerprints: hostFingerprints, kbdInteractive: true });

    const me = userInfo().username;
    const hashed = await run(nodeExecutable, [cliPath, 'hash-password', me], { input: `${TEST_PASSWORD}\n` });
    if (hashed.code !== 0) throw new Error(`hermit hash-password failed: ${hashed.stderr}`);
    await writeFile(file('passwords'), hashed.stdout);
    await chmod(file('passwords'), 0o600);
    hermit = await startHermitServe([
      '--host-key', keys.paths.ed25519,
      '--authorized-keys', file('authorized_keys'),
      '--trusted-user-ca', file('user_ca.pub'),
      '--password-file', file('passwords'),
    ]);
    targets.push({ name: 'hermit serve', port: hermit.port, username: me, password: TEST_PASSWORD, fingerprints: [keys.fingerprints.ed25519], kbdInteractive: true });
  }

  async function teardown(): Promise<void> {
    await Promise.all([sshd?.stop(), hermit?.stop()]);
    agent?.kill('SIGTERM');
    if (dir) await rm(dir, { recursive: true, force: true });
  }

  const base = (t: Target, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    host: '127.0.0.1',
    port: t.port,
    username: t.username,
    hostKey: (d: { fingerprint: string }) => t.fingerprints.includes(d.fingerprint),
    ...(rt.algorithms ? { algorithms: rt.algorithms } : {}),
    ...extra,
  });

  const withKey = (t: Target, extra: Record<string, unknown> = {}) => base(t, { privateKeys: [file('plain')], ...extra });

  const cases: SuiteCase[] = [];
  const each = (name: string, fn: (t: Target) => Promise<void>): void => {
    for (const label of ['sshd', 'hermit serve']) {
      cases.push({
        name: `${name} (${label})`,
        run: () => fn(targets.find((t) => t.name === label) ?? assert.fail(`target ${label} did not start`)),
      });
    }
  };

  each('run: stdout, stderr and the exit status; check throws a ProcessError', async (t) => {
    const conn = await rt.connect(withKey(t));
    try {
      const r = await conn.run('echo out; echo err >&2; exit 7');
      assert.deepEqual({ ...r }, { stdout: 'out\n', stderr: 'err\n', exitStatus: 7, exitSignal: null });
      const error = await conn.run('exit 3', { check: true }).catch((e: unknown) => e);
      assert.equal((error as { code?: string }).code, 'PROCESS_FAILED');
      assert.equal((error as { exitStatus?: number }).exitStatus, 3);
      const bytes = await conn.run('printf "\\001\\002"', { encoding: null });
      assert.deepEqual([...bytes.stdout], [1, 2]);
    } finally {
      await conn.close();
    }
  });

  each('stdin: 64 MiB streamed into sha256sum arrive whole', async (t) => {
    const conn = await rt.connect(withKey(t));
    try {
      const proc = conn.spawn('sha256sum');
      const output = rt.readAll(proc.stdout);
      const hash = createHash('sha256');
      const block = randomBytes(MiB);
      for (let i = 0; i < 64; i++) {
        block[0] = i;
        hash.update(block);
        await rt.write(proc.stdin, new Uint8Array(block));
      }
      await rt.end(proc.stdin);
      const printed = new TextDecoder().decode(await output);
      assert.equal(printed.split(' ')[0], hash.digest('hex'));
      assert.equal((await proc.exit).exitStatus, 0);
    } finally {
      await conn.close();
    }
  });

  each('processes on two connections piped into each other: 16 MiB arrive whole', async (t) => {
    const [a, b] = await Promise.all([rt.connect(withKey(t)), rt.connect(withKey(t))]);
    try {
      const source = a.spawn('cat');
      const sink = b.spawn('sha256sum');
      rt.pipe(source.stdout, sink.stdin);
      const printed = rt.readAll(sink.stdout);
      const hash = createHash('sha256');
      for (let i = 0; i < 16; i++) {
        const block = randomBytes(MiB);
        hash.update(block);
        await rt.write(source.stdin, new Uint8Array(block));
      }
      await rt.end(source.stdin);
      assert.equal(new TextDecoder().decode(await printed).split(' ')[0], hash.digest('hex'));
      assert.equal((await sink.exit).exitStatus, 0);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  each('pty: the size asked for, then a resize the shell sees', async (t) => {
    const conn = await rt.connect(withKey(t));
    try {
      const proc = conn.spawn('/bin/sh', { pty: { term: 'vt100', cols: 80, rows: 24 } });
      await proc.started;
      proc.resize(123, 45);
      await rt.write(proc.stdin, new TextEncoder().encode('stty size; echo "T=$TERM"; exit 0\n'));
      const seen = await rt.readUntil(proc.stdout, 'T=vt100');
      assert.match(seen, /45 123/);
      assert.equal((await proc.exit).exitStatus, 0);
    } finally {
      await conn.close();
    }
  });

  each('signal: TERM ends the command with exit-signal TERM', async (t) => {
    const conn = await rt.connect(withKey(t));
    try {
      // Signal once the command runs: sshd's freshly forked child may not have its handlers reset yet.
      const proc = conn.spawn('echo ready; exec sleep 30');
      assert.match(await rt.readUntil(proc.stdout, 'ready'), /ready/);
      proc.signal('TERM');
      const exit = await proc.exit;
      assert.equal(exit.exitSignal?.signal, 'TERM');
      assert.equal(exit.exitStatus, null);
    } finally {
      await conn.close();
    }
  });

  each('agent: a key only the agent holds logs in', async (t) => {
    const conn = await rt.connect(base(t, { agent: agentSocket }));
    try {
      assert.equal((await conn.run('echo agent')).stdout, 'agent\n');
    } finally {
      await conn.close();
    }
  });

  each('password', async (t) => {
    const conn = await rt.connect(base(t, { password: t.password }));
    try {
      assert.equal((await conn.run('echo pw')).stdout, 'pw\n');
    } finally {
      await conn.close();
    }
    await assert.rejects(rt.connect(base(t, { password: 'not the password' })), { code: 'AUTH_FAILED' });
  });

  each('keyboard-interactive answered by the handler', async (t) => {
    const asked: string[] = [];
    const conn = await rt.connect(
      base(t, {
        keyboardInteractive: (c: { prompts: Array<{ prompt: string }> }) => {
          asked.push(...c.prompts.map((p) => p.prompt));
          return c.prompts.map(() => t.password);
        },
      }),
    );
    try {
      assert.ok(asked.length >= 1 && /password/i.test(asked[0]!), `prompts: ${JSON.stringify(asked)}`);
      assert.equal((await conn.run('echo kbd')).stdout, 'kbd\n');
    } finally {
      await conn.close();
    }
  });

  each('an encrypted key is opened with the passphrase callback', async (t) => {
    const asked: string[] = [];
    const conn = await rt.connect(
      base(t, {
        privateKeys: [file('encrypted')],
        passphrase: (path: string) => (asked.push(path), PASSPHRASE),
      }),
    );
    try {
      assert.deepEqual(asked, [file('encrypted')]);
      assert.equal((await conn.run('echo enc')).stdout, 'enc\n');
    } finally {
      await conn.close();
    }
  });

  each('a user certificate beside the key (FILE-cert.pub) is offered and accepted', async (t) => {
    const conn = await rt.connect(base(t, { privateKeys: [file('certified')] }));
    try {
      assert.equal((await conn.run('echo cert')).stdout, 'cert\n');
    } finally {
      await conn.close();
    }
    // Without the certificate the bare key is not authorized.
    await writeFile(file('certified_copy'), await readFile(file('certified')));
    await chmod(file('certified_copy'), 0o600);
    await assert.rejects(rt.connect(base(t, { privateKeys: [file('certified_copy')] })), { code: 'AUTH_FAILED' });
  });

  each('a host key mismatch is refused with the explanation (fingerprint and file:line)', async (t) => {
    const knownHosts = file(`known_hosts_${t.port}`);
    const stranger = (await readFile(file('stranger.pub'), 'utf8')).split(' ').slice(0, 2).join(' ');
    await writeFile(knownHosts, `# a comment line\n[127.0.0.1]:${t.port} ${stranger}\n`);
    const policy = await rt.HostKeyPolicy.load({ host: '127.0.0.1', port: t.port, userKnownHostsFiles: [knownHosts], globalKnownHostsFiles: [], strictHostKeyChecking: 'yes' });
    const error = (await rt.connect({ ...withKey(t), hostKey: policy }).catch((e: unknown) => e)) as Error & { code?: string };
    assert.equal(error.name, 'HostKeyVerificationError');
    assert.match(error.message, new RegExp(`${knownHosts.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:2`));
    assert.match(error.message, /SHA256:/);
    // The same policy with the right key accepts, and ordering picks the known key's algorithm.
    const right = (await readFile(keys.paths.ed25519 + '.pub', 'utf8')).split(' ').slice(0, 2).join(' ');
    await writeFile(knownHosts, `[127.0.0.1]:${t.port} ${right}\n`);
    const good = await rt.HostKeyPolicy.load({ host: '127.0.0.1', port: t.port, userKnownHostsFiles: [knownHosts], globalKnownHostsFiles: [], strictHostKeyChecking: 'yes' });
    const conn = await rt.connect({ ...withKey(t), hostKey: good });
    try {
      assert.equal(conn.algorithms.hostKey, 'ssh-ed25519');
    } finally {
      await conn.close();
    }
  });

  cases.push({
    name: 'UpdateHostKeys: the host keys sshd proves after login are added to known_hosts (sshd)',
    run: async () => {
      const t = targets.find((x) => x.name === 'sshd')!;
      const knownHosts = file(`known_hosts_update_${rt.name}`);
      const line = (name: keyof HostKeyFiles['paths']) => readFile(`${keys.paths[name]}.pub`, 'utf8').then((text) => `[127.0.0.1]:${t.port} ${text.split(' ').slice(0, 2).join(' ')}`);
      await writeFile(knownHosts, `${await line('ed25519')}\n`);
      const policy = await rt.HostKeyPolicy.load({ host: '127.0.0.1', port: t.port, userKnownHostsFiles: [knownHosts], globalKnownHostsFiles: [], strictHostKeyChecking: 'yes', stderr: { write: () => true } });
      const conn = await rt.connect({ ...withKey(t), hostKey: policy });
      await conn.run('true');
      await conn.close();
      const lines = (await readFile(knownHosts, 'utf8')).trim().split('\n');
      // sshd holds ed25519, three ECDSA and an RSA key: the four we did not know were proved and added.
      assert.equal(lines.length, 5, lines.join('\n'));
      for (const name of ['ecdsa256', 'ecdsa384', 'ecdsa521', 'rsa'] as const) assert.ok(lines.includes(await line(name)), `${name} missing from\n${lines.join('\n')}`);
      // Next time every key is known: nothing more is added.
      const again = await rt.HostKeyPolicy.load({ host: '127.0.0.1', port: t.port, userKnownHostsFiles: [knownHosts], globalKnownHostsFiles: [], strictHostKeyChecking: 'yes', stderr: { write: () => true } });
      const second = await rt.connect({ ...withKey(t), hostKey: again });
      await second.run('true');
      await second.close();
      assert.equal((await readFile(knownHosts, 'utf8')).trim().split('\n').length, 5);
    },
  });

  return { setup, teardown, cases };
}
