import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../random.ts';
import { encodeBase64 } from './base64.ts';
import { fingerprintSha256, parsePublicKeyLine } from './format.ts';
import {
  checkHostKey,
  decideHostKey,
  formatKnownHostsLine,
  hashKnownHostName,
  knownHostKeyTypes,
  knownHostsEntryMatches,
  knownHostsLookupName,
  parseKnownHosts,
  parseStrictHostKeyChecking,
  type HostKeyCheck,
  type HostKeyQuery,
  type KnownHostsEntry,
  type StrictHostKeyChecking,
} from './known-hosts.ts';
import type { PublicKey } from './public-key.ts';

const read = (path: string) => readFileSync(new URL(`../../fixtures/${path}`, import.meta.url), 'utf8');
const key = (name: string): PublicKey => parsePublicKeyLine(read(`keys/${name}.pub`)).key;
const K = {
  ed25519: key('ed25519'),
  ecdsa256: key('ecdsa-256'),
  ecdsa384: key('ecdsa-384'),
  ecdsa521: key('ecdsa-521'),
  rsa2048: key('rsa-2048'),
  rsa3072: key('rsa-3072'),
};

const plain = parseKnownHosts(read('trust/known_hosts'), 'known_hosts');
const hashed = parseKnownHosts(read('trust/known_hosts.hashed'), 'known_hosts.hashed');

const check = (entries: readonly KnownHostsEntry[], q: Partial<HostKeyQuery> & { key: PublicKey; host: string }) =>
  checkHostKey(entries, { port: 22, ...q });
const lines = (c: HostKeyCheck) => c.matches.map((m) => m.entry.line);

describe('parseKnownHosts on the ssh-keyscan / ssh-keygen -H fixtures', () => {
  it('reads every line without warnings', () => {
    expect(plain.warnings).toEqual([]);
    expect(plain.entries).toHaveLength(13);
    expect(hashed.warnings).toEqual([]);
    expect(hashed.entries).toHaveLength(14);
  });

  it('records markers, names, keys, comments and line numbers', () => {
    const byLine = new Map(plain.entries.map((e) => [e.line, e]));
    expect(byLine.get(3)).toMatchObject({ marker: null, names: { kind: 'patterns', patterns: '127.0.0.2' }, keyType: 'ssh-ed25519', comment: '' });
    expect(byLine.get(3)!.key!.blob).toEqual(K.ed25519.blob);
    expect(byLine.get(10)).toMatchObject({ comment: 'server with an address', source: 'known_hosts' });
    expect(byLine.get(15)).toMatchObject({ marker: 'cert-authority', comment: 'host CA' });
    expect(byLine.get(16)).toMatchObject({ marker: 'revoked', names: { kind: 'patterns', patterns: '*' } });
    const h = hashed.entries.find((e) => e.line === 3)!;
    expect(h.names.kind).toBe('hashed');
  });

  it('hashed names are HMAC-SHA1(salt, name) of the lowercased name', () => {
    const h = hashed.entries.find((e) => e.line === 15)!; // Mixed.Case.Example, hashed by ssh-keygen -H
    expect(knownHostsEntryMatches(h, 'mixed.case.example')).toBe(true);
    expect(knownHostsEntryMatches(h, 'Mixed.Case.Example')).toBe(false);
    if (h.names.kind !== 'hashed') throw new Error('expected a hashed entry');
    expect(hashKnownHostName('mixed.case.example', h.names.salt)).toEqual(h.names.hash);
  });
});

