import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../random.ts';
import { constantTimeEqual, constantTimeEqualString } from './constant-time.ts';
import {
  DEFAULT_SCRYPT_PARAMS,
  DEFAULT_SHA_CRYPT_ROUNDS,
  MAX_PASSWORD_BYTES,
  hashPassword,
  parsePasswordFile,
  parsePasswordHash,
  shaCrypt,
  verifyPassword,
} from './password-hash.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/trust/${name}`, import.meta.url), 'utf8');
type Vector = { password: string; setting: string; expected: string; by: string };
const vectors = JSON.parse(fixture('crypt-vectors.json')) as Vector[];

describe('SHA-crypt against crypt(3) and openssl passwd (fixtures/trust/crypt-vectors.json)', () => {
  it('has vectors from both tools', () => {
    expect(vectors.filter((v) => v.by.startsWith('perl')).length).toBeGreaterThanOrEqual(60);
    expect(vectors.filter((v) => v.by.startsWith('openssl')).length).toBeGreaterThanOrEqual(16);
  });

  for (const v of vectors) {
    it(`${v.by}: ${JSON.stringify(v.password.length > 12 ? `${v.password.slice(0, 12)}…(${v.password.length})` : v.password)} with ${v.setting}`, () => {
      expect(shaCrypt(v.password, v.setting)).toBe(v.expected);
      expect(verifyPassword(v.password, v.expected)).toBe(true);
      expect(verifyPassword(`${v.password}!`, v.expected)).toBe(false);
    });
  }

  it('matches the two examples of the specification text that also appear above', () => {
    // Drepper, "Unix crypt using SHA-256 and SHA-512", test vectors 1 (both hashes).
    expect(shaCrypt('Hello world!', '$6$saltstring')).toBe(
      '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1',
    );
    expect(shaCrypt('Hello world!', '$5$saltstring')).toBe('$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5');
  });

  it('cuts the salt at 16 characters and clamps rounds like the specification', () => {
    expect(shaCrypt('pw', '$6$rounds=10$abc')).toBe(shaCrypt('pw', '$6$rounds=1000$abc'));
    expect(shaCrypt('pw', '$6$0123456789abcdefEXTRA').startsWith('$6$0123456789abcdef$')).toBe(true);
  });
});

describe('password-file hashes (fixtures/trust/passwd)', () => {
  const file = parsePasswordFile(fixture('passwd'), 'fixtures/trust/passwd');

  it('reads the openssl and mkpasswd lines and refuses yescrypt with a warning naming the line', () => {
    expect([...file.users.keys()]).toEqual(['alice', 'bob', 'carol', 'dave']);
    expect(file.warnings).toHaveLength(1);
    expect(file.warnings[0]!.line).toBe(6);
    expect(file.warnings[0]!.message).toMatch(/^fixtures\/trust\/passwd:6: user "erin": yescrypt \(\$y\$\) hashes are not supported; set the password again/);
  });

  it.each([
    ['alice', 'alice password'],
    ['bob', 'bob password'],
    ['carol', 'carol pässword'],
    ['dave', 'dave password'],
  ])('%s verifies with the right password only', (user, password) => {
    const hash = file.users.get(user)!;
    expect(verifyPassword(password, hash)).toBe(true);
    expect(verifyPassword(password.toUpperCase(), hash)).toBe(false);
    expect(verifyPassword('', hash)).toBe(false);
  });
});

