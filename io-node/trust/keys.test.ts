import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { createPrivateKey, sign as opensslSign } from 'node:crypto';
import { copyFileSync, chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha512 } from '@noble/hashes/sha2.js';
import { type CryptoProvider, type HashName, pureCrypto, SshReader, SshWriter, systemRandom } from '../../core/index.ts';
import { nobleTestCrypto } from '../../core/testing/index.ts';
import {
  ECDSA_CURVES,
  KeyFormatError,
  OPENSSH_KEY_CIPHERS,
  formatPkcs1RsaPublicKeyPem,
  formatRfc4716PublicKey,
  formatSpkiPem,
  serializePkcs8PrivateKey,
  serializeTraditionalPemPrivateKey,
  type OpenSshKeyCipher,
  decodeBase64,
  encodeBase64,
  formatFingerprintLine,
  formatPublicKeyLine,
  parseOpenSshPrivateKey,
  parsePublicKeyBlob,
  sign,
  signatureAlgorithmsForKey,
  verifySignature,
  type PrivateKey,
  type SignatureCrypto,
} from '../../core/keys/index.ts';
import { nodeCrypto } from '../runtime/crypto-node.ts';
import { KeyFileError, generateHostKey, readPrivateKeyFile, writePrivateKeyFile, type HostKeyType } from './keys.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'keys');
const FORMATS = join(FIXTURES, 'formats');
const NAMES = ['ed25519', 'ecdsa-256', 'ecdsa-384', 'ecdsa-521', 'rsa-2048', 'rsa-3072'] as const;
const fixtureKey = (name: string): PrivateKey => parseOpenSshPrivateKey(readFileSync(join(FIXTURES, name), 'utf8'))[0]!;
const PROVIDERS: [string, CryptoProvider][] = [
  ['pure', pureCrypto],
  ['node', nodeCrypto],
];
const data = new TextEncoder().encode('session identifier || userauth request stand-in');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hermit-keys-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function sshKeygen(args: string[], input?: string): string {
  return execFileSync('ssh-keygen', args, { encoding: 'utf8', input: input ?? '', stdio: ['pipe', 'pipe', 'pipe'] });
}

function innerSignature(blob: Uint8Array): { alg: string; sig: Uint8Array } {
  const r = new SshReader(blob);
  const alg = r.ascii();
  const sig = r.string();
  r.end();
  return { alg, sig };
}

/** An armored SSHSIG (OpenSSH PROTOCOL.sshsig) around a signature we made. */
function sshsig(key: PrivateKey, crypto: SignatureCrypto, algorithm: string, namespace: string, message: Uint8Array): string {
  const enc = new TextEncoder();
  const signed = new SshWriter().raw(enc.encode('SSHSIG')).string(namespace).string('').string('sha512').string(sha512(message)).finish();
  const signature = sign(crypto, key, algorithm, signed);
  const blob = new SshWriter()
    .raw(enc.encode('SSHSIG'))
    .uint32(1)
    .string(key.publicKey.blob)
    .string(namespace)
    .string('')
    .string('sha512')
    .string(signature)
    .finish();
  const b64 = encodeBase64(blob).replace(/(.{76})/g, '$1\n');
  return `-----BEGIN SSH SIGNATURE-----\n${b64}\n-----END SSH SIGNATURE-----\n`;
}

function parseSshsig(armored: string, message: Uint8Array) {
  const body = armored.replace(/-----(BEGIN|END) SSH SIGNATURE-----/g, '').replace(/\s+/g, '');
  const r = new SshReader(decodeBase64(body));
  r.raw(6);
  expect(r.uint32()).toBe(1);
  const publicKey = parsePublicKeyBlob(r.string());
  const namespace = r.string();
  const reserved = r.string();
  const hashAlg = r.ascii();
  const signature = r.string();
  r.end();
  expect(hashAlg).toBe('sha512');
  const signed = new SshWriter().raw(new TextEncoder().encode('SSHSIG')).string(namespace).string(reserved).string(hashAlg).string(sha512(message)).finish();
  return { publicKey, signed, signature };
}

