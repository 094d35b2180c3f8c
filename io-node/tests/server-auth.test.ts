/**
 * `hermit serve`'s login policy (io-node/server-host/server-auth.ts) answering a real server engine: a client
 * engine and a server engine joined in memory (core/testing/pair.ts), the policy reading real files
 * in a temporary directory. Every test checks the protocol outcome (success, failure, the methods
 * announced) and the log line an operator would read.
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClientAuthMethod,
  fingerprint,
  hashPassword,
  parseCertificateLine,
  type PrivateKey,
  seededRandom,
  type SshEvent,
} from '../../core/index.ts';
import { Pair } from '../../core/testing/index.ts';
import { readPrivateKeyFile } from '../trust/keys.ts';
import { AuthConfigError, ServerAuthPolicy, parseAuthMethods, type ConnectionAuth, type ServerAuthConfig } from '../server-host/server-auth.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'keys');
/** 2030-01-01T00:00:00Z: inside the fixture certificates' validity (2024-2099). */
const NOW_2030 = 1_893_456_000;

let dir: string;
let hostKey: PrivateKey;
const keys: Record<string, PrivateKey> = {};
const pubLines: Record<string, string> = {};
/** Certificates from fixtures/keys/certs: principals alice,bob unless noted (see fixtures/README.md). */
const certs: Record<string, Uint8Array> = {};
const caLines: Record<string, string> = {};
let passwordFile: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hermit-server-auth-'));
  for (const name of ['ed25519', 'ecdsa-256', 'ecdsa-384', 'ecdsa-521', 'rsa-2048']) {
    keys[name] = (await readPrivateKeyFile(join(FIXTURES, name)))[0]!;
    pubLines[name] = (await readFile(join(FIXTURES, `${name}.pub`), 'utf8')).trim();
  }
  hostKey = keys['ed25519']!;
  for (const name of ['user-ed25519', 'user-ecdsa-256', 'user-expired', 'user-options', 'user-no-principals']) {
    certs[name] = parseCertificateLine(await readFile(join(FIXTURES, 'certs', `${name}-cert.pub`), 'utf8')).certificate.blob;
  }
  for (const name of ['user-ca-ed25519', 'user-ca-ecdsa-256', 'user-ca-rsa-3072']) {
    caLines[name] = (await readFile(join(FIXTURES, 'certs', `${name}.pub`), 'utf8')).trim();
  }
  // 1000 rounds: the cheapest SHA-crypt allows, so the suite stays fast; the cost is the hash's business.
  const random = seededRandom('server-auth-7');
  passwordFile = join(dir, 'passwords');
  await writeFile(passwordFile, '', { mode: 0o600 });
  await writeFile(passwordFile, [`alice:${hashPassword('correct horse', random, { rounds: 1000 })}`, `bob:${hashPassword('battery staple', random, { scheme: 'scrypt', scrypt: { ln: 4, r: 8, p: 1 } })}`, ''].join('\n'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let fileCounter = 0;
/** A private file (password files readable by others are reported, as they should be). */
async function file(text: string): Promise<string> {
  const p = join(dir, `f${++fileCounter}`);
  await writeFile(p, text, { mode: 0o600 });
  return p;
}

interface Setup {
  readonly config?: Partial<ServerAuthConfig>;
  readonly authorizedKeys?: string;
  readonly address?: string;
}

async function policyFor(setup: Setup, lines: string[]): Promise<ServerAuthPolicy> {
  return ServerAuthPolicy.create({
    currentUser: 'alice',
    allowUsers: ['bob', 'carol'],
    authorizedKeysFile: await file(setup.authorizedKeys ?? ''),
    authorizedKeysExplicit: true,
    passwordFile,
    wallClock: () => NOW_2030,
    log: (l) => lines.push(l),
    warn: () => {},
    ...setup.config,
  });
}

interface Login {
  readonly username: string;
  readonly methods?: readonly ClientAuthMethod[];
  readonly key?: PrivateKey;
  readonly certificate?: Uint8Array;
  /** Several keys offered in order (for chains of two publickey steps). */
  readonly keys?: readonly PrivateKey[];
  readonly password?: string;
  readonly passwordPrompts?: number;
}

interface Outcome {
  readonly success: boolean;
  readonly serverSuccess: Extract<SshEvent, { type: 'authSuccess' }> | undefined;
  readonly failures: Array<Extract<SshEvent, { type: 'authFailure' }>>;
  readonly closed: Extract<SshEvent, { type: 'closed' }> | undefined;
}

/** Run one login through a client engine and a server engine whose decisions the policy answers (asynchronously, as the pump does). */
async function login(conn: ConnectionAuth, l: Login): Promise<Outcome> {
  const privateKeys = l.keys ?? (l.key ? [l.key] : []);
  const pair = new Pair({
    server: { hostKeys: [hostKey] },
    client: {
      username: l.username,
      clientAuth: {
        methods: l.methods ?? ['publickey', 'keyboard-interactive', 'password'],
        publicKeys: privateKeys.map((k) => ({ key: k.publicKey, ...(l.certificate ? { certificate: l.certificate } : {}) })),
        ...(l.passwordPrompts !== undefined ? { passwordPrompts: l.passwordPrompts } : {}),
      },
    },
    clientKeys: privateKeys,
    ...(l.password !== undefined ? { clientPassword: l.password } : {}),
    decide: (side) => (side === 'server' ? 'defer' : undefined),
  });
  pair.pump();
  while (pair.deferred.length > 0) {
    const { decision } = pair.deferred.shift()!;
    const answer = await conn.decide(decision);
    pair.server.resolve(decision.id, answer, pair.now);
    pair.pump();
  }
  const serverSuccess = pair.serverEvents.find((e): e is Extract<SshEvent, { type: 'authSuccess' }> => e.type === 'authSuccess');
  return {
    success: pair.clientEvents.some((e) => e.type === 'authSuccess') && serverSuccess !== undefined,
    serverSuccess,
    failures: pair.clientEvents.filter((e): e is Extract<SshEvent, { type: 'authFailure' }> => e.type === 'authFailure'),
    closed: pair.clientEvents.find((e): e is Extract<SshEvent, { type: 'closed' }> => e.type === 'closed'),
  };
}

async function attempt(setup: Setup, l: Login): Promise<{ outcome: Outcome; log: string[] }> {
  const log: string[] = [];
  const policy = await policyFor(setup, log);
  const outcome = await login(policy.connection({ address: setup.address ?? '10.1.2.3', port: 50_000 }), l);
  return { outcome, log };
}

const fp = (name: string) => fingerprint(keys[name]!.publicKey.blob);

describe('parseAuthMethods (AuthenticationMethods syntax)', () => {
  it('reads alternatives separated by spaces and chains joined by commas', () => {
    expect(parseAuthMethods('publickey,password keyboard-interactive')).toEqual([['publickey', 'password'], ['keyboard-interactive']]);
    expect(parseAuthMethods('  publickey  ')).toEqual([['publickey']]);
    expect(parseAuthMethods('publickey,publickey')).toEqual([['publickey', 'publickey']]);
    expect(parseAuthMethods('any')).toEqual([['publickey'], ['password'], ['keyboard-interactive']]);
  });

  it('refuses what it cannot back, saying what to write', () => {
    expect(() => parseAuthMethods('')).toThrow(/no authentication methods given; write e\.g\./);
    expect(() => parseAuthMethods('publickey,,password')).toThrow(/empty method/);
    expect(() => parseAuthMethods('gssapi-with-mic')).toThrow(/unknown authentication method "gssapi-with-mic"; hermit serve supports publickey, password, keyboard-interactive/);
    expect(() => parseAuthMethods('keyboard-interactive:pam')).toThrow(/no submethods/);
    expect(() => parseAuthMethods('hostbased')).toThrow(AuthConfigError);
  });
});

describe.concurrent('ServerAuthPolicy configuration', () => {
  it('offers only methods with a store: no password file, publickey alone', async () => {
    const p = await ServerAuthPolicy.create({ currentUser: 'alice', authorizedKeysFile: await file('') });
    expect(p.chains).toEqual([['publickey']]);
    const q = await ServerAuthPolicy.create({ currentUser: 'alice', authorizedKeysFile: await file(''), passwordFile });
    expect(q.chains).toEqual([['publickey'], ['password'], ['keyboard-interactive']]);
  });

  it('refuses a chain naming a method without its store as a usage error', async () => {
    const err = await ServerAuthPolicy.create({ authorizedKeysFile: await file(''), authMethods: parseAuthMethods('publickey,password') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthConfigError);
    expect((err as AuthConfigError).usage).toBe(true);
    expect((err as Error).message).toMatch(/password \(in "publickey,password"\) needs --password-file FILE.*hermit hash-password/);
  });

  it('fails the start on an explicit file that is missing; only warns about the default authorized_keys', async () => {
    const missing = join(dir, 'no-such-file');
    for (const config of [
      { authorizedKeysFile: missing, authorizedKeysExplicit: true },
      { authorizedKeysFile: await file(''), passwordFile: missing },
      { authorizedKeysFile: await file(''), trustedUserCaFile: missing },
    ]) {
      const err = await ServerAuthPolicy.create(config).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AuthConfigError);
      expect((err as AuthConfigError).usage).toBe(false);
      expect((err as Error).message).toContain(`${missing}: it does not exist`);
    }
    const warnings: string[] = [];
    await ServerAuthPolicy.create({ authorizedKeysFile: missing, warn: (w) => warnings.push(w) });
    expect(warnings).toEqual([`warning: cannot read authorized_keys file ${missing}: it does not exist; publickey logins fail until it exists (or give --authorized-keys FILE)`]);
  });

  it('refuses a CA file without a key and bad --allow-user names', async () => {
    const err = await ServerAuthPolicy.create({ authorizedKeysFile: await file(''), trustedUserCaFile: await file('# nothing\n') }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/holds no usable CA key; put the CA's \.pub line in it/);
    await expect(ServerAuthPolicy.create({ authorizedKeysFile: await file(''), allowUsers: ['a b'] })).rejects.toThrow(/--allow-user "a b" is not a user name/);
  });

  it('reports malformed lines once, with file:line, and warns about password users who may not log in', async () => {
    const warnings: string[] = [];
    const ak = await file(`${pubLines['ed25519']}\nno-such-option ${pubLines['ecdsa-256']}\n`);
    const pw = await file(`dave:${hashPassword('x', seededRandom('server-auth-1'), { rounds: 1000 })}\nbroken line\n`);
    const p = await ServerAuthPolicy.create({ currentUser: 'alice', authorizedKeysFile: ak, passwordFile: pw, warn: (w) => warnings.push(w) });
    expect(warnings.some((w) => w.startsWith(`warning: ${ak}:2: `) && w.includes('no-such-option'))).toBe(true);
    expect(warnings.some((w) => w.startsWith(`warning: ${pw}:2: `))).toBe(true);
    expect(warnings).toContain(`warning: ${pw} has a password for dave, who may not log in; add --allow-user dave`);
    const count = warnings.length;
    // A connection re-reads the files but does not repeat warnings already given.
    await login(p.connection({ address: '127.0.0.1', port: 1 }), { username: 'alice', key: keys['ed25519']! });
    expect(warnings.length).toBe(count);
  });
});

describe.concurrent('publickey from authorized_keys', () => {
  it.each(['ed25519', 'ecdsa-256', 'ecdsa-384', 'ecdsa-521', 'rsa-2048'])('%s key listed: accepted, logged like sshd, policy attached', async (name) => {
    const { outcome, log } = await attempt({ authorizedKeys: `# mine\n${pubLines[name]}\n` }, { username: 'alice', key: keys[name]! });
    expect(outcome.success).toBe(true);
    expect(outcome.serverSuccess?.method).toBe('publickey');
    expect(outcome.serverSuccess?.policy).toMatchObject({ pty: true, portForwarding: true, permitOpen: null });
    const label = name.startsWith('ecdsa') ? 'ECDSA' : name === 'rsa-2048' ? 'RSA' : 'ED25519';
    const algorithm = name === 'rsa-2048' ? 'rsa-sha2-512' : keys[name]!.publicKey.type;
    expect(log).toEqual([`Accepted publickey for alice from 10.1.2.3 port 50000 ssh2: ${label} ${fp(name)} (${algorithm})`]);
  });

  it('a key that is not listed fails, and the log says so', async () => {
    const { outcome, log } = await attempt({ authorizedKeys: `${pubLines['ecdsa-256']}\n` }, { username: 'alice', key: keys['ed25519']! });
    expect(outcome.success).toBe(false);
    expect(outcome.closed?.error?.code).toBe('AUTH_FAILED');
    expect(outcome.failures.at(-1)?.methods).toEqual(['publickey', 'password', 'keyboard-interactive']);
    expect(log).toHaveLength(1);
    expect(log[0]).toMatch(new RegExp(`^Failed publickey for alice from 10\\.1\\.2\\.3 port 50000 ssh2: ED25519 ${fp('ed25519').replace(/[+/]/g, '\\$&')} \\(ssh-ed25519\\): key is not in .*/f\\d+$`));
  });

  it('from= admits matching addresses only', async () => {
    const authorizedKeys = `from="10.0.0.0/8" ${pubLines['ed25519']}\n`;
    expect((await attempt({ authorizedKeys, address: '10.200.0.1' }, { username: 'alice', key: keys['ed25519']! })).outcome.success).toBe(true);
    // A v4 client on a dual-stack socket arrives as ::ffff:a.b.c.d and must match (and be logged) as v4.
    expect((await attempt({ authorizedKeys, address: '::ffff:10.9.9.9' }, { username: 'alice', key: keys['ed25519']! })).log[0]).toMatch(/^Accepted publickey for alice from 10\.9\.9\.9 port/);
    const refused = await attempt({ authorizedKeys, address: '127.0.0.1' }, { username: 'alice', key: keys['ed25519']! });
    expect(refused.outcome.success).toBe(false);
    expect(refused.log[0]).toMatch(/^Failed publickey for alice from 127\.0\.0\.1 .*:1: from="10\.0\.0\.0\/8" does not allow 127\.0\.0\.1$/);
  });

  it('expiry-time in the past refuses, in the future admits', async () => {
    const past = await attempt({ authorizedKeys: `expiry-time="20200101Z" ${pubLines['ed25519']}\n` }, { username: 'alice', key: keys['ed25519']! });
    expect(past.outcome.success).toBe(false);
    expect(past.log[0]).toMatch(/:1: the key expired at 2020-01-01T00:00:00 UTC \(expiry-time\)$/);
    const future = await attempt({ authorizedKeys: `expiry-time="20991231Z" ${pubLines['ed25519']}\n` }, { username: 'alice', key: keys['ed25519']! });
    expect(future.outcome.success).toBe(true);
  });

  it('options become the session policy handed to the connection layer', async () => {
    const { outcome } = await attempt({ authorizedKeys: `restrict,pty,command="uptime",permitopen="db:5432" ${pubLines['ed25519']}\n` }, { username: 'alice', key: keys['ed25519']! });
    expect(outcome.serverSuccess?.policy).toMatchObject({ pty: true, portForwarding: false, agentForwarding: false, forcedCommand: 'uptime', permitOpen: [{ host: 'db', port: 5432 }] });
  });

  it('edits to authorized_keys apply to the next connection without a restart', async () => {
    const path = await file('');
    const log: string[] = [];
    const policy = await ServerAuthPolicy.create({ currentUser: 'alice', authorizedKeysFile: path, log: (l) => log.push(l) });
    expect((await login(policy.connection({ address: '127.0.0.1', port: 1 }), { username: 'alice', key: keys['ed25519']! })).success).toBe(false);
    await writeFile(path, `${pubLines['ed25519']}\n`);
    expect((await login(policy.connection({ address: '127.0.0.1', port: 2 }), { username: 'alice', key: keys['ed25519']! })).success).toBe(true);
    await writeFile(path, '');
    expect((await login(policy.connection({ address: '127.0.0.1', port: 3 }), { username: 'alice', key: keys['ed25519']! })).success).toBe(false);
  });

  it('names that may not log in get the same methods and always fail', async () => {
    const authorizedKeys = `${pubLines['ed25519']}\n`;
    const real = await attempt({ authorizedKeys }, { username: 'alice', key: keys['ecdsa-256']!, password: 'nope' });
    const fake = await attempt({ authorizedKeys }, { username: 'mallory', key: keys['ed25519']!, password: 'correct horse' });
    expect(fake.outcome.success).toBe(false);
    expect(fake.outcome.failures.map((f) => f.methods)).toEqual(real.outcome.failures.map((f) => f.methods));
    expect(fake.log[0]).toBe('Invalid user mallory from 10.1.2.3 port 50000');
    expect(fake.log[1]).toMatch(/^Failed publickey for invalid user mallory from .*: mallory may not log in here \(allowed: alice, bob, carol; add --allow-user mallory\)$/);
    expect(fake.log.some((l) => /^Failed keyboard-interactive for invalid user mallory .*: mallory may not log in here/.test(l))).toBe(true);
    expect(fake.log.some((l) => /^Failed password for invalid user mallory .*: mallory may not log in here/.test(l))).toBe(true);
  });

  it('--allow-user names share the authorized_keys file', async () => {
    const { outcome, log } = await attempt({ authorizedKeys: `${pubLines['ed25519']}\n` }, { username: 'carol', key: keys['ed25519']! });
    expect(outcome.success).toBe(true);
    expect(log[0]).toMatch(/^Accepted publickey for carol from /);
  });
});

describe.concurrent('user certificates', () => {
  const withCa = async (ca: string) => ({ trustedUserCaFile: await file(`# user CA\n${caLines[ca]}\n`) });

  it('a certificate from a trusted CA naming the user is accepted and logged with its ID, serial and CA', async () => {
    const { outcome, log } = await attempt({ config: await withCa('user-ca-ed25519') }, { username: 'alice', key: keys['ed25519']!, certificate: certs['user-ed25519']! });
    expect(outcome.success).toBe(true);
    expect(log).toHaveLength(1);
    expect(log[0]).toMatch(/^Accepted publickey for alice from 10\.1\.2\.3 port 50000 ssh2: ED25519-CERT SHA256:\S+ ID "alice@hermit" \(serial 1\) CA ED25519 SHA256:\S+ \(ssh-ed25519-cert-v01@openssh\.com\)$/);
    // The fixture carries ssh-keygen's default extensions: everything permitted.
    expect(outcome.serverSuccess?.policy).toMatchObject({ pty: true, portForwarding: true, agentForwarding: true });
  });

  it('the user must be a principal', async () => {
    const { outcome, log } = await attempt({ config: await withCa('user-ca-ed25519') }, { username: 'carol', key: keys['ed25519']!, certificate: certs['user-ed25519']! });
    expect(outcome.success).toBe(false);
    expect(log[0]).toMatch(/: "carol" is not a principal of this certificate \(alice, bob\)$/);
  });

  it('an expired certificate, or one that is not valid yet, is refused', async () => {
    const expired = await attempt({ config: await withCa('user-ca-ed25519') }, { username: 'alice', key: keys['ed25519']!, certificate: certs['user-expired']! });
    expect(expired.outcome.success).toBe(false);
    expect(expired.log[0]).toMatch(/certificate expired at 2020-01-02/);
    const early = await attempt({ config: { ...(await withCa('user-ca-ed25519')), wallClock: () => 1_600_000_000 } }, { username: 'alice', key: keys['ed25519']!, certificate: certs['user-ed25519']! });
    expect(early.log[0]).toMatch(/certificate is not valid until 2024-01-01/);
  });

  it('a certificate from an untrusted CA is refused, naming the CA', async () => {
    const { outcome, log } = await attempt({ config: await withCa('user-ca-rsa-3072') }, { username: 'alice', key: keys['ed25519']!, certificate: certs['user-ed25519']! });
    expect(outcome.success).toBe(false);
    expect(log[0]).toMatch(/: certificate is signed by an untrusted CA \(ED25519 SHA256:\S+\): it is neither in .* nor a cert-authority line of /);
  });

  it('a certificate without principals is refused', async () => {
    const { log } = await attempt({ config: await withCa('user-ca-ed25519') }, { username: 'alice', key: keys['ed25519']!, certificate: certs['user-no-principals']! });
    expect(log[0]).toMatch(/certificate lists no principals/);
  });

  it('a plain line for the certified key does not admit the certificate', async () => {
    const { outcome } = await attempt({ authorizedKeys: `${pubLines['ed25519']}\n` }, { username: 'alice', key: keys['ed25519']!, certificate: certs['user-ed25519']! });
    expect(outcome.success).toBe(false);
  });

  it('critical options: source-address is enforced, force-command and extensions shape the policy', async () => {
    const config = await withCa('user-ca-ed25519');
    const inside = await attempt({ config, address: '10.4.4.4' }, { username: 'alice', key: keys['ed25519']!, certificate: certs['user-options']! });
    expect(inside.outcome.success).toBe(true);
    expect(inside.outcome.serverSuccess?.policy).toMatchObject({ forcedCommand: '/usr/bin/uptime', pty: true, x11Forwarding: true, portForwarding: false, agentForwarding: false, touchRequired: false, verifyRequired: true });
    const outside = await attempt({ config, address: '127.0.0.1' }, { username: 'alice', key: keys['ed25519']!, certificate: certs['user-options']! });
    expect(outside.outcome.success).toBe(false);
    expect(outside.log[0]).toMatch(/client address 127\.0\.0\.1 is not permitted by the certificate's source-address/);
  });

  it('cert-authority lines in authorized_keys: principals= replaces the user name', async () => {
    const ca = caLines['user-ca-ed25519']!;
    const byName = await attempt({ authorizedKeys: `cert-authority ${ca}\n` }, { username: 'bob', key: keys['ed25519']!, certificate: certs['user-ed25519']! });
    expect(byName.outcome.success).toBe(true);
    const listed = await attempt({ authorizedKeys: `cert-authority,principals="ops,bob" ${ca}\n` }, { username: 'carol', key: keys['ed25519']!, certificate: certs['user-ed25519']! });
    expect(listed.outcome.success).toBe(true);
    const unlisted = await attempt({ authorizedKeys: `cert-authority,principals="ops" ${ca}\n` }, { username: 'alice', key: keys['ed25519']!, certificate: certs['user-ed25519']! });
    expect(unlisted.outcome.success).toBe(false);
    expect(unlisted.log[0]).toMatch(/:1: certificate principals \(alice, bob\) include none of the authorized principals \(ops\)$/);
  });

  it('cert-authority lines honour from= and combine their options with the certificate', async () => {
    const ca = caLines['user-ca-ed25519']!;
    const refused = await attempt({ authorizedKeys: `cert-authority,from="192.168.0.0/16" ${ca}\n` }, { username: 'alice', key: keys['ed25519']!, certificate: certs['user-ed25519']! });
    expect(refused.outcome.success).toBe(false);
    expect(refused.log[0]).toMatch(/:1: from="192\.168\.0\.0\/16" does not allow 10\.1\.2\.3$/);
    const narrowed = await attempt({ authorizedKeys: `cert-authority,no-pty ${ca}\n` }, { username: 'alice', key: keys['ed25519']!, certificate: certs['user-ed25519']! });
    expect(narrowed.outcome.serverSuccess?.policy).toMatchObject({ pty: false, portForwarding: true });
    const clash = await attempt({ authorizedKeys: `cert-authority,command="/bin/date" ${ca}\n`, address: '10.0.0.1' }, { username: 'alice', key: keys['ed25519']!, certificate: certs['user-options']! });
    expect(clash.outcome.success).toBe(false);
    expect(clash.log[0]).toMatch(/force-command "\/usr\/bin\/uptime" and the authorized_keys command="\/bin\/date" differ/);
  });
});

describe.concurrent('password and keyboard-interactive from the password file', () => {
  it('the right password is accepted (SHA-crypt and scrypt lines)', async () => {
    const a = await attempt({}, { username: 'alice', methods: ['password'], password: 'correct horse' });
    expect(a.outcome.success).toBe(true);
    expect(a.log).toEqual(['Accepted password for alice from 10.1.2.3 port 50000 ssh2']);
    const b = await attempt({}, { username: 'bob', methods: ['password'], password: 'battery staple' });
    expect(b.outcome.success).toBe(true);
  });

  it('a wrong password, a user without a line and an empty password fail with the reason logged', async () => {
    const wrong = await attempt({}, { username: 'alice', methods: ['password'], password: 'Tr0ub4dor', passwordPrompts: 1 });
    expect(wrong.outcome.success).toBe(false);
    expect(wrong.log).toEqual(['Failed password for alice from 10.1.2.3 port 50000 ssh2: wrong password']);
    const nobody = await attempt({}, { username: 'carol', methods: ['password'], password: 'correct horse', passwordPrompts: 1 });
    expect(nobody.log[0]).toMatch(/^Failed password for carol from .*: carol has no line in .*passwords$/);
    const empty = await attempt({ config: { passwordFile: await file(`alice:${hashPassword('', seededRandom('server-auth-3'), { rounds: 1000 })}\n`) } }, { username: 'alice', methods: ['password'], password: '', passwordPrompts: 1 });
    expect(empty.outcome.success).toBe(false);
    expect(empty.log[0]).toMatch(/: empty passwords are refused$/);
  });

  it('keyboard-interactive asks one "Password: " prompt without echo and checks it against the file', async () => {
    const log: string[] = [];
    const policy = await policyFor({}, log);
    const conn = policy.connection({ address: '10.1.2.3', port: 50_000 });
    expect(await conn.decide({ id: 1, blocking: true, kind: 'authKeyboardInteractive', username: 'alice', submethods: '', round: 0, responses: null })).toEqual({ name: '', instruction: '', prompts: [{ prompt: 'Password: ', echo: false }] });
    // Unknown names get the very same prompt.
    expect(await conn.decide({ id: 2, blocking: true, kind: 'authKeyboardInteractive', username: 'mallory', submethods: '', round: 0, responses: null })).toEqual({ name: '', instruction: '', prompts: [{ prompt: 'Password: ', echo: false }] });
    const ok = await attempt({}, { username: 'alice', methods: ['keyboard-interactive'], password: 'correct horse' });
    expect(ok.outcome.success).toBe(true);
    expect(ok.outcome.serverSuccess?.method).toBe('keyboard-interactive');
    expect(ok.log).toEqual(['Accepted keyboard-interactive for alice from 10.1.2.3 port 50000 ssh2']);
    const bad = await attempt({}, { username: 'alice', methods: ['keyboard-interactive'], password: 'wrong', passwordPrompts: 1 });
    expect(bad.outcome.success).toBe(false);
    expect(bad.log).toEqual(['Failed keyboard-interactive for alice from 10.1.2.3 port 50000 ssh2: wrong password']);
  });

  it('a password change request is refused (none is ever asked for)', async () => {
    const log: string[] = [];
    const conn = (await policyFor({}, log)).connection({ address: '10.1.2.3', port: 50_000 });
    expect(await conn.decide({ id: 1, blocking: true, kind: 'authPassword', username: 'alice', password: 'correct horse', newPassword: 'new' })).toBe(false);
    expect(log).toEqual(['Failed password for alice from 10.1.2.3 port 50000 ssh2: password change is not supported']);
  });

  it('hostbased is refused and logged', async () => {
    const log: string[] = [];
    const conn = (await policyFor({}, log)).connection({ address: '10.1.2.3', port: 50_000 });
    expect(conn.decide({ id: 1, blocking: true, kind: 'authHostbased', username: 'alice', key: keys['ed25519']!.publicKey, algorithm: 'ssh-ed25519', clientHostname: 'h', clientUsername: 'alice' })).toBe(false);
    expect(log[0]).toMatch(/^Failed hostbased for alice from .*: hostbased authentication is not supported$/);
  });
});

describe.concurrent('method chains', () => {
  it('publickey,password: the key gives partial success, the password completes', async () => {
    const { outcome, log } = await attempt(
      { authorizedKeys: `${pubLines['ed25519']}\n`, config: { authMethods: parseAuthMethods('publickey,password') } },
      { username: 'alice', key: keys['ed25519']!, methods: ['publickey', 'password'], password: 'correct horse' },
    );
    expect(outcome.success).toBe(true);
    expect(outcome.failures.some((f) => f.partialSuccess && f.methods.join() === 'password')).toBe(true);
    expect(outcome.serverSuccess?.method).toBe('publickey,password');
    // The key's policy survives the later password step.
    expect(outcome.serverSuccess?.policy).toMatchObject({ pty: true });
    expect(log[0]).toMatch(/^Partial publickey for alice from 10\.1\.2\.3 port 50000 ssh2: ED25519 /);
    expect(log[1]).toBe('Accepted password for alice from 10.1.2.3 port 50000 ssh2');
  });

  it('publickey,password without the password stays unauthenticated', async () => {
    const { outcome } = await attempt(
      { authorizedKeys: `${pubLines['ed25519']}\n`, config: { authMethods: parseAuthMethods('publickey,password') } },
      { username: 'alice', key: keys['ed25519']!, methods: ['publickey', 'password'], password: 'wrong', passwordPrompts: 1 },
    );
    expect(outcome.success).toBe(false);
  });

  it('publickey,publickey needs two different keys', async () => {
    const authorizedKeys = `${pubLines['ed25519']}\n${pubLines['ecdsa-256']}\n`;
    const config = { authMethods: parseAuthMethods('publickey,publickey') };
    const two = await attempt({ authorizedKeys, config }, { username: 'alice', keys: [keys['ed25519']!, keys['ecdsa-256']!] });
    expect(two.outcome.success).toBe(true);
    expect(two.log.map((l) => l.split(' ')[0])).toEqual(['Partial', 'Accepted']);
    // A client would not offer the same key twice; ask the policy directly, as the engine would for one that does.
    const log: string[] = [];
    const conn = (await policyFor({ authorizedKeys, config }, log)).connection({ address: '10.1.2.3', port: 50_000 });
    const signed = { kind: 'authPublicKey', username: 'alice', key: keys['ed25519']!.publicKey, algorithm: 'ssh-ed25519', signed: true } as const;
    expect(await conn.decide({ id: 1, blocking: true, ...signed })).toMatchObject({ accept: true });
    expect(await conn.decide({ id: 2, blocking: true, ...signed })).toBe(false);
    expect(log.at(-1)).toMatch(/: this key already completed an earlier step of the method chain$/);
  });
});