describe('hashPassword', () => {
  const random = seededRandom('password-hash test');

  it('writes sha512-crypt by default with the documented rounds and a 16-character salt', () => {
    const h = hashPassword('s3cret', random, { rounds: 1000 });
    expect(h).toMatch(/^\$6\$rounds=1000\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/);
    expect(verifyPassword('s3cret', h)).toBe(true);
    expect(verifyPassword('s3cret ', h)).toBe(false);
    expect(hashPassword('x', seededRandom('a'))).toMatch(new RegExp(`^\\$6\\$rounds=${DEFAULT_SHA_CRYPT_ROUNDS}\\$`));
  });

  it('writes sha256-crypt', () => {
    const h = hashPassword('s3cret', random, { scheme: 'sha256-crypt', rounds: 1000 });
    expect(h).toMatch(/^\$5\$rounds=1000\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{43}$/);
    expect(verifyPassword('s3cret', h)).toBe(true);
  });

  it('writes $scrypt$ln=…,r=…,p=…$salt$hash with unpadded base64', () => {
    const h = hashPassword('s3cret', random, { scheme: 'scrypt', scrypt: { ln: 4, r: 8, p: 1 } });
    expect(h).toMatch(/^\$scrypt\$ln=4,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(verifyPassword('s3cret', h)).toBe(true);
    expect(verifyPassword('S3cret', h)).toBe(false);
    expect(DEFAULT_SCRYPT_PARAMS).toEqual({ ln: 14, r: 8, p: 1 });
  });

  it('draws different salts from the random source', () => {
    expect(hashPassword('same', random, { rounds: 1000 })).not.toBe(hashPassword('same', random, { rounds: 1000 }));
  });

  it('refuses bad parameters and over-long passwords', () => {
    expect(() => hashPassword('x', random, { rounds: 999 })).toThrow(RangeError);
    expect(() => hashPassword('x', random, { scheme: 'scrypt', scrypt: { ln: 30, r: 8, p: 1 } })).toThrow(/out of range/);
    expect(() => hashPassword('x'.repeat(MAX_PASSWORD_BYTES + 1), random)).toThrow(/limited/);
    expect(verifyPassword('x'.repeat(MAX_PASSWORD_BYTES + 1), hashPassword('x', random, { rounds: 1000 }))).toBe(false);
  });
});

describe('parsePasswordHash', () => {
  it.each([
    ['', /no usable password/],
    ['*', /no usable password/],
    ['!$6$abc$def', /no usable password/],
    ['$1$abc$defdefdef', /MD5-crypt/],
    ['$2b$12$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234', /bcrypt/],
    ['$y$j9T$salt$hash', /yescrypt/],
    ['$6$salt$tooShort', /86/],
    ['$5$salt$tooShort', /43/],
    ['$6$rounds=999$salt$' + 'a'.repeat(86), /rounds=999 is outside/],
    ['$6$0123456789abcdefg$' + 'a'.repeat(86), /longer than 16/],
    ['$scrypt$ln=4,r=8$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA', /malformed scrypt/],
    ['$scrypt$ln=30,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA', /out of range/],
    ['$scrypt$ln=4,r=8,p=1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA', /salt of 4 bytes/],
    ['$scrypt$ln=4,r=8,p=1$c2FsdHNhbHR$aGFzaGhhc2hoYXNoaGFzaA', /not valid unpadded base64/],
    ['plaintext', /unrecognised hash format/],
  ])('%s is refused', (hash, message) => {
    const r = parsePasswordHash(hash);
    expect('error' in r && r.error).toMatch(message);
    expect(verifyPassword('anything', hash)).toBe(false);
  });

  it('never echoes the hash in its messages', () => {
    const r = parsePasswordHash('$6$secretsalt$shortsecret');
    expect('error' in r && r.error).not.toMatch(/secret/);
  });
});

describe('parsePasswordFile', () => {
  it('skips comments and blanks, takes shadow-style lines, keeps the first of a repeated user and names every bad line', () => {
    const good = hashPassword('pw', seededRandom('f'), { rounds: 1000 });
    const text = [
      '# comment',
      '',
      `root:${good}:19000:0:99999:7:::`,
      'nocolon',
      ` spaced user:${good}`,
      `root:${good}`,
      'mallory:$1$abc$def',
      `slow:$6$rounds=9000000$salt$${'a'.repeat(86)}`,
      `crlf:${good}\r`,
    ].join('\n');
    const f = parsePasswordFile(text, 'users.txt');
    expect([...f.users.keys()]).toEqual(['root', 'slow', 'crlf']);
    expect(f.users.get('root')).toBe(good);
    expect(f.warnings.map((w) => w.line)).toEqual([4, 5, 6, 7, 8]);
    expect(f.warnings[0]!.message).toMatch(/^users\.txt:4: expected "user:hash"/);
    expect(f.warnings[1]!.message).toMatch(/not a user name/);
    expect(f.warnings[2]!.message).toMatch(/appears again; only the first line counts/);
    expect(f.warnings[3]!.message).toMatch(/users\.txt:7: user "mallory": MD5-crypt/);
    expect(f.warnings[4]!.message).toMatch(/9000000 rounds make each login attempt take seconds/);
    expect(verifyPassword('pw', f.users.get('crlf')!)).toBe(true);
  });
});

describe('constant-time comparison', () => {
  it('compares bytes and UTF-8 strings', () => {
    expect(constantTimeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3]))).toBe(true);
    expect(constantTimeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4]))).toBe(false);
    expect(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2, 3]))).toBe(false);
    expect(constantTimeEqual(new Uint8Array(0), new Uint8Array(0))).toBe(true);
    expect(constantTimeEqualString('päss', 'päss')).toBe(true);
    expect(constantTimeEqualString('päss', 'pass')).toBe(false);
    expect(constantTimeEqualString('', '')).toBe(true);
  });
});