describe.each(PROVIDERS)('signatures with the %s provider', (_name, crypto) => {
  const CASES = NAMES.flatMap((name) => signatureAlgorithmsForKey(fixtureKey(name).type).map((alg) => [name, alg] as const));

  it.each(CASES)('%s: %s signs, verifies, and cross-verifies with the other providers', (name, alg) => {
    const key = fixtureKey(name);
    const blob = sign(crypto, key, alg, data);
    for (const [, other] of [...PROVIDERS, ['noble-test', nobleTestCrypto] as const]) {
      expect(verifySignature(other, key.publicKey, alg, blob, data)).toBe(true);
      const wrong = data.slice();
      wrong[3]! ^= 4;
      expect(verifySignature(other, key.publicKey, alg, blob, wrong)).toBe(false);
    }
    const signedElsewhere = sign(nobleTestCrypto, key, alg, data);
    expect(verifySignature(crypto, key.publicKey, alg, signedElsewhere, data)).toBe(true);
    if (key.type !== 'ssh-rsa' && key.type !== 'ssh-ed25519') return;
    // Ed25519 and RSASSA-PKCS1-v1_5 are deterministic: every implementation must agree exactly.
    expect(blob).toEqual(signedElsewhere);
  });

  it.each(['ecdsa-256', 'ecdsa-384', 'ecdsa-521'] as const)('accepts both S values of a %s signature, as OpenSSH does', (name) => {
    const key = fixtureKey(name);
    if (key.type === 'ssh-ed25519' || key.type === 'ssh-rsa') throw new Error('fixture');
    const blob = sign(crypto, key, key.type, data);
    const inner = new SshReader(innerSignature(blob).sig);
    const r = inner.mpint();
    const s = inner.mpint();
    const order = ECDSA_CURVES[key.curve].order;
    const mirrored = new SshWriter().string(key.type).string(new SshWriter().mpint(r).mpint(order - s).finish()).finish();
    expect(verifySignature(crypto, key.publicKey, key.type, blob, data)).toBe(true);
    expect(verifySignature(crypto, key.publicKey, key.type, mirrored, data)).toBe(true);
  });

  it.each(NAMES)('verifies the signature ssh-keygen -Y sign made with %s', (name) => {
    const message = readFileSync(join(FIXTURES, 'message.txt'));
    const { publicKey, signed, signature } = parseSshsig(readFileSync(join(FIXTURES, `${name}.sshsig`), 'utf8'), message);
    const alg = innerSignature(signature).alg;
    expect(verifySignature(crypto, publicKey, alg, signature, signed)).toBe(true);
    const tampered = signature.slice();
    tampered[tampered.length - 2]! ^= 1;
    expect(verifySignature(crypto, publicKey, alg, tampered, signed)).toBe(false);
  });

  it('ssh-keygen -Y check-novalidate accepts signatures we make, for every algorithm SSHSIG allows', () => {
    const message = new TextEncoder().encode('signed by hermit-ssh\n');
    for (const name of NAMES) {
      const key = fixtureKey(name);
      const algs = signatureAlgorithmsForKey(key.type).filter((a) => a !== 'ssh-rsa');
      for (const alg of algs) {
        const sigPath = join(dir, `${name}-${alg}-${crypto.name}.sig`);
        writeFileSync(sigPath, sshsig(key, crypto, alg, 'hermit-test', message));
        const out = spawnSync('ssh-keygen', ['-Y', 'check-novalidate', '-n', 'hermit-test', '-s', sigPath], { input: message, encoding: 'utf8' });
        expect(out.status, `${name} ${alg}: ${out.stderr}`).toBe(0);
        expect(out.stdout).toMatch(/Good "hermit-test" signature/);
      }
    }
  });

  it('matches OpenSSL byte for byte for all three RSA hashes, and accepts signatures that lost leading zeros', () => {
    const key = fixtureKey('rsa-2048');
    if (key.type !== 'ssh-rsa') throw new Error('fixture');
    const b64u = (v: bigint) => {
      let hex = v.toString(16);
      if (hex.length % 2) hex = '0' + hex;
      return Buffer.from(hex, 'hex').toString('base64url');
    };
    const { n, e, d, p, q, iqmp } = key.rsa;
    const jwk = { kty: 'RSA', n: b64u(n), e: b64u(e), d: b64u(d), p: b64u(p), q: b64u(q), dp: b64u(d % (p - 1n)), dq: b64u(d % (q - 1n)), qi: b64u(iqmp) };
    const openssl = createPrivateKey({ key: jwk, format: 'jwk' });
    const table: [string, HashName][] = [
      ['rsa-sha2-512', 'sha512'],
      ['rsa-sha2-256', 'sha256'],
      ['ssh-rsa', 'sha1'],
    ];
    for (const [alg, hash] of table) {
      const theirs = new Uint8Array(opensslSign(hash, data, openssl));
      expect(innerSignature(sign(crypto, key, alg, data)).sig).toEqual(theirs);
    }
    // About one signature in 256 starts with a zero byte; some old signers drop it.
    let found = false;
    for (let i = 0; i < 4096 && !found; i++) {
      const message = new TextEncoder().encode(`message ${i}`);
      const sig = new Uint8Array(opensslSign('sha256', message, openssl));
      if (sig[0] !== 0) continue;
      found = true;
      const stripped = new SshWriter().string('rsa-sha2-256').string(sig.subarray(1)).finish();
      expect(verifySignature(crypto, key.publicKey, 'rsa-sha2-256', stripped, message)).toBe(true);
    }
    expect(found).toBe(true);
  });
});

