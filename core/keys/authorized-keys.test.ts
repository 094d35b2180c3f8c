import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  civilToUnixSeconds,
  findAuthorizedKey,
  parseAuthorizedKeyOptions,
  parseAuthorizedKeys,
  parseExpiryTime,
  sessionPolicy,
  type AuthorizedKeyOptions,
} from './authorized-keys.ts';
import { encodeBase64 } from './base64.ts';
import { parsePublicKeyLine } from './format.ts';
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
const ed = `ssh-ed25519 ${encodeBase64(K.ed25519.blob)}`;
const utc = (...a: [number, number, number, number?, number?, number?]) => Date.UTC(a[0], a[1] - 1, a[2], a[3] ?? 0, a[4] ?? 0, a[5] ?? 0) / 1000;
const NOW = utc(2026, 6, 1);

const file = parseAuthorizedKeys(read('trust/authorized_keys'), 'authorized_keys');
const at = (line: number) => file.entries.find((e) => e.line === line)!;

function opts(text: string): AuthorizedKeyOptions {
  const o = parseAuthorizedKeyOptions(text);
  if ('error' in o) throw new Error(o.error);
  return o;
}
function optError(text: string): string {
  const o = parseAuthorizedKeyOptions(text);
  if (!('error' in o)) throw new Error(`expected "${text}" to be refused`);
  return o.error;
}

describe('parseAuthorizedKeys on fixtures/trust/authorized_keys (every option)', () => {
  it('reads all lines without warnings', () => {
    expect(file.warnings).toEqual([]);
    expect(file.entries.map((e) => e.line)).toEqual([2, 3, 4, 5, 6, 7, 8]);
  });

  it('a line without options gets the permissive defaults', () => {
    expect(at(2).optionsText).toBe('');
    expect(at(2).comment).toBe('hermit-fixture-ed25519');
    expect(sessionPolicy(at(2).options)).toEqual({
      pty: true,
      portForwarding: true,
      agentForwarding: true,
      x11Forwarding: true,
      userRc: true,
      tunnelForwarding: true,
      permitOpen: null,
      permitListen: null,
      environment: {},
      touchRequired: true,
      verifyRequired: false,
    });
  });

  it('restrict,pty,command="…" with escaped quotes', () => {
    const e = at(3);
    expect(e.optionsText).toBe('restrict,pty,command="echo \\"quoted\\" && uptime"');
    expect(e.options).toMatchObject({ restrict: true, pty: true, portForwarding: false, agentForwarding: false, x11Forwarding: false, userRc: false });
    expect(e.options.command).toBe('echo "quoted" && uptime');
    expect(e.comment).toBe('forced command');
    expect(sessionPolicy(e.options)).toMatchObject({ forcedCommand: 'echo "quoted" && uptime', tunnelForwarding: false, pty: true });
  });

  it('from= and the no-* flags', () => {
    expect(at(4).options).toMatchObject({
      from: '192.0.2.0/24,!192.0.2.66,2001:db8::/32,*.trusted.example',
      pty: false,
      portForwarding: false,
      agentForwarding: false,
      x11Forwarding: false,
      userRc: false,
      restrict: false,
    });
  });

  it('permitopen, permitlisten, environment (first wins), tunnel, expiry-time', () => {
    const o = at(5).options;
    expect(o.permitOpen).toEqual([{ host: 'db.internal', port: 5432 }, { host: '2001:db8::1', port: '*' }]);
    expect(o.permitListen).toEqual([{ host: '*', port: 8080 }, { host: 'localhost', port: 9000 }]);
    expect(o.environment).toEqual([{ name: 'LANG', value: 'C.UTF-8' }, { name: 'PATH', value: '/opt/bin:/usr/bin' }]);
    expect(o.tunnel).toBe(3);
    expect(o.expiresAt).toBe(utc(2099, 12, 31));
    expect(sessionPolicy(o)).toMatchObject({
      permitOpen: o.permitOpen,
      permitListen: o.permitListen,
      environment: { LANG: 'C.UTF-8', PATH: '/opt/bin:/usr/bin' },
      tunnelDevice: 3,
      expiresAt: utc(2099, 12, 31),
    });
  });

  it('cert-authority with principals and the FIDO flags', () => {
    expect(at(6).options).toMatchObject({ certAuthority: true, principals: ['alice', 'deploy'], touchRequired: false, verifyRequired: true });
  });

  it('keywords are case-insensitive', () => {
    expect(at(7).options).toMatchObject({ restrict: true, expiresAt: utc(2020, 1, 1, 12) });
  });
});

