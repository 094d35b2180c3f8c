/**
 * io-node/trust/trust-files.ts on a real file system, and core's trust-file logic checked against the
 * real tools: ssh-keygen -F / -H / -R for known_hosts, the ssh client's StrictHostKeyChecking
 * against an sshd, openssl passwd and libxcrypt's crypt(3) (through perl) for SHA-crypt, and
 * node:crypto for scrypt.
 */
import { scryptSync } from 'node:crypto';
import { chmod, copyFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkHostKey,
  decideHostKey,
  encodeBase64,
  formatKnownHostsLine,
  type HostKeyStatus,
  knownHostsEntryMatches,
  knownHostsLookupName,
  parseKnownHosts,
  parsePasswordHash,
  parsePublicKeyLine,
  type PublicKey,
  seededRandom,
  shaCrypt,
  type StrictHostKeyChecking,
  verifyPassword,
} from '../../core/index.ts';
import { failEachTestWithoutOpenSsh, makeHostKeys, openSshBinaries, repoRoot, run, startSshd, tempDir, type HostKeyFiles, type Sshd } from '../tests/openssh.ts';
import {
  appendKnownHost,
  expandTilde,
  hashPasswordForFile,
  loadAuthorizedKeys,
  loadKnownHosts,
  loadPasswordFile,
  TrustFileError,
  verifyHostKey,
} from './trust-files.ts';

const haveOpenSsh = failEachTestWithoutOpenSsh();
const fixtures = join(repoRoot, 'fixtures');
const pubKey = async (path: string): Promise<PublicKey> => parsePublicKeyLine(await readFile(path, 'utf8')).key;

let dir: string;
beforeAll(async () => {
  dir = await tempDir('trust');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loadKnownHosts', () => {
  it('skips missing files, reads the others in order and keeps file names', async () => {
    const a = join(dir, 'kh-a');
    await writeFile(a, (await readFile(join(fixtures, 'trust/known_hosts'), 'utf8')) + 'brokenline\n');
    const r = await loadKnownHosts([join(dir, 'missing'), a, join(dir, 'not-a-dir-file', 'x'), join(fixtures, 'trust/known_hosts.hashed')]);
    expect(r.loaded).toEqual([a, join(fixtures, 'trust/known_hosts.hashed')]);
    expect(r.entries).toHaveLength(13 + 14);
    expect(r.entries[0]!.source).toBe(a);
    expect(r.entries.at(-1)!.source).toBe(join(fixtures, 'trust/known_hosts.hashed'));
    expect(r.warnings.map((w) => w.message)).toEqual([`${a}:17: the line has host names but no key; expected "hostnames keytype base64-key [comment]" (the line may be truncated)`]);
  });

  it('throws a clear error for a file that exists but cannot be read', async () => {
    await mkdir(join(dir, 'kh-dir'));
    const err = await loadKnownHosts([join(dir, 'kh-dir')]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrustFileError);
    expect(err).toMatchObject({ code: 'EISDIR', path: join(dir, 'kh-dir') });
    expect((err as Error).message).toBe(`cannot read known_hosts file ${join(dir, 'kh-dir')}: it is a directory, not a file; point the option at the file`);
  });

  it('expands ~', () => {
    expect(expandTilde('~/.ssh/known_hosts', '/home/u')).toBe('/home/u/.ssh/known_hosts');
    expect(expandTilde('~', '/home/u')).toBe('/home/u');
    expect(expandTilde('/etc/ssh/ssh_known_hosts', '/home/u')).toBe('/etc/ssh/ssh_known_hosts');
  });
});