describe('generateHostKey', () => {
  const TYPES: [HostKeyType, string, number][] = [
    ['ed25519', 'ssh-ed25519', 256],
    ['ecdsa-256', 'ecdsa-sha2-nistp256', 256],
    ['ecdsa-384', 'ecdsa-sha2-nistp384', 384],
    ['ecdsa-521', 'ecdsa-sha2-nistp521', 521],
    ['rsa', 'ssh-rsa', 2048],
  ];

  it.each(TYPES)('%s: makes a fresh key that signs and that ssh-keygen reads back', async (type, sshType, bits) => {
    const key = generateHostKey(type, type === 'rsa' ? 2048 : undefined, `hermit-${type}`);
    expect(key.type).toBe(sshType);
    expect(key.comment).toBe(`hermit-${type}`);
    for (const alg of signatureAlgorithmsForKey(key.type)) {
      for (const [, crypto] of PROVIDERS) expect(verifySignature(crypto, key.publicKey, alg, sign(crypto, key, alg, data), data)).toBe(true);
    }
    const path = join(dir, `generated-${type}`);
    await writePrivateKeyFile(path, key);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(`${path}.pub`).mode & 0o777).toBe(0o644);
    const line = formatPublicKeyLine(key.publicKey, key.comment);
    expect(readFileSync(`${path}.pub`, 'utf8')).toBe(`${line}\n`);
    expect(sshKeygen(['-y', '-f', path]).trim()).toBe(line);
    expect(sshKeygen(['-l', '-f', path]).trim()).toBe(formatFingerprintLine(key.publicKey, key.comment));
    expect(sshKeygen(['-l', '-f', path]).trim().startsWith(`${bits} `)).toBe(true);
    expect(await readPrivateKeyFile(path)).toEqual([key]);

    // And the other way: ssh-keygen signs with the key we wrote, we verify.
    const messagePath = join(dir, `message-${type}`);
    writeFileSync(messagePath, 'from ssh-keygen\n');
    sshKeygen(['-Y', 'sign', '-f', path, '-n', 'hermit-test', messagePath]);
    const { publicKey, signed, signature } = parseSshsig(readFileSync(`${messagePath}.sig`, 'utf8'), readFileSync(messagePath));
    expect(publicKey.blob).toEqual(key.publicKey.blob);
    for (const [, crypto] of PROVIDERS) expect(verifySignature(crypto, publicKey, innerSignature(signature).alg, signature, signed)).toBe(true);
  });

  it('uses 3072-bit RSA by default and e = 65537', () => {
    const key = generateHostKey('rsa');
    if (key.type !== 'ssh-rsa') throw new Error('type');
    expect(key.rsa.n.toString(2).length).toBe(3072);
    expect(key.rsa.e).toBe(65537n);
  });

  // 3072 is the default, tested above; prime search for 4096 bits takes seconds on a slow machine.
  it.each([2048, 4096])('makes %i-bit RSA keys', (bits) => {
    const key = generateHostKey('rsa', bits);
    if (key.type !== 'ssh-rsa') throw new Error('type');
    expect(key.rsa.n.toString(2).length).toBe(bits);
  }, 120_000);

  it('refuses sizes that do not fit the type', () => {
    expect(() => generateHostKey('rsa', 1024)).toThrow(/RSA key size must be an integer from 2048 to 16384 bits, got 1024/);
    expect(() => generateHostKey('rsa', 2047)).toThrow(/from 2048 to 16384/);
    expect(() => generateHostKey('rsa', 16385)).toThrow(/from 2048 to 16384 bits, got 16385/);
    expect(() => generateHostKey('rsa', 2048.5)).toThrow(RangeError);
    expect(() => generateHostKey('ed25519', 512)).toThrow(/always 256/);
    expect(() => generateHostKey('ecdsa-256', 384)).toThrow(/always 256/);
    expect(() => generateHostKey('dsa' as HostKeyType)).toThrow(/unknown key type/);
  });
});