describe('checkHostKey', () => {
  for (const [label, file] of [['plain', plain], ['hashed', hashed]] as const) {
    describe(`on the ${label} file`, () => {
      it('trusts a key listed for the host, on port 22 and on another port', () => {
        expect(check(file.entries, { host: '127.0.0.2', key: K.ed25519 }).status).toBe('trusted');
        expect(check(file.entries, { host: '127.0.0.2', port: 2222, key: K.rsa2048 }).status).toBe('trusted');
        expect(check(file.entries, { host: 'server.example.com', key: K.ed25519 }).status).toBe('trusted');
        expect(check(file.entries, { host: '192.0.2.10', key: K.ed25519 }).status).toBe('trusted');
      });

      it('compares host names case-insensitively', () => {
        expect(check(file.entries, { host: 'SERVER.Example.COM', key: K.ed25519 }).status).toBe('trusted');
        expect(check(file.entries, { host: 'mixed.case.example', key: K.ecdsa256 }).status).toBe('trusted');
      });

      it('reports a different key of the same type as changed, with the expected fingerprint', () => {
        const c = check(file.entries, { host: 'server.example.com', key: parsePublicKeyLine(`ssh-ed25519 ${encodeBase64(otherEd25519())}`).key });
        expect(c.status).toBe('changed');
        expect(c.expectedFingerprints).toEqual([fingerprintSha256(K.ed25519.blob)]);
        expect(c.matches).toHaveLength(1);
      });

      it('reports a key of another type as changed too, as OpenSSH does', () => {
        const c = check(file.entries, { host: 'server.example.com', key: K.ecdsa521 });
        expect(c.status).toBe('changed');
        expect(c.expectedFingerprints).toEqual([fingerprintSha256(K.ed25519.blob)]);
      });

      it('says unknown for a host with no entry', () => {
        const c = check(file.entries, { host: 'nowhere.example.net', key: K.ed25519 });
        expect(c.status).toBe('unknown');
        expect(c.matches).toEqual([]);
        expect(c.expectedFingerprints).toBeUndefined();
      });

      it('a revoked key is revoked even where it is also listed as trusted', () => {
        const c = check(file.entries, { host: 'git.example.net', port: 7999, key: K.rsa3072 });
        expect(c.status).toBe('revoked');
        expect(c.matches.map((m) => m.entry.marker)).toEqual(['revoked']);
        expect(check(file.entries, { host: 'anything.example', key: K.rsa3072 }).status).toBe('revoked');
      });

      it('falls back to the bare host name for a port with no entry', () => {
        expect(check(file.entries, { host: 'server.example.com', port: 2200, key: K.ed25519 }).status).toBe('trusted');
        expect(check(file.entries, { host: 'server.example.com', port: 2200, key: K.ecdsa256 }).status).toBe('unknown');
        expect(check(file.entries, { host: '127.0.0.2', port: 2222, key: K.ecdsa384 }).status).toBe('changed');
      });

      it('a host alias (the IP address) counts as the same host', () => {
        expect(check(file.entries, { host: 'new-name.example.net', hostAliases: ['192.0.2.10'], key: K.ed25519 }).status).toBe('trusted');
        expect(check(file.entries, { host: 'new-name.example.net', hostAliases: ['192.0.2.10'], key: K.ecdsa256 }).status).toBe('changed');
      });
    });
  }

  it('honours negated patterns', () => {
    expect(check(plain.entries, { host: 'www.example.org', key: K.ecdsa384 }).status).toBe('trusted');
    expect(check(plain.entries, { host: 'legacy.example.org', key: K.ecdsa384 }).status).toBe('changed');
    expect(check(plain.entries, { host: 'legacy.example.org', key: K.ecdsa521 }).status).toBe('trusted');
  });

  it('trusts a host certificate signed by a @cert-authority CA for that host', () => {
    const c = check(plain.entries, { host: 'www.example.com', key: K.ed25519, certificateAuthority: K.ecdsa384 });
    expect(c.status).toBe('trusted-by-ca');
    expect(lines(c)).toEqual([15]);
    expect(c.certificateAuthority).toBe(K.ecdsa384);
  });

  it('does not let a CA line vouch for excluded hosts or plain keys', () => {
    expect(check(plain.entries, { host: 'untrusted.example.com', key: K.ed25519, certificateAuthority: K.ecdsa384 }).status).toBe('unknown');
    expect(check(plain.entries, { host: 'www.example.com', key: K.ecdsa384 }).status).toBe('unknown');
  });

  it('checks the certified key like a plain key when the CA is not trusted (OpenSSH retries without the certificate)', () => {
    expect(check(plain.entries, { host: 'server.example.com', key: K.ed25519, certificateAuthority: K.ecdsa256 }).status).toBe('trusted');
    expect(check(plain.entries, { host: 'server.example.com', key: K.ecdsa256, certificateAuthority: K.ecdsa256 }).status).toBe('changed');
  });

  it('a revoked CA revokes the certificate', () => {
    const c = check(plain.entries, { host: 'www.example.com', key: K.ed25519, certificateAuthority: K.rsa3072 });
    expect(c.status).toBe('revoked');
  });

  it('lists every known key when several are', () => {
    const c = check(plain.entries, { host: '127.0.0.2', key: K.ecdsa384 });
    expect(c.status).toBe('changed');
    expect(lines(c)).toEqual([2, 3, 4]);
    expect(c.expectedFingerprints).toEqual([K.ecdsa256, K.ed25519, K.rsa2048].map((k) => fingerprintSha256(k.blob)));
  });

  it('reads user files before global ones and reports matches from both', () => {
    const user = parseKnownHosts(`host.example ${K.ed25519.type} ${encodeBase64(K.ed25519.blob)}\n`, '/home/u/.ssh/known_hosts');
    const global = parseKnownHosts(`host.example ${K.ecdsa256.type} ${encodeBase64(K.ecdsa256.blob)}\n`, '/etc/ssh/ssh_known_hosts');
    const entries = [...user.entries, ...global.entries];
    expect(check(entries, { host: 'host.example', key: K.ecdsa256 }).matches.map((m) => m.location)).toEqual(['/etc/ssh/ssh_known_hosts:1']);
    expect(check(entries, { host: 'host.example', key: K.rsa2048 }).matches.map((m) => m.location)).toEqual([
      '/home/u/.ssh/known_hosts:1',
      '/etc/ssh/ssh_known_hosts:1',
    ]);
  });

  it('counts a line with an unsupported key type as a known key, so a new key is "changed", not "unknown"', () => {
    const blob = sshString('ssh-dss', new Uint8Array([1, 2, 3]));
    const f = parseKnownHosts(`old.example ssh-dss ${encodeBase64(blob)}\n`, 'kh');
    expect(f.entries).toHaveLength(1);
    expect(f.entries[0]!.key).toBeNull();
    expect(f.warnings.map((w) => w.code)).toEqual(['unsupported-key-type']);
    expect(check(f.entries, { host: 'old.example', key: K.ed25519 }).status).toBe('changed');
  });
});