describe('findAuthorizedKey', () => {
  const entries = file.entries;

  it('finds a plain key and returns its policy', () => {
    const m = findAuthorizedKey(entries, { key: K.ecdsa256, now: NOW });
    expect(m!.entry.line).toBe(3);
    expect(m!.policy.forcedCommand).toBe('echo "quoted" && uptime');
    expect(findAuthorizedKey(entries, { key: K.ed25519, now: NOW })!.entry.line).toBe(2);
  });

  it('returns null for an unknown key', () => {
    const other = parsePublicKeyLine(read('keys/certs/user-ca-ed25519.pub')).key;
    expect(findAuthorizedKey(entries, { key: other, now: NOW })).toBeNull();
  });

  it('a CA key authorizes certificates only, and a plain key never matches a cert-authority line', () => {
    expect(findAuthorizedKey(entries, { key: K.rsa3072, now: NOW })).toBeNull();
    const m = findAuthorizedKey(entries, { key: K.ed25519, certificateCa: K.rsa3072, now: NOW });
    expect(m!.entry.line).toBe(6);
    expect(m!.policy.principals).toEqual(['alice', 'deploy']);
    expect(findAuthorizedKey(entries, { key: K.rsa3072, certificateCa: K.ed25519, now: NOW })).toBeNull();
  });

  it('skips an expired line and goes on to a later line for the same key', () => {
    expect(findAuthorizedKey(entries, { key: K.rsa2048, clientAddress: '127.0.0.1', now: NOW })!.entry.line).toBe(8);
    expect(findAuthorizedKey(entries, { key: K.rsa2048, clientAddress: '127.0.0.1', now: utc(2019, 1, 1) })!.entry.line).toBe(7);
    // Still valid at the instant itself, as sshd (expired only when the time is past).
    expect(findAuthorizedKey(entries, { key: K.rsa2048, clientAddress: '10.0.0.1', now: utc(2020, 1, 1, 12) })!.entry.line).toBe(7);
    expect(findAuthorizedKey(entries, { key: K.rsa2048, clientAddress: '10.0.0.1', now: utc(2020, 1, 1, 12) + 1 })).toBeNull();
    expect(findAuthorizedKey(entries, { key: K.ecdsa521, now: utc(2100, 1, 1) })).toBeNull();
  });

  it('checks from= against the client address and host name', () => {
    const q = (clientAddress?: string, clientHostname?: string) =>
      findAuthorizedKey(entries, { key: K.ecdsa384, now: NOW, ...(clientAddress ? { clientAddress } : {}), ...(clientHostname ? { clientHostname } : {}) });
    expect(q('192.0.2.7')).not.toBeNull();
    expect(q('::ffff:192.0.2.7')).not.toBeNull();
    expect(q('2001:db8:1::9')).not.toBeNull();
    expect(q('192.0.2.66')).toBeNull();
    expect(q('198.51.100.1')).toBeNull();
    expect(q('198.51.100.1', 'build.trusted.example')).not.toBeNull();
    expect(q(undefined, 'build.trusted.example')).toBeNull();
    expect(q()).toBeNull();
    expect(findAuthorizedKey(entries, { key: K.rsa2048, clientAddress: '::1', now: NOW })!.entry.line).toBe(8);
    expect(findAuthorizedKey(entries, { key: K.rsa2048, clientAddress: '127.0.0.2', now: NOW })).toBeNull();
  });

  it('an environment variable named __proto__ stays an ordinary entry', () => {
    const p = sessionPolicy(opts('environment="__proto__=x",environment="A=1"'));
    expect(Object.getPrototypeOf(p.environment)).toBe(Object.prototype);
    expect(Object.keys(p.environment)).toEqual(['__proto__', 'A']);
    expect(p.environment['A']).toBe('1');
  });
});