describe('writePrivateKeyFile and ssh-keygen -y', () => {
  it.each(NAMES)('ssh-keygen reads our re-serialised %s fixture and prints the same public key', async (name) => {
    const key = fixtureKey(name);
    const path = join(dir, `rewritten-${name}`);
    await writePrivateKeyFile(path, key);
    expect(sshKeygen(['-y', '-f', path]).trim()).toBe(readFileSync(join(FIXTURES, `${name}.pub`), 'utf8').trim());
  });

  it('does not overwrite existing files unless asked, and replaces them atomically when asked', async () => {
    const path = join(dir, 'overwrite');
    const first = generateHostKey('ed25519', undefined, 'first');
    const second = generateHostKey('ed25519', undefined, 'second');
    await writePrivateKeyFile(path, first);
    const before = readFileSync(path, 'utf8');
    const err = await writePrivateKeyFile(path, second).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeyFileError);
    expect((err as KeyFileError).code).toBe('KEY_FILE_EXISTS');
    expect((err as KeyFileError).message).toContain(path);
    expect(readFileSync(path, 'utf8')).toBe(before);

    rmSync(path);
    const pubOnly = await writePrivateKeyFile(path, second).catch((e: unknown) => e);
    expect((pubOnly as KeyFileError).code).toBe('KEY_FILE_EXISTS');
    expect((pubOnly as KeyFileError).path).toBe(`${path}.pub`);

    chmodSync(`${path}.pub`, 0o666);
    await writePrivateKeyFile(path, second, { overwrite: true });
    expect((await readPrivateKeyFile(path))[0]!.comment).toBe('second');
    expect(readFileSync(`${path}.pub`, 'utf8')).toMatch(/ second\n$/);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(`${path}.pub`).mode & 0o777).toBe(0o644);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('reports an unwritable location with the path', async () => {
    const err = await writePrivateKeyFile(join(dir, 'no-such-dir', 'key'), generateHostKey('ed25519')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeyFileError);
    expect((err as KeyFileError).code).toBe('KEY_FILE_UNWRITABLE');
    expect((err as KeyFileError).message).toContain('no-such-dir');
  });
});