describe('knownHostKeyTypes', () => {
  it('lists the plain key types known for a host in file order', () => {
    expect(knownHostKeyTypes(plain.entries, '127.0.0.2', 22)).toEqual(['ecdsa-sha2-nistp256', 'ssh-ed25519', 'ssh-rsa']);
    expect(knownHostKeyTypes(hashed.entries, 'server.example.com', 22)).toEqual(['ssh-ed25519']);
    expect(knownHostKeyTypes(plain.entries, 'server.example.com', 2200)).toEqual(['ssh-ed25519']);
    expect(knownHostKeyTypes(plain.entries, 'www.example.com', 22)).toEqual([]);
  });
});

describe('parseKnownHosts warnings', () => {
  const ed = `ssh-ed25519 ${encodeBase64(K.ed25519.blob)}`;
  const cases: Array<[string, string, RegExp]> = [
    ['unknown marker', `@cert-authorty host ${ed}`, /unknown marker "@cert-authorty"; the markers are @cert-authority and @revoked/],
    ['two markers', `@revoked @cert-authority host ${ed}`, /more than one marker/],
    ['marker alone', '@revoked', /followed by nothing/],
    ['no key', 'host.example', /host names but no key/],
    ['truncated key', 'host.example ssh-ed25519', /key is missing or incomplete/],
    ['bad base64', 'host.example ssh-ed25519 AAAA$$$$', /not valid base64.*copy the key again/],
    ['type mismatch', `host.example ssh-rsa ${encodeBase64(K.ed25519.blob)}`, /says "ssh-rsa" but the key inside is "ssh-ed25519"; fix the key type word/],
    ['not a blob', 'host.example ssh-ed25519 AAAA', /not an SSH public key/],
    ['SSH-1 key', 'host.example 1024 35 12345', /SSH-1 RSA key/],
    ['bad hash magic', `|2|abc|def ${ed}`, /not a hashed host name this program knows/],
    ['hash with comma', `|1|${encodeBase64(new Uint8Array(20))}|${encodeBase64(new Uint8Array(20))},other ${ed}`, /must be alone in its field/],
    ['short salt', `|1|${encodeBase64(new Uint8Array(8))}|${encodeBase64(new Uint8Array(20))} ${ed}`, /20-byte salt and hash.*8 and 20/],
    ['hash not base64', `|1|!!!!|${encodeBase64(new Uint8Array(20))} ${ed}`, /not valid base64/],
  ];
  for (const [label, line, message] of cases) {
    it(`${label}: skipped with file:line and a fix`, () => {
      const f = parseKnownHosts(`# first\n\n${line}\nok.example ${ed}\n`, '/home/u/.ssh/known_hosts');
      expect(f.entries.map((e) => e.line)).toEqual([4]);
      expect(f.warnings).toHaveLength(1);
      expect(f.warnings[0]!.line).toBe(3);
      expect(f.warnings[0]!.message.startsWith('/home/u/.ssh/known_hosts:3: ')).toBe(true);
      expect(f.warnings[0]!.message).toMatch(message);
    });
  }

  it('keeps a line with an unusable key (as "known"), with a warning to replace it', () => {
    const f = parseKnownHosts(`host.example ssh-ed25519 ${encodeBase64(sshString('ssh-ed25519', new Uint8Array(31)))}\n`, 'kh');
    expect(f.entries).toHaveLength(1);
    expect(f.entries[0]!.key).toBeNull();
    expect(f.warnings[0]).toMatchObject({ code: 'invalid-line', line: 1 });
    expect(f.warnings[0]!.message).toMatch(/^kh:1: the ssh-ed25519 key is invalid \(.*\); the line still marks its hosts as known/);
    expect(check(f.entries, { host: 'host.example', key: K.ed25519 }).status).toBe('changed');
  });

  it('warns about [host]:22, which is never looked up, but keeps the line', () => {
    const f = parseKnownHosts(`[host.example]:22 ${ed}\n`, 'kh');
    expect(f.entries).toHaveLength(1);
    expect(f.warnings[0]).toMatchObject({ code: 'never-matches', line: 1 });
    expect(f.warnings[0]!.message).toMatch(/port 22 is looked up as the bare name "host.example"/);
  });

  it('accepts CRLF line ends, tabs, leading blanks and a missing final newline', () => {
    const f = parseKnownHosts(`  host.a\tssh-ed25519\t${encodeBase64(K.ed25519.blob)}\tc1\r\n\t# c\r\nhost.b ${ed}`, 'kh');
    expect(f.warnings).toEqual([]);
    expect(f.entries.map((e) => [e.line, e.comment])).toEqual([[1, 'c1'], [3, '']]);
  });
});