describe('option parsing', () => {
  it('applies flags in order: restrict clears, a later positive flag re-enables', () => {
    expect(opts('restrict,pty')).toMatchObject({ pty: true, portForwarding: false });
    expect(opts('pty,restrict')).toMatchObject({ pty: false });
    expect(opts('restrict,port-forwarding,agent-forwarding,x11-forwarding,user-rc')).toMatchObject({
      portForwarding: true, agentForwarding: true, x11Forwarding: true, userRc: true, pty: false,
    });
    expect(sessionPolicy(opts('restrict,port-forwarding')).tunnelForwarding).toBe(false);
    expect(opts('no-pty,pty')).toMatchObject({ pty: true });
    expect(opts('NO-PTY,No-X11-Forwarding,touch-required,no-verify-required')).toMatchObject({ pty: false, x11Forwarding: false, touchRequired: true, verifyRequired: false });
  });

  it('reads quoted values with blanks, commas and escaped quotes; other backslashes stay', () => {
    expect(opts('command="a, b \\"c\\" \\\\n d"').command).toBe('a, b "c" \\\\n d');
    expect(opts('command=""').command).toBe('');
  });

  it('keeps the earliest expiry-time, and reads the tunnel forms', () => {
    expect(opts('expiry-time="20300101",expiry-time="20250101"').expiresAt).toBe(utc(2025, 1, 1));
    expect(opts('tunnel="any"').tunnel).toBe('any');
    expect(opts('tunnel="0"').tunnel).toBe(0);
  });

  it.each([
    ['unknown option', 'no-ptty', /unknown option "no-ptty"/],
    ['misspelt', 'permit-open="a:1"', /unknown option "permit-open"/],
    ['valued without value', 'command', /needs a value: command="…"/],
    ['flag with value', 'pty="yes"', /takes no value; write just pty/],
    ['unquoted value', 'command=ls', /value in double quotes/],
    ['unterminated quote', 'command="ls', /no closing double quote/],
    ['trailing comma', 'pty,', /end with a comma/],
    ['garbage after value', 'command="a"b', /expected a comma after option "command"/],
    ['duplicate command', 'command="a",command="b"', /more than one command= option/],
    ['duplicate from', 'from="a",from="b"', /more than one from=/],
    ['duplicate principals', 'principals="a",principals="b"', /more than one principals=/],
    ['environment without =', 'environment="PATH"', /NAME=value/],
    ['environment bad name', 'environment="MY-VAR=1"', /NAME=value/],
    ['permitopen without port', 'permitopen="host"', /has no port/],
    ['permitopen bad port', 'permitopen="host:99999"', /not a port; use 1-65535 or \*/],
    ['permitopen port 0', 'permitopen="host:0"', /not a port/],
    ['permitopen bare v6', 'permitopen="2001:db8::1:22"', /put an IPv6 address in brackets/],
    ['permitopen empty host', 'permitopen=":22"', /no host name/],
    ['permitopen unclosed bracket', 'permitopen="[::1:22"', /must be followed by :port/],
    ['permitlisten bad', 'permitlisten="x"', /not a port/],
    ['tunnel bad', 'tunnel="tun0"', /not a tun device number/],
    ['expiry bad format', 'expiry-time="2025-01-01"', /write YYYYMMDD/],
    ['expiry bad date', 'expiry-time="20250230"', /not a valid date/],
    ['expiry bad hour', 'expiry-time="202501012400"', /not a valid date/],
    ['expiry epoch', 'expiry-time="19700101Z"', /not after 1970/],
    ['space outside quotes', 'pty, no-pty', /unexpected " no-pty"/],
  ])('%s: %s', (_label, text, message) => {
    expect(optError(text)).toMatch(message);
  });
});