describe('readPrivateKeyFile', () => {
  it.each(NAMES)('reads the %s fixture', async (name) => {
    const keys = await readPrivateKeyFile(join(FIXTURES, name));
    expect(keys.map((k) => k.publicKey.blob)).toEqual([fixtureKey(name).publicKey.blob]);
  });

  it('says which file is missing and how to create one', async () => {
    const path = join(dir, 'absent_host_key');
    const err = await readPrivateKeyFile(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeyFileError);
    expect((err as KeyFileError).code).toBe('KEY_FILE_MISSING');
    expect((err as KeyFileError).path).toBe(path);
    expect((err as Error).message).toContain(`ssh-keygen -t ed25519 -N '' -f ${path}`);
    expect((err as Error).message).toContain('hermit serve');
  });

  it('says when the path cannot be read', async () => {
    const err = await readPrivateKeyFile(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeyFileError);
    expect((err as KeyFileError).code).toBe('KEY_FILE_UNREADABLE');
    expect((err as Error).message).toContain(dir);
  });

  it('reads a passphrase-protected key with its passphrase; names the file when it is missing or wrong', async () => {
    const path = join(dir, 'encrypted');
    copyFileSync(join(FIXTURES, 'ed25519-encrypted'), path);
    chmodSync(path, 0o600);
    const missing = await readPrivateKeyFile(path).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(KeyFormatError);
    expect((missing as KeyFormatError).code).toBe('KEY_ENCRYPTED');
    expect((missing as Error).message).toContain(path);
    expect((missing as Error).message).toMatch(/a passphrase is needed/);
    const wrong = await readPrivateKeyFile(path, { passphrase: 'incorrect horse' }).catch((e: unknown) => e);
    expect((wrong as KeyFormatError).code).toBe('KEY_PASSPHRASE_WRONG');
    expect((wrong as Error).message).toContain(`${path}: incorrect passphrase`);
    const keys = await readPrivateKeyFile(path, { passphrase: 'correct horse' });
    expect(keys[0]!.comment).toBe('hermit-fixture-encrypted');
    // The advice for removing the passphrase works too.
    copyFileSync(path, `${path}.plain`);
    sshKeygen(['-p', '-P', 'correct horse', '-N', '', '-f', `${path}.plain`]);
    expect((await readPrivateKeyFile(`${path}.plain`))[0]!.publicKey.blob).toEqual(keys[0]!.publicKey.blob);
  });

  it('reads PEM keys that ssh-keygen -m PEM writes, plain and encrypted', async () => {
    const path = join(dir, 'pem-rsa');
    copyFileSync(join(FIXTURES, 'rsa-2048'), path);
    chmodSync(path, 0o600);
    sshKeygen(['-p', '-m', 'PEM', '-N', '', '-f', path]);
    expect(readFileSync(path, 'utf8')).toMatch(/BEGIN RSA PRIVATE KEY/);
    expect((await readPrivateKeyFile(path))[0]!.publicKey.blob).toEqual(fixtureKey('rsa-2048').publicKey.blob);
    sshKeygen(['-p', '-m', 'PEM', '-P', '', '-N', 'pem passphrase', '-f', path]);
    expect(readFileSync(path, 'utf8')).toMatch(/Proc-Type: 4,ENCRYPTED/);
    expect((await readPrivateKeyFile(path, { passphrase: 'pem passphrase' }))[0]!.publicKey.blob).toEqual(fixtureKey('rsa-2048').publicKey.blob);
    const wrong = await readPrivateKeyFile(path, { passphrase: 'pem passphrase?' }).catch((e: unknown) => e);
    expect((wrong as KeyFormatError).code).toBe('KEY_PASSPHRASE_WRONG');
    expect((wrong as Error).message).toContain(path);
  });

  it.each(readdirSync(FORMATS).filter((f) => !/\.pub$|\.spki\.pem$|public\.pem$|\.sh$/.test(f)))('reads fixtures/keys/formats/%s', async (file) => {
    const keys = await readPrivateKeyFile(join(FORMATS, file), { passphrase: 'correct horse battery' });
    expect(keys).toHaveLength(1);
    const base = file.split('.')[0]!;
    if (base !== 'ed25519-openssl') expect(formatPublicKeyLine(keys[0]!.publicKey)).toBe(readFileSync(join(FORMATS, `${base}.pub`), 'utf8').split(' ').slice(0, 2).join(' '));
  });

  it('rejects a public key given as a private key', async () => {
    const err = await readPrivateKeyFile(join(FIXTURES, 'ed25519.pub')).catch((e: unknown) => e);
    expect((err as KeyFormatError).code).toBe('KEY_FORMAT_UNSUPPORTED');
    expect((err as Error).message).toMatch(/public key/);
  });
});