describe('formatKnownHostsLine', () => {
  it('writes the lookup name, lowercased, with [host]:port for other ports', () => {
    expect(knownHostsLookupName('Host.Example', 22)).toBe('host.example');
    expect(knownHostsLookupName('::1', 2222)).toBe('[::1]:2222');
    expect(formatKnownHostsLine('Host.Example', 22, K.ed25519)).toBe(`host.example ssh-ed25519 ${encodeBase64(K.ed25519.blob)}`);
    expect(formatKnownHostsLine('192.0.2.1', 2222, K.ed25519, { comment: 'added by hermit' })).toBe(
      `[192.0.2.1]:2222 ssh-ed25519 ${encodeBase64(K.ed25519.blob)} added by hermit`,
    );
    expect(formatKnownHostsLine('ca.example', 22, K.ecdsa256, { marker: 'cert-authority' })).toMatch(/^@cert-authority ca\.example ecdsa-sha2-nistp256 /);
  });

  it('hashes with a fresh salt and the result matches on lookup', () => {
    const random = seededRandom('known hosts');
    const a = formatKnownHostsLine('Host.Example', 2222, K.ed25519, { hash: true, random });
    const b = formatKnownHostsLine('Host.Example', 2222, K.ed25519, { hash: true, random });
    expect(a).toMatch(/^\|1\|[A-Za-z0-9+/]{27}=\|[A-Za-z0-9+/]{27}= ssh-ed25519 /);
    expect(a).not.toBe(b);
    const f = parseKnownHosts(`${a}\n${b}\n`, 'kh');
    expect(f.warnings).toEqual([]);
    expect(check(f.entries, { host: 'host.example', port: 2222, key: K.ed25519 }).status).toBe('trusted');
    expect(check(f.entries, { host: 'host.example', port: 22, key: K.ed25519 }).status).toBe('unknown');
  });

  it('refuses names that would corrupt the file or turn into patterns', () => {
    for (const bad of ['', 'a b', 'a,b', '*.x', 'h?', '!h', '[h]', 'h#', 'a|b', "a'b", 'a"b', 'a\\b', 'a\nb', 'u@h']) {
      expect(() => formatKnownHostsLine(bad, 22, K.ed25519), bad).toThrow(RangeError);
    }
    expect(() => formatKnownHostsLine('h', 70000, K.ed25519)).toThrow(/invalid port/);
    expect(() => formatKnownHostsLine('h', 22, K.ed25519, { comment: 'a\nb' })).toThrow(/line break/);
  });
});