describe('appendKnownHost', () => {
  it('creates ~/.ssh with 0700 and the file with 0600', async () => {
    const key = await pubKey(join(fixtures, 'keys/ed25519.pub'));
    const path = join(dir, 'home1', '.ssh', 'known_hosts');
    await appendKnownHost(path, formatKnownHostsLine('host.example', 22, key));
    expect((await stat(join(dir, 'home1', '.ssh'))).mode & 0o777).toBe(0o700);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readFile(path, 'utf8')).toBe(`host.example ssh-ed25519 ${encodeBase64(key.blob)}\n`);
  });

  it('adds a newline first when the file does not end with one', async () => {
    const key = await pubKey(join(fixtures, 'keys/ecdsa-256.pub'));
    const path = join(dir, 'kh-no-newline');
    await writeFile(path, '# no final newline');
    await appendKnownHost(path, `${formatKnownHostsLine('a.example', 22, key)}\n`);
    await appendKnownHost(path, formatKnownHostsLine('b.example', 2222, key));
    const text = await readFile(path, 'utf8');
    expect(text.split('\n')).toEqual(['# no final newline', expect.stringMatching(/^a\.example ecdsa/), expect.stringMatching(/^\[b\.example\]:2222 ecdsa/), '']);
    expect(parseKnownHosts(text, path).entries).toHaveLength(2);
  });

  it('refuses anything that is not one valid entry, before touching the file', async () => {
    const path = join(dir, 'kh-refuse');
    await expect(appendKnownHost(path, 'not a host key line')).rejects.toThrow(/refusing to append to .*kh-refuse/);
    await expect(appendKnownHost(path, 'a ssh-ed25519 AAAA\nb ssh-ed25519 AAAA')).rejects.toThrow(RangeError);
    await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('loadAuthorizedKeys and loadPasswordFile', () => {
  it('loads the fixture authorized_keys and reports a group-writable file', async () => {
    const path = join(dir, 'authorized_keys');
    await copyFile(join(fixtures, 'trust/authorized_keys'), path);
    await chmod(path, 0o600);
    const ok = await loadAuthorizedKeys(path);
    expect(ok.warnings).toEqual([]);
    expect(ok.entries).toHaveLength(7);
    await chmod(path, 0o664);
    const loose = await loadAuthorizedKeys(path);
    expect(loose.warnings.map((w) => [w.code, w.message])).toEqual([
      ['insecure-permissions', `${path}: the authorized_keys file is writable by its group (mode 0664), so others could add themselves; sshd's StrictModes refuses such a file — run: chmod go-w ${path}`],
    ]);
  });

  it('reads unsuffixed expiry times in the system time zone, as sshd does', async () => {
    const path = join(dir, 'ak-expiry');
    const ed = (await readFile(join(fixtures, 'keys/ed25519.pub'), 'utf8')).trim();
    await writeFile(path, `expiry-time="203001021530" ${ed}\nexpiry-time="203001021530Z" ${ed}\n`, { mode: 0o600 });
    const f = await loadAuthorizedKeys(path);
    expect(f.entries[0]!.options.expiresAt).toBe(new Date(2030, 0, 2, 15, 30).getTime() / 1000);
    expect(f.entries[1]!.options.expiresAt).toBe(Date.UTC(2030, 0, 2, 15, 30) / 1000);
  });

  it('throws TrustFileError with the errno code for a missing file', async () => {
    const err = await loadAuthorizedKeys(join(dir, 'nope')).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'TrustFileError', code: 'ENOENT', message: `cannot read authorized_keys file ${join(dir, 'nope')}: it does not exist` });
  });

  it('loads a password file and warns when others can read it', async () => {
    const path = join(dir, 'passwd');
    await copyFile(join(fixtures, 'trust/passwd'), path);
    await chmod(path, 0o600);
    const f = await loadPasswordFile(path);
    expect([...f.users.keys()]).toEqual(['alice', 'bob', 'carol', 'dave']);
    expect(f.warnings.map((w) => w.line)).toEqual([6]);
    await chmod(path, 0o644);
    const loose = await loadPasswordFile(path);
    expect(loose.warnings[0]).toEqual({
      source: path,
      line: 0,
      message: `${path}: the password file is readable by anyone (mode 0644), who could then crack its hashes offline — run: chmod 600 ${path}`,
    });
    await expect(loadPasswordFile(join(dir, 'missing-passwd'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('hashPasswordForFile writes sha512-crypt by default and scrypt on request', () => {
    const h = hashPasswordForFile('letmein');
    expect(h).toMatch(/^\$6\$rounds=15000\$/);
    expect(verifyPassword('letmein', h)).toBe(true);
    const s = hashPasswordForFile('letmein', { scheme: 'scrypt', scrypt: { ln: 10, r: 8, p: 1 } });
    expect(verifyPassword('letmein', s)).toBe(true);
  });
});

describe('known_hosts against ssh-keygen', () => {
  const names = [
    '127.0.0.2',
    '[127.0.0.2]:2222',
    '[127.0.0.2]:2200',
    'server.example.com',
    '192.0.2.10',
    'www.example.org',
    'legacy.example.org',
    '[git.example.net]:7999',
    'mixed.case.example',
    'www.example.com',
    'untrusted.example.com',
    'nowhere.example.net',
  ];

  /** Line numbers (and markers) `ssh-keygen -F name` reports. */
  async function keygenFind(name: string, file: string): Promise<string[]> {
    const r = await run(openSshBinaries().sshKeygen, ['-F', name, '-f', file]);
    return [...r.stdout.matchAll(/^# Host \S+ found: line (\d+) ?(CA|REVOKED)?/gm)].map((m) => `${m[1]}${m[2] ? ` ${m[2]}` : ''}`);
  }
  function ours(name: string, text: string, source: string): string[] {
    return parseKnownHosts(text, source)
      .entries.filter((e) => knownHostsEntryMatches(e, name))
      .map((e) => `${e.line}${e.marker === 'cert-authority' ? ' CA' : e.marker === 'revoked' ? ' REVOKED' : ''}`);
  }

  for (const file of ['known_hosts', 'known_hosts.hashed']) {
    it(`ssh-keygen -F finds the same lines as we do in fixtures/trust/${file}`, async () => {
      const path = join(fixtures, 'trust', file);
      const text = await readFile(path, 'utf8');
      for (const name of names) expect(ours(name, text, path), name).toEqual(await keygenFind(name, path));
    });
  }

  it('a file hashed by ssh-keygen -H now gives the same answers as the clear one', async () => {
    const path = join(dir, 'kh-to-hash');
    const clear = await readFile(join(fixtures, 'trust/known_hosts'), 'utf8');
    await writeFile(path, clear);
    const r = await run(openSshBinaries().sshKeygen, ['-H', '-f', path]);
    expect(r.code).toBe(0);
    const hashedText = await readFile(path, 'utf8');
    expect(hashedText).not.toContain('server.example.com');
    const before = parseKnownHosts(clear, 'clear');
    const after = parseKnownHosts(hashedText, 'hashed');
    expect(after.warnings).toEqual([]);
    expect(after.entries.filter((e) => e.names.kind === 'hashed').length).toBeGreaterThanOrEqual(10);
    const keys = [...new Map(before.entries.map((e) => [encodeBase64(e.keyBlob), e.key!])).values()];
    for (const name of names) {
      const [host, port] = name.startsWith('[') ? [name.slice(1, name.indexOf(']')), Number(name.slice(name.indexOf(']') + 2))] : [name, 22];
      for (const key of keys) {
        const q = { host, port, key };
        expect(checkHostKey(after.entries, q).status, `${name} ${key.type}`).toBe(checkHostKey(before.entries, q).status);
      }
    }
  });

  it('ssh-keygen -F finds our hashed lines, and only for their own name and port', async () => {
    const random = seededRandom('trust-files hashed lines');
    const key = await pubKey(join(fixtures, 'keys/ecdsa-384.pub'));
    const hosts: Array<[string, number]> = [['alpha.example', 22], ['Beta.Example', 2222], ['192.0.2.44', 22], ['2001:db8::7', 2022]];
    const path = join(dir, 'kh-ours-hashed');
    await writeFile(path, hosts.map(([h, p]) => formatKnownHostsLine(h, p, key, { hash: true, random })).join('\n') + '\n');
    for (const [i, [h, p]] of hosts.entries()) {
      expect(await keygenFind(knownHostsLookupName(h, p), path), `${h}:${p}`).toEqual([`${i + 1}`]);
    }
    expect(await keygenFind('alpha.example.net', path)).toEqual([]);
    expect(await keygenFind('[alpha.example]:2222', path)).toEqual([]);
    // ... and ssh-keygen -R, which our "changed" message recommends, removes them.
    const rm = await run(openSshBinaries().sshKeygen, ['-R', '[beta.example]:2222', '-f', path]);
    expect(rm.code).toBe(0);
    expect(await keygenFind('[beta.example]:2222', path)).toEqual([]);
    expect(await keygenFind('alpha.example', path)).toEqual(['1']);
  });
});

describe('StrictHostKeyChecking: the ssh client and decideHostKey agree', () => {
  let keys: HostKeyFiles;
  let sshd: Sshd | undefined;
  let hostKey: PublicKey;
  let otherEd25519: PublicKey;
  let otherType: PublicKey;

  beforeAll(async () => {
    if (!haveOpenSsh) return;
    keys = await makeHostKeys();
    // Only the Ed25519 host key: every client ends up with that one.
    sshd = await startSshd({ keys: { ...keys, paths: { ed25519: keys.paths.ed25519 } as HostKeyFiles['paths'] } });
    hostKey = await pubKey(`${keys.paths.ed25519}.pub`);
    otherEd25519 = await pubKey(join(fixtures, 'keys/ed25519.pub'));
    otherType = await pubKey(join(fixtures, 'keys/ecdsa-256.pub'));
  }, 60_000);
  afterAll(async () => {
    await sshd?.stop();
    if (keys) await rm(keys.dir, { recursive: true, force: true });
  });

  /** Did `ssh` get past host key verification? And what did it say? */
  async function ssh(knownHosts: string, mode: StrictHostKeyChecking): Promise<{ passed: boolean; stderr: string }> {
    const r = await run(openSshBinaries().ssh, [
      '-F', '/dev/null',
      '-o', 'BatchMode=yes',
      '-o', `StrictHostKeyChecking=${mode}`,
      '-o', `UserKnownHostsFile=${knownHosts}`,
      '-o', 'GlobalKnownHostsFile=/dev/null',
      '-o', 'CheckHostIP=no',
      '-o', 'UpdateHostKeys=no',
      '-o', 'IdentitiesOnly=yes',
      '-o', 'IdentityFile=/dev/null',
      '-o', 'ConnectTimeout=20',
      '-p', String(sshd!.port),
      'nobody@127.0.0.1', 'true',
    ]);
    return { passed: !/Host key verification failed/.test(r.stderr), stderr: r.stderr };
  }

  async function scenario(label: string, lines: string[], mode: StrictHostKeyChecking) {
    const path = join(dir, `sshkc-${label}-${mode}`);
    await writeFile(path, lines.map((l) => `${l}\n`).join(''));
    const check = checkHostKey(parseKnownHosts(await readFile(path, 'utf8'), path).entries, { host: '127.0.0.1', port: sshd!.port, key: hostKey });
    const decision = decideHostKey(check, mode, { userKnownHostsFile: path });
    const theirs = await ssh(path, mode);
    const after = await readFile(path, 'utf8');
    return { check, decision, theirs, added: after.split('\n').length - 1 > lines.length, path };
  }

  const line = (key: () => PublicKey, marker?: 'revoked') => () =>
    formatKnownHostsLine('127.0.0.1', sshd!.port, key(), marker ? { marker } : {}).replace(/^@revoked \[127\.0\.0\.1\]:\d+/, '@revoked *');

  const cases: Array<[string, () => string[], HostKeyStatus]> = [
    ['trusted', () => [line(() => hostKey)()], 'trusted'],
    ['unknown', () => [], 'unknown'],
    ['changed', () => [line(() => otherEd25519)()], 'changed'],
    ['changed-type', () => [line(() => otherType)()], 'changed'],
  ];
  for (const [label, lines, status] of cases) {
    for (const mode of ['yes', 'accept-new', 'no', 'ask'] as const) {
      it(`${label} key, StrictHostKeyChecking=${mode}`, async () => {
        const s = await scenario(label, lines(), mode);
        expect(s.check.status).toBe(status);
        // BatchMode cannot ask: an unconfirmed 'ask' is a refusal on both sides.
        expect(s.decision.accept, s.theirs.stderr).toBe(s.theirs.passed);
        expect(s.decision.addToFile).toBe(s.added);
        if (s.decision.restrictions) expect(s.theirs.stderr).toMatch(/Password authentication is disabled to avoid man-in-the-middle attacks/);
        if (s.added) {
          const updated = parseKnownHosts(await readFile(s.path, 'utf8'), s.path);
          expect(checkHostKey(updated.entries, { host: '127.0.0.1', port: sshd!.port, key: hostKey }).status).toBe('trusted');
        }
        if (status === 'changed' && mode !== 'no') {
          expect(s.decision.error!.message).toContain(`${s.path}:1`);
          expect(s.theirs.stderr).toContain(`${s.path}:1`);
        }
      }, 60_000);
    }
  }

  it('revoked: refused in every mode; OpenSSH lets StrictHostKeyChecking=no continue restricted (the documented divergence)', async () => {
    for (const mode of ['yes', 'accept-new', 'no', 'ask'] as const) {
      const s = await scenario('revoked', [line(() => hostKey, 'revoked')()], mode);
      expect(s.check.status).toBe('revoked');
      expect(s.decision.accept).toBe(false);
      expect(s.theirs.stderr).toMatch(/REVOKED HOST KEY DETECTED/);
      expect(s.theirs.passed).toBe(mode === 'no');
    }
  }, 120_000);

  it('verifyHostKey: accept-new adds a hashed line that ssh then trusts', async () => {
    const path = join(dir, 'home-verify', '.ssh', 'known_hosts');
    const first = await verifyHostKey({
      host: '127.0.0.1', port: sshd!.port, key: hostKey,
      userKnownHostsFiles: [path], globalKnownHostsFiles: [], strictHostKeyChecking: 'accept-new', hashKnownHosts: true,
    });
    expect(first.check.status).toBe('unknown');
    expect(first.added?.path).toBe(path);
    expect(first.added?.line).toMatch(/^\|1\|/);
    const second = await verifyHostKey({ host: '127.0.0.1', port: sshd!.port, key: hostKey, userKnownHostsFiles: [path], globalKnownHostsFiles: [], strictHostKeyChecking: 'yes' });
    expect(second.check.status).toBe('trusted');
    expect(second.added).toBeUndefined();
    expect((await ssh(path, 'yes')).passed).toBe(true);
  }, 60_000);
});

describe('@cert-authority against ssh with a host certificate', () => {
  let sshd: Sshd | undefined;
  let keyDir: string;

  beforeAll(async () => {
    if (!haveOpenSsh) return;
    keyDir = await tempDir('trust-cert');
    const hostKey = join(keyDir, 'host_ed25519');
    await copyFile(join(fixtures, 'keys/ed25519'), hostKey);
    await chmod(hostKey, 0o600);
    await copyFile(join(fixtures, 'keys/certs/host-ed25519-cert.pub'), `${hostKey}-cert.pub`);
    sshd = await startSshd({
      keys: { dir: keyDir, paths: { ed25519: hostKey } as HostKeyFiles['paths'], fingerprints: {} as HostKeyFiles['fingerprints'] },
      hostKeyAlgorithms: ['ssh-ed25519-cert-v01@openssh.com', 'ssh-ed25519'],
      extra: [`HostCertificate ${hostKey}-cert.pub`],
    });
  }, 60_000);
  afterAll(async () => {
    await sshd?.stop();
    if (keyDir) await rm(keyDir, { recursive: true, force: true });
  });

  it('a CA listed for the host is trusted by both; the wrong CA by neither', async () => {
    const ca = await pubKey(join(fixtures, 'keys/certs/host-ca-ed25519.pub'));
    const wrongCa = await pubKey(join(fixtures, 'keys/certs/host-ca-ecdsa-256.pub'));
    const subject = await pubKey(join(fixtures, 'keys/ed25519.pub'));
    for (const [trustedCa, expected] of [[ca, true], [wrongCa, false]] as const) {
      const path = join(dir, `kh-ca-${expected}`);
      await writeFile(path, `@cert-authority [127.0.0.1]:*,127.0.0.1 ${trustedCa.type} ${encodeBase64(trustedCa.blob)}\n`);
      const check = checkHostKey(parseKnownHosts(await readFile(path, 'utf8'), path).entries, { host: '127.0.0.1', port: sshd!.port, key: subject, certificateAuthority: ca });
      expect(check.status).toBe(expected ? 'trusted-by-ca' : 'unknown');
      const r = await run(openSshBinaries().ssh, [
        '-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${path}`,
        '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'IdentitiesOnly=yes', '-o', 'IdentityFile=/dev/null',
        '-p', String(sshd!.port), 'nobody@127.0.0.1', 'true',
      ]);
      expect(!/Host key verification failed/.test(r.stderr), r.stderr).toBe(expected);
    }
  }, 60_000);
});

describe('password hashes against openssl passwd, crypt(3) and node:crypto', () => {
  const random = seededRandom('trust-files passwords');
  const passwords = ['pw', 'correct horse battery staple', 'ünïcödé ✓', 'x'.repeat(100), "quote's \"and\" $dollars"];

  it('our $6$ and $5$ equal openssl passwd -6/-5 for the same salt, and theirs verify with us', async () => {
    for (const pw of passwords) {
      for (const kind of ['5', '6'] as const) {
        const salt = Array.from(random(12), (b) => './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'[b & 63]).join('');
        const r = await run('openssl', ['passwd', `-${kind}`, '-salt', salt, pw]);
        expect(r.code, r.stderr).toBe(0);
        const theirs = r.stdout.trim();
        expect(shaCrypt(pw, `$${kind}$${salt}`)).toBe(theirs);
        expect(verifyPassword(pw, theirs)).toBe(true);
      }
    }
  }, 60_000);

  it('crypt(3) (libxcrypt, through perl) verifies the hashes we write, rounds included', async () => {
    for (const pw of passwords) {
      for (const scheme of ['sha512-crypt', 'sha256-crypt'] as const) {
        const ours = hashPasswordForFile(pw, { scheme, rounds: 2000 });
        const r = await run('perl', ['-e', 'binmode STDOUT; print crypt($ARGV[0], $ARGV[1])', pw, ours]);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toBe(ours);
      }
    }
  }, 60_000);

  it('our scrypt hashes equal node:crypto scrypt over the same parameters', () => {
    for (const pw of passwords) {
      const h = hashPasswordForFile(pw, { scheme: 'scrypt', scrypt: { ln: 10, r: 8, p: 2 } });
      const parsed = parsePasswordHash(h);
      if ('error' in parsed || parsed.scheme !== 'scrypt') throw new Error('expected an scrypt hash');
      const node = scryptSync(Buffer.from(pw, 'utf8'), parsed.salt, parsed.hash.length, { N: 2 ** parsed.ln, r: parsed.r, p: parsed.p });
      expect(new Uint8Array(node)).toEqual(parsed.hash);
    }
  });
});