describe('what we write, OpenSSH and OpenSSL read', () => {
  const PASS = 'hermit passphrase';
  const pubLine = (key: PrivateKey) => formatPublicKeyLine(key.publicKey);
  const openssl = (args: string[], input?: string) => execFileSync('openssl', args, { encoding: 'utf8', input: input ?? '', stdio: ['pipe', 'pipe', 'pipe'] });
  const save = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text, { mode: 0o600 });
    return path;
  };

  it.each(Object.keys(OPENSSH_KEY_CIPHERS) as OpenSshKeyCipher[])('ssh-keygen -y -P decrypts our %s-encrypted key', async (cipher) => {
    const key = fixtureKey('ecdsa-256');
    const path = join(dir, `enc-${cipher}`);
    await writePrivateKeyFile(path, key, { passphrase: PASS, cipher, rounds: 4 });
    expect(sshKeygen(['-y', '-P', PASS, '-f', path]).trim()).toBe(formatPublicKeyLine(key.publicKey, key.comment));
    expect(spawnSync('ssh-keygen', ['-y', '-P', 'wrong passphrase', '-f', path], { encoding: 'utf8' }).status).not.toBe(0);
  });

  it.each(NAMES)('ssh-keygen -y -P decrypts our %s key with the defaults (aes256-ctr, 16 rounds)', async (name) => {
    const key = fixtureKey(name);
    const path = join(dir, `enc-default-${name}`);
    await writePrivateKeyFile(path, key, { passphrase: PASS });
    expect(readFileSync(path, 'utf8')).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----\n/);
    expect(sshKeygen(['-y', '-P', PASS, '-f', path]).trim()).toBe(formatPublicKeyLine(key.publicKey, key.comment));
    expect(await readPrivateKeyFile(path, { passphrase: PASS })).toEqual([key]);
  });

  it.each(['ecdsa-256', 'ecdsa-384', 'ecdsa-521', 'rsa-2048'] as const)('%s: ssh-keygen reads our PKCS#8 (plain and PBES2) and traditional PEM', (name) => {
    const key = fixtureKey(name);
    const plain = save(`${name}.p8`, serializePkcs8PrivateKey(key, systemRandom));
    expect(sshKeygen(['-y', '-f', plain]).trim()).toBe(pubLine(key));
    const encrypted = save(`${name}.p8enc`, serializePkcs8PrivateKey(key, systemRandom, { passphrase: PASS, iterations: 2048 }));
    expect(sshKeygen(['-y', '-P', PASS, '-f', encrypted]).trim()).toBe(pubLine(key));
    const pem = save(`${name}.pem`, serializeTraditionalPemPrivateKey(key));
    expect(sshKeygen(['-y', '-f', pem]).trim()).toBe(pubLine(key));
  });

  it.each(NAMES)('%s: openssl reads our encrypted PKCS#8 and gets the same public key as our SPKI', (name) => {
    const key = fixtureKey(name);
    const encrypted = save(`${name}.openssl.p8enc`, serializePkcs8PrivateKey(key, systemRandom, { passphrase: PASS }));
    expect(openssl(['pkey', '-in', encrypted, '-passin', `pass:${PASS}`, '-pubout'])).toBe(formatSpkiPem(key.publicKey));
  });

  it('openssl reads our Ed25519 PKCS#8, plain and encrypted', () => {
    const key = fixtureKey('ed25519');
    const plain = save('ed25519.openssl.p8', serializePkcs8PrivateKey(key, systemRandom));
    expect(openssl(['pkey', '-in', plain, '-pubout'])).toBe(formatSpkiPem(key.publicKey));
    const encrypted = save('ed25519.openssl.p8enc', serializePkcs8PrivateKey(key, systemRandom, { passphrase: PASS, iterations: 1000 }));
    expect(openssl(['pkey', '-in', encrypted, '-passin', `pass:${PASS}`, '-pubout'])).toBe(formatSpkiPem(key.publicKey));
    const wrong = spawnSync('openssl', ['pkey', '-in', encrypted, '-passin', 'pass:nope', '-pubout'], { encoding: 'utf8' });
    expect(wrong.status).not.toBe(0);
  });

  it.each(NAMES)('%s: ssh-keygen -i imports our RFC 4716 file', (name) => {
    const key = fixtureKey(name);
    const path = save(`${name}.rfc4716`, formatRfc4716PublicKey(key.publicKey, `a comment that is long enough to need folding: ${'x'.repeat(80)}`, [['x-hermit', 'yes']]));
    expect(sshKeygen(['-i', '-m', 'RFC4716', '-f', path]).trim()).toBe(pubLine(key));
  });

  it.each(['ecdsa-256', 'ecdsa-384', 'ecdsa-521', 'rsa-2048'] as const)('%s: ssh-keygen -i -m PKCS8 imports our SPKI PEM', (name) => {
    const key = fixtureKey(name);
    const path = save(`${name}.spki`, formatSpkiPem(key.publicKey));
    expect(sshKeygen(['-i', '-m', 'PKCS8', '-f', path]).trim()).toBe(pubLine(key));
  });

  it('ssh-keygen -i -m PEM imports our RSA PUBLIC KEY; openssl reads our Ed25519 SPKI', () => {
    const rsa = fixtureKey('rsa-2048');
    expect(sshKeygen(['-i', '-m', 'PEM', '-f', save('rsa.pkcs1pub', formatPkcs1RsaPublicKeyPem(rsa.publicKey))]).trim()).toBe(pubLine(rsa));
    const ed = fixtureKey('ed25519');
    const spki = formatSpkiPem(ed.publicKey);
    expect(openssl(['pkey', '-pubin', '-in', save('ed.spki', spki), '-pubout'])).toBe(spki);
  });
});