describe('decideHostKey (StrictHostKeyChecking)', () => {
  const modes: StrictHostKeyChecking[] = ['yes', 'accept-new', 'no', 'ask'];
  const trusted = check(plain.entries, { host: '127.0.0.2', key: K.ed25519 });
  const byCa = check(plain.entries, { host: 'www.example.com', key: K.ed25519, certificateAuthority: K.ecdsa384 });
  const unknown = check(plain.entries, { host: 'new.example.net', port: 2022, key: K.ed25519 });
  const changed = check(plain.entries, { host: 'server.example.com', key: K.ecdsa256 });
  const revoked = check(plain.entries, { host: 'git.example.net', port: 7999, key: K.rsa3072 });

  it('parses the ssh_config(5) spellings', () => {
    expect(['yes', 'no', 'off', 'ask', 'accept-new', 'YES', 'true', 'false', 'maybe'].map(parseStrictHostKeyChecking)).toEqual([
      'yes', 'no', 'no', 'ask', 'accept-new', 'yes', 'yes', 'no', null,
    ]);
  });

  it('accepts known keys in every mode and adds nothing', () => {
    for (const mode of modes) {
      expect(decideHostKey(trusted, mode)).toEqual({ accept: true, addToFile: false });
      expect(decideHostKey(byCa, mode)).toEqual({ accept: true, addToFile: false });
    }
  });

  it('unknown: yes refuses, accept-new and no add, ask asks', () => {
    const yes = decideHostKey(unknown, 'yes', { userKnownHostsFile: '/home/u/.ssh/known_hosts' });
    expect(yes).toMatchObject({ accept: false, addToFile: false, error: { code: 'HOST_KEY_UNKNOWN' } });
    expect(yes.error!.message).toContain(unknown.fingerprint);
    expect(yes.error!.message).toContain(`add this line to /home/u/.ssh/known_hosts:\n  [new.example.net]:2022 ssh-ed25519 ${encodeBase64(K.ed25519.blob)}`);
    expect(yes.error!.message).toContain('StrictHostKeyChecking=yes');
    expect(decideHostKey(unknown, 'accept-new')).toMatchObject({ accept: true, addToFile: true });
    expect(decideHostKey(unknown, 'accept-new').warning).toMatch(/Permanently added '\[new\.example\.net\]:2022'/);
    expect(decideHostKey(unknown, 'no')).toMatchObject({ accept: true, addToFile: true });
    const ask = decideHostKey(unknown, 'ask');
    expect(ask).toMatchObject({ accept: false, addToFile: false, error: { code: 'HOST_KEY_UNKNOWN' } });
    expect(ask.confirm!.prompt).toContain(`ssh-ed25519 key fingerprint is ${unknown.fingerprint}`);
    expect(ask.confirm!.prompt).toMatch(/continue connecting \(yes\/no\)\? $/);
  });

  it('changed: refused with both fingerprints, the offending file:line and the ssh-keygen -R fix', () => {
    for (const mode of ['yes', 'accept-new', 'ask'] as const) {
      const d = decideHostKey(changed, mode);
      expect(d).toMatchObject({ accept: false, addToFile: false, error: { code: 'HOST_KEY_CHANGED' } });
      const m = d.error!.message;
      expect(m).toContain(`presented ${fingerprintSha256(K.ecdsa256.blob)} (ecdsa-sha2-nistp256)`);
      expect(m).toContain(`${fingerprintSha256(K.ed25519.blob)} (ssh-ed25519) from known_hosts:10`);
      expect(m).toContain('ssh-keygen -R server.example.com -f known_hosts');
      expect(m).toContain(`StrictHostKeyChecking=${mode} refuses changed host keys`);
    }
  });

  it('changed under no: connects with password, keyboard-interactive and forwarding disabled, adds nothing', () => {
    const d = decideHostKey(changed, 'no');
    expect(d).toMatchObject({
      accept: true,
      addToFile: false,
      restrictions: {
        passwordAuthentication: false,
        keyboardInteractiveAuthentication: false,
        agentForwarding: false,
        x11Forwarding: false,
        portForwarding: false,
        tunnelForwarding: false,
        updateHostKeys: false,
      },
    });
    expect(d.error).toBeUndefined();
    expect(d.warning).toMatch(/^WARNING: The host key of server\.example\.com has changed/);
    expect(d.warning).toContain('known_hosts:10');
  });

  it('changed: quotes [host]:port for the shell and points at wildcard lines instead of removing them', () => {
    const d = decideHostKey(check(plain.entries, { host: '127.0.0.2', port: 2222, key: K.ecdsa384 }), 'yes');
    expect(d.error!.message).toContain("ssh-keygen -R '[127.0.0.2]:2222' -f known_hosts");
    const w = decideHostKey(check(plain.entries, { host: 'www.example.org', key: K.ed25519 }), 'yes');
    expect(w.error!.message).toContain('edit line 11 of known_hosts (it applies to "*.example.org,!legacy.example.org", not only this host)');
    expect(w.error!.message).not.toContain('ssh-keygen -R');
  });

  it('revoked: refused in every mode, naming the @revoked line', () => {
    for (const mode of modes) {
      const d = decideHostKey(revoked, mode);
      expect(d).toMatchObject({ accept: false, addToFile: false, error: { code: 'HOST_KEY_REVOKED' } });
      expect(d.error!.message).toContain('marked @revoked in known_hosts:16');
      expect(d.error!.message).toContain(fingerprintSha256(K.rsa3072.blob));
    }
    const ca = decideHostKey(check(plain.entries, { host: 'www.example.com', key: K.ed25519, certificateAuthority: K.rsa3072 }), 'no');
    expect(ca.error!.message).toContain('the certificate authority that signed its host certificate');
  });
});

/** A second, valid Ed25519 public key that is not a fixture key. */
function otherEd25519(): Uint8Array {
  // RFC 8032 section 7.1, TEST 1 public key.
  const pk = Uint8Array.from(Buffer.from('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', 'hex'));
  return sshString('ssh-ed25519', pk);
}

function sshString(type: string, data: Uint8Array): Uint8Array {
  const t = new TextEncoder().encode(type);
  const out = new Uint8Array(8 + t.length + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, t.length);
  out.set(t, 4);
  dv.setUint32(4 + t.length, data.length);
  out.set(data, 8 + t.length);
  return out;
}
