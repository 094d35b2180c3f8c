/**
 * HostKeyPolicy against temporary known_hosts files: every StrictHostKeyChecking mode for known,
 * unknown, changed and revoked keys, hashed names, `[host]:port` lookups, @cert-authority host
 * certificates (valid, expired, wrong principal, revoked CA), the `ask` question, and appending.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type Certificate,
  fingerprintSha256,
  formatKnownHostsLine,
  formatPublicKeyLine,
  generatePrivateKey,
  type PrivateKey,
  signCertificate,
  systemRandom,
} from '../../core/index.ts';
import { nodeCrypto } from '../runtime/crypto-node.ts';
import { HostKeyPolicy, HostKeyVerificationError, parseKnownHostsFileList, type HostKeyPolicyOptions } from '../trust/host-key-policy.ts';
import type { Prompter, PromptRequest } from '../trust/prompt.ts';
import { tempDir } from './openssh.ts';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function scratch(): Promise<string> {
  const d = await tempDir('known-hosts');
  dirs.push(d);
  return d;
}

const key = (type: 'ed25519' | 'ecdsa-256' = 'ed25519'): PrivateKey => generatePrivateKey(type, systemRandom, nodeCrypto, 'test');
const hostKey = key();
const otherKey = key();
const ecdsaKey = key('ecdsa-256');
const caKey = key();
const otherCa = key();
const NOW = 1_700_000_000n;

function line(names: string, k: PrivateKey, marker = ''): string {
  return `${marker ? marker + ' ' : ''}${names} ${formatPublicKeyLine(k.publicKey)}`;
}

function question(k: PrivateKey, certificate?: Certificate) {
  return { hostKey: k.publicKey, fingerprint: fingerprintSha256(k.publicKey.blob), ...(certificate ? { certificate } : {}) };
}

function hostCert(principals: string[], options: { ca?: PrivateKey; validAfter?: bigint; validBefore?: bigint; type?: 'host' | 'user' } = {}): Certificate {
  return signCertificate(nodeCrypto, options.ca ?? caKey, {
    publicKey: hostKey.publicKey,
    certType: options.type ?? 'host',
    keyId: 'test host',
    principals,
    validAfter: options.validAfter ?? NOW - 3600n,
    validBefore: options.validBefore ?? NOW + 3600n,
  });
}

/** A policy over one user file holding `lines`; returns the policy, the file and what it wrote to stderr. */
async function setup(lines: string[], options: Partial<HostKeyPolicyOptions> = {}) {
  const dir = await scratch();
  const file = join(dir, 'known_hosts');
  if (lines.length > 0) await writeFile(file, lines.join('\n') + '\n');
  const notes: string[] = [];
  const policy = await HostKeyPolicy.load({
    host: 'server.example',
    port: 22,
    userKnownHostsFiles: [file],
    globalKnownHostsFiles: [],
    stderr: { write: (t: string) => notes.push(t) },
    now: () => NOW,
    ...options,
  });
  return { policy, file, notes, dir };
}

async function refusal(promise: Promise<unknown>): Promise<HostKeyVerificationError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(HostKeyVerificationError);
    return err as HostKeyVerificationError;
  }
  throw new Error('the host key was accepted');
}

function scripted(answers: Array<string | null>): Prompter & { asked: PromptRequest[] } {
  const asked: PromptRequest[] = [];
  return {
    available: true,
    asked,
    ask: async (request) => {
      asked.push(request);
      return answers.shift() ?? null;
    },
  };
}