describe('expiry-time', () => {
  it.each([
    ['20250102', utc(2025, 1, 2)],
    ['20250102Z', utc(2025, 1, 2)],
    ['20250102z', utc(2025, 1, 2)],
    ['202501021304', utc(2025, 1, 2, 13, 4)],
    ['20250102130405Z', utc(2025, 1, 2, 13, 4, 5)],
    ['20250102130405UTC', utc(2025, 1, 2, 13, 4, 5)],
    ['20240229', utc(2024, 2, 29)],
    ['20000229', utc(2000, 2, 29)],
    ['21000301', utc(2100, 3, 1)],
  ])('%s', (text, expected) => {
    expect(parseExpiryTime(text)).toBe(expected);
  });

  it('rejects impossible dates', () => {
    for (const t of ['21000229', '20230229', '20251301', '20250100', '2025010', '20250101123', 'x0250101']) {
      expect(parseExpiryTime(t), t).toEqual({ error: expect.any(String) });
    }
  });

  it('hands unsuffixed times to the local-time resolver and keeps Z times in UTC', () => {
    const plusTwo = (t: Parameters<typeof civilToUnixSeconds>[0]) => civilToUnixSeconds(t) - 7200;
    expect(parseExpiryTime('202501021304', plusTwo)).toBe(utc(2025, 1, 2, 11, 4));
    expect(parseExpiryTime('202501021304Z', plusTwo)).toBe(utc(2025, 1, 2, 13, 4));
    const f = parseAuthorizedKeys(`expiry-time="20250102" ${ed}\n`, 'ak', { localTime: plusTwo });
    expect(f.entries[0]!.options.expiresAt).toBe(utc(2025, 1, 1, 22));
  });

  it('civilToUnixSeconds agrees with Date.UTC across four centuries', () => {
    for (let y = 1970; y <= 2400; y += 7) {
      for (const [m, d] of [[1, 1], [2, 28], [3, 1], [12, 31]] as const) {
        expect(civilToUnixSeconds({ year: y, month: m, day: d, hour: 5, minute: 6, second: 7 })).toBe(utc(y, m, d, 5, 6, 7));
      }
    }
  });
});

describe('parseAuthorizedKeys warnings', () => {
  const cases: Array<[string, string, 'invalid-line' | 'unsupported-key-type' | 'never-matches', RegExp]> = [
    ['bad option', `no-ptty ${ed}`, 'invalid-line', /bad options, the key on this line is not usable: unknown option "no-ptty"/],
    ['unclosed quote', `command="ls ${ed}`, 'invalid-line', /double quote in the options is never closed/],
    ['options only', 'restrict,pty', 'invalid-line', /found no key/],
    ['options and no key', 'restrict ssh-ed25519', 'invalid-line', /key is missing or incomplete/],
    ['bad base64', 'ssh-ed25519 AAAA$$$$ c', 'invalid-line', /not valid base64/],
    ['unsupported type', `ssh-dss ${encodeBase64(new Uint8Array([0, 0, 0, 7, ...new TextEncoder().encode('ssh-dss'), 0, 0, 0, 1, 5]))}`, 'unsupported-key-type', /"ssh-dss" is not supported/],
    ['principals on a plain key', `principals="alice" ${ed}`, 'never-matches', /principals= only applies to cert-authority lines/],
    ['invalid from network', `from="10.1.2.3/8" ${ed}`, 'never-matches', /from="10\.1\.2\.3\/8" is invalid .*bits set/],
    ['SSH-1 key', '1024 35 1234567 old', 'unsupported-key-type', /SSH-1 RSA key/],
    ['invalid key', `ssh-ed25519 ${encodeBase64(new Uint8Array([0, 0, 0, 11, ...new TextEncoder().encode('ssh-ed25519'), 0, 0, 0, 31, ...new Uint8Array(31)]))}`, 'invalid-line', /key is invalid .*so it cannot log in; replace it/],
  ];
  for (const [label, line, code, message] of cases) {
    it(`${label}: skipped with file:line`, () => {
      const f = parseAuthorizedKeys(`# c\n${line}\n${ed} ok\n`, '/home/alice/.ssh/authorized_keys');
      expect(f.entries.map((e) => e.line)).toEqual([3]);
      expect(f.warnings).toHaveLength(1);
      expect(f.warnings[0]).toMatchObject({ line: 2, code });
      expect(f.warnings[0]!.message.startsWith('/home/alice/.ssh/authorized_keys:2: ')).toBe(true);
      expect(f.warnings[0]!.message).toMatch(message);
    });
  }

  it('reads options before the key whatever the key type, and blanks inside quotes', () => {
    const f = parseAuthorizedKeys(`command="echo a b",from="*" \t${ed}   spaced   comment  \r\n`, 'ak');
    expect(f.warnings).toEqual([]);
    expect(f.entries[0]!.options.command).toBe('echo a b');
    expect(f.entries[0]!.comment).toBe('spaced   comment');
  });
});