describe.concurrent('HostKeyPolicy', () => {
  it('accepts a key listed for the host and says where', async () => {
    const { policy, file } = await setup(['# comment', line('other.example', otherKey), line('server.example,10.0.0.1', hostKey)], { strictHostKeyChecking: 'yes' });
    const verdict = await policy.verify(question(hostKey));
    expect(verdict).toMatchObject({ outcome: 'known', verified: true, location: `${file}:3` });
  });

  it('matches hashed names and [host]:port entries, and falls back to the bare name for other ports', async () => {
    const hashed = formatKnownHostsLine('server.example', 2222, hostKey.publicKey, { hash: true, random: systemRandom });
    expect(hashed).toMatch(/^\|1\|/);
    const a = await setup([hashed], { port: 2222, strictHostKeyChecking: 'yes' });
    expect((await a.policy.verify(question(hostKey))).outcome).toBe('known');
    const b = await setup([line('[server.example]:2222', hostKey)], { port: 2222, strictHostKeyChecking: 'yes' });
    expect((await b.policy.verify(question(hostKey))).outcome).toBe('known');
    const c = await setup([line('server.example', hostKey)], { port: 2222, strictHostKeyChecking: 'yes' });
    expect((await c.policy.verify(question(hostKey))).outcome).toBe('known');
    // Host names are compared case-insensitively, as ssh lowercases what the user typed.
    const d = await setup([line('server.example', hostKey)], { host: 'Server.EXAMPLE', strictHostKeyChecking: 'yes' });
    expect((await d.policy.verify(question(hostKey))).outcome).toBe('known');
  });

  it('reads every user and global file; a missing one is empty', async () => {
    const dir = await scratch();
    const global = join(dir, 'global_known_hosts');
    await writeFile(global, line('server.example', hostKey) + '\n');
    const policy = await HostKeyPolicy.load({
      host: 'server.example',
      port: 22,
      userKnownHostsFiles: [`${join(dir, 'missing')} ${join(dir, 'also-missing')}`],
      globalKnownHostsFiles: [global],
      strictHostKeyChecking: 'yes',
    });
    expect(policy.files).toEqual([join(dir, 'missing'), join(dir, 'also-missing'), global]);
    expect(await policy.verify(question(hostKey))).toMatchObject({ outcome: 'known', location: `${global}:1` });
  });

  it('StrictHostKeyChecking=yes refuses an unknown key with its fingerprint and the line to add', async () => {
    const { policy, file } = await setup([line('other.example', otherKey)], { strictHostKeyChecking: 'yes' });
    const err = await refusal(policy.verify(question(hostKey)));
    expect(err.code).toBe('HOST_KEY_UNKNOWN');
    expect(err.message).toContain(fingerprintSha256(hostKey.publicKey.blob));
    expect(err.message).toContain(file);
    expect(err.message).toContain(`server.example ssh-ed25519 `);
    expect(err.message).toMatch(/StrictHostKeyChecking=accept-new/);
  });

  it('accept-new appends the key (hashed with HashKnownHosts) and the next check finds it', async () => {
    for (const hash of [false, true]) {
      const { policy, file, notes } = await setup([line('other.example', otherKey)], { port: 2200, strictHostKeyChecking: 'accept-new', hashKnownHosts: hash });
      expect(await policy.verify(question(hostKey))).toMatchObject({ outcome: 'added', verified: true });
      const text = await readFile(file, 'utf8');
      const added = text.trim().split('\n')[1]!;
      if (hash) expect(added).toMatch(/^\|1\|[^ ]+ ssh-ed25519 /);
      else expect(added).toBe(`[server.example]:2200 ${formatPublicKeyLine(hostKey.publicKey)}`);
      expect(notes.join('')).toMatch(/Permanently added '\[server\.example\]:2200' \(ssh-ed25519\)/);
      const again = await HostKeyPolicy.load({ host: 'server.example', port: 2200, userKnownHostsFiles: [file], globalKnownHostsFiles: [], strictHostKeyChecking: 'yes' });
      expect((await again.verify(question(hostKey))).outcome).toBe('known');
    }
  });

  it('StrictHostKeyChecking=no records a new key unless told not to', async () => {
    const a = await setup([], { strictHostKeyChecking: 'no' });
    expect((await a.policy.verify(question(hostKey))).outcome).toBe('added');
    expect(await readFile(a.file, 'utf8')).toContain(formatPublicKeyLine(hostKey.publicKey));
    const b = await setup([], { strictHostKeyChecking: 'no', recordUnknownWhenNotStrict: false });
    expect(await b.policy.verify(question(hostKey))).toMatchObject({ outcome: 'accepted', verified: true });
    await expect(readFile(b.file, 'utf8')).rejects.toThrow(/ENOENT/);
    expect(b.notes).toEqual([]);
  });

  it('/dev/null as the user file: nothing is known and accept-new writes nowhere', async () => {
    const policy = await HostKeyPolicy.load({ host: 'server.example', port: 22, userKnownHostsFiles: ['/dev/null'], globalKnownHostsFiles: [], strictHostKeyChecking: 'accept-new', stderr: { write: () => true } });
    expect((await policy.verify(question(hostKey))).outcome).toBe('added');
  });

  it('a changed key is refused with both fingerprints and the file:line, in every mode but no', async () => {
    for (const mode of ['yes', 'accept-new', 'ask'] as const) {
      const { policy, file } = await setup([line('other.example', ecdsaKey), line('server.example', otherKey)], { strictHostKeyChecking: mode, prompter: scripted(['yes']) });
      const err = await refusal(policy.verify(question(hostKey)));
      expect(err.code).toBe('HOST_KEY_CHANGED');
      expect(err.message).toContain(fingerprintSha256(hostKey.publicKey.blob));
      expect(err.message).toContain(fingerprintSha256(otherKey.publicKey.blob));
      expect(err.message).toContain(`${file}:2`);
      expect(err.message).toContain(`ssh-keygen -R server.example -f ${file}`);
    }
  });

  it('a changed key under no goes on, with passwords and forwarding off and a warning', async () => {
    const { policy, notes } = await setup([line('server.example', otherKey)], { strictHostKeyChecking: 'no' });
    const verdict = await policy.verify(question(hostKey));
    expect(verdict.outcome).toBe('changed');
    expect(verdict.verified).toBe(false);
    expect(verdict.restrictions).toMatchObject({ passwordAuthentication: false, keyboardInteractiveAuthentication: false, agentForwarding: false });
    expect(notes.join('')).toMatch(/WARNING: The host key of server\.example has changed/);
  });

  it('a revoked key is refused in every mode, naming the line', async () => {
    for (const mode of ['yes', 'accept-new', 'no', 'ask'] as const) {
      const { policy, file } = await setup([line('server.example', hostKey), line('*', hostKey, '@revoked')], { strictHostKeyChecking: mode });
      const err = await refusal(policy.verify(question(hostKey)));
      expect(err.code).toBe('HOST_KEY_REVOKED');
      expect(err.message).toContain(`${file}:2`);
    }
  });

  describe('host certificates', () => {
    it('trusts a valid certificate from an @cert-authority key (wildcard principal, [host]:port pattern)', async () => {
      const a = await setup([line('*.example', caKey, '@cert-authority')], { strictHostKeyChecking: 'yes' });
      expect(await a.policy.verify(question(hostKey, hostCert(['server.example'])))).toMatchObject({ outcome: 'certificate', verified: true, location: `${a.file}:1` });
      const b = await setup([line('[server.example]:2222', caKey, '@cert-authority')], { port: 2222, strictHostKeyChecking: 'yes' });
      expect((await b.policy.verify(question(hostKey, hostCert(['*.example'])))).outcome).toBe('certificate');
    });

    it('refuses an expired or not-yet-valid certificate and says why', async () => {
      const { policy } = await setup([line('server.example', caKey, '@cert-authority')], { strictHostKeyChecking: 'yes' });
      const expired = await refusal(policy.verify(question(hostKey, hostCert(['server.example'], { validAfter: NOW - 7200n, validBefore: NOW - 3600n }))));
      expect(expired.code).toBe('HOST_KEY_UNKNOWN');
      expect(expired.message).toMatch(/host certificate .* was not accepted: certificate expired at 2023-11-14T21:13:20 \(UTC\)/);
      const early = await refusal(policy.verify(question(hostKey, hostCert(['server.example'], { validAfter: NOW + 60n }))));
      expect(early.message).toMatch(/not valid until/);
    });

    it('refuses a certificate for other names, a user certificate, and one from an unlisted CA', async () => {
      const { policy } = await setup([line('server.example', caKey, '@cert-authority')], { strictHostKeyChecking: 'yes' });
      const wrongName = await refusal(policy.verify(question(hostKey, hostCert(['other.example']))));
      expect(wrongName.message).toMatch(/"server\.example" is not a principal of this certificate \(other\.example\)/);
      const user = await refusal(policy.verify(question(hostKey, hostCert(['server.example'], { type: 'user' }))));
      expect(user.message).toMatch(/user certificate, expected a host certificate/);
      const untrusted = await refusal(policy.verify(question(hostKey, hostCert(['server.example'], { ca: otherCa }))));
      expect(untrusted.message).toMatch(/no @cert-authority line for server\.example holds its CA key/);
    });

    it('falls back to the plain key when the certificate does not pass, as ssh does', async () => {
      const { policy } = await setup([line('server.example', caKey, '@cert-authority'), line('server.example', hostKey)], { strictHostKeyChecking: 'yes' });
      expect((await policy.verify(question(hostKey, hostCert(['elsewhere.example'])))).outcome).toBe('known');
    });

    it('refuses a certificate whose CA is revoked, even with the plain key listed', async () => {
      const { policy, file } = await setup([line('server.example', caKey, '@cert-authority'), line('server.example', hostKey), line('*', caKey, '@revoked')], { strictHostKeyChecking: 'no' });
      const err = await refusal(policy.verify(question(hostKey, hostCert(['server.example']))));
      expect(err.code).toBe('HOST_KEY_REVOKED');
      expect(err.message).toContain(`${file}:3`);
      expect(err.message).toMatch(/certificate authority/);
    });
  });

  describe('StrictHostKeyChecking=ask', () => {
    it('asks, and "yes" or the fingerprint accepts and records the key', async () => {
      for (const answer of ['yes', fingerprintSha256(hostKey.publicKey.blob)]) {
        const prompter = scripted(['maybe', answer]);
        const { policy, file } = await setup([], { strictHostKeyChecking: 'ask', prompter });
        expect((await policy.verify(question(hostKey))).outcome).toBe('added');
        expect(prompter.asked[0]!.prompt).toMatch(/The authenticity of host 'server\.example' can't be established\.\nssh-ed25519 key fingerprint is SHA256:/);
        expect(prompter.asked[0]!.prompt).toMatch(/\(yes\/no\/\[fingerprint\]\)\? $/);
        expect(prompter.asked[1]!.prompt).toBe("Please type 'yes', 'no' or the fingerprint: ");
        expect(await readFile(file, 'utf8')).toContain(formatPublicKeyLine(hostKey.publicKey));
      }
    });

    it('"no" refuses', async () => {
      const { policy, file } = await setup([], { strictHostKeyChecking: 'ask', prompter: scripted(['no']) });
      const err = await refusal(policy.verify(question(hostKey)));
      expect(err.code).toBe('HOST_KEY_UNKNOWN');
      await expect(readFile(file, 'utf8')).rejects.toThrow(/ENOENT/);
    });

    it('with nobody to ask: refused as with yes, or "unverified" when the caller only looks', async () => {
      const nobody: Prompter = { available: false, ask: async () => null };
      const a = await setup([], { strictHostKeyChecking: 'ask', prompter: nobody });
      expect((await refusal(a.policy.verify(question(hostKey)))).message).toMatch(/nobody confirmed it/);
      const b = await setup([], { strictHostKeyChecking: 'ask', prompter: null, whenNobodyCanBeAsked: 'unverified' });
      expect(await b.policy.verify(question(hostKey))).toMatchObject({ outcome: 'unverified', verified: false });
      // A changed key is never "unverified": it is refused.
      const c = await setup([line('server.example', otherKey)], { strictHostKeyChecking: 'ask', prompter: null, whenNobodyCanBeAsked: 'unverified' });
      expect((await refusal(c.policy.verify(question(hostKey)))).code).toBe('HOST_KEY_CHANGED');
    });
  });

  it('prefers the host key algorithms known for the host', async () => {
    const none = await setup([line('other.example', ecdsaKey)]);
    expect(none.policy.preferredHostKeyAlgorithms()).toBeNull();
    const ecdsa = await setup([line('server.example', ecdsaKey)]);
    expect(ecdsa.policy.preferredHostKeyAlgorithms()).toBe('^ecdsa-sha2-nistp256');
    const withCa = await setup([line('server.example', caKey, '@cert-authority'), line('server.example', ecdsaKey)]);
    expect(withCa.policy.preferredHostKeyAlgorithms()).toBe('^ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp256');
  });

  it('reads UserKnownHostsFile values like ssh_config', () => {
    expect(parseKnownHostsFileList(['~/a  /tmp/b', 'none', '/tmp/c'], '/home/me')).toEqual(['/home/me/a', '/tmp/b', '/tmp/c']);
    expect(parseKnownHostsFileList(['none'], '/home/me')).toEqual([]);
  });
});
