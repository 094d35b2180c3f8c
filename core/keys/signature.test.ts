import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { SshUsageError } from '../errors.ts';
import { seededRandom } from '../random.ts';
import { SshReader } from '../wire/reader.ts';
import { SshWriter, concatBytes } from '../wire/writer.ts';
import { decodeBase64 } from './base64.ts';
import { pureCrypto } from '../crypto/pure.ts';
import { nobleTestCrypto } from './tests/noble-test-crypto.ts';
import { parseOpenSshPrivateKey, type PrivateKey } from './private-key.ts';
import { ECDSA_CURVES, parsePublicKeyBlob } from './public-key.ts';
import {
  SIGNATURE_ALGORITHMS,
  keyTypeForSignatureAlgorithm,
  sign,
  signatureAlgorithmsForKey,
  verifySignature,
  type SignatureCrypto,
} from './signature.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/keys/${name}`, import.meta.url), 'utf8');
const NAMES = ['ed25519', 'ecdsa-256', 'ecdsa-384', 'ecdsa-521', 'rsa-2048', 'rsa-3072'] as const;
const KEYS: Record<string, PrivateKey> = Object.fromEntries(NAMES.map((n) => [n, parseOpenSshPrivateKey(fixture(n))[0]!]));
const key = (name: (typeof NAMES)[number]) => KEYS[name]!;

const PROVIDERS: [string, SignatureCrypto][] = [
  ['pure', pureCrypto],
  ['noble-test', nobleTestCrypto],
];
const data = new TextEncoder().encode('exchange hash stand-in');

const CASES = NAMES.flatMap((name) => signatureAlgorithmsForKey(key(name).type).map((alg) => [name, alg] as const));

/** Split a signature blob into its two strings. */
function split(blob: Uint8Array): { alg: string; sig: Uint8Array } {
  const r = new SshReader(blob);
  const alg = r.ascii();
  const sig = r.string();
  r.end();
  return { alg, sig };
}
const blob = (alg: string, sig: Uint8Array) => new SshWriter().string(alg).string(sig).finish().slice();

describe('algorithm tables', () => {
  it('maps key types to signature algorithms, strongest first (RFC 8332)', () => {
    expect(signatureAlgorithmsForKey('ssh-rsa')).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    expect(signatureAlgorithmsForKey('ssh-ed25519')).toEqual(['ssh-ed25519']);
    expect(signatureAlgorithmsForKey('ecdsa-sha2-nistp384')).toEqual(['ecdsa-sha2-nistp384']);
  });

  it('maps signature algorithms back to key types', () => {
    for (const alg of SIGNATURE_ALGORITHMS) expect(signatureAlgorithmsForKey(keyTypeForSignatureAlgorithm(alg))).toContain(alg);
    expect(keyTypeForSignatureAlgorithm('rsa-sha2-256')).toBe('ssh-rsa');
    expect(() => keyTypeForSignatureAlgorithm('ssh-dss')).toThrow(SshUsageError);
  });
});

describe.each(PROVIDERS)('sign and verify with the %s provider', (_name, crypto) => {
  it.each(CASES)('%s signs and verifies as %s', (name, alg) => {
    const k = key(name);
    const sigBlob = sign(crypto, k, alg, data);
    const { alg: named, sig } = split(sigBlob);
    expect(named).toBe(alg);
    if (k.type === 'ssh-rsa') expect(sig.length).toBe(Math.ceil(k.rsa.n.toString(2).length / 8));
    if (k.type === 'ssh-ed25519') expect(sig.length).toBe(64);
    expect(verifySignature(crypto, k.publicKey, alg, sigBlob, data)).toBe(true);

    const otherData = data.slice();
    otherData[0]! ^= 1;
    expect(verifySignature(crypto, k.publicKey, alg, sigBlob, otherData)).toBe(false);
    for (const i of [0, sig.length >> 1, sig.length - 1]) {
      const tampered = sig.slice();
      tampered[i]! ^= 0x10;
      expect(verifySignature(crypto, k.publicKey, alg, blob(alg, tampered), data)).toBe(false);
    }
    const other = key(name === 'ed25519' ? 'rsa-2048' : 'ed25519');
    expect(verifySignature(crypto, other.publicKey, alg, sigBlob, data)).toBe(false);
  });

  it('refuses RSA signatures that name a different algorithm than the one expected', () => {
    const k = key('rsa-2048');
    const sha1 = sign(crypto, k, 'ssh-rsa', data);
    expect(verifySignature(crypto, k.publicKey, 'ssh-rsa', sha1, data)).toBe(true);
    expect(verifySignature(crypto, k.publicKey, 'rsa-sha2-512', sha1, data)).toBe(false);
    expect(verifySignature(crypto, k.publicKey, 'rsa-sha2-256', sha1, data)).toBe(false);
    // Relabelled: the name says sha2-256 but the signature inside is over SHA-512.
    const sha512sig = split(sign(crypto, k, 'rsa-sha2-512', data)).sig;
    expect(verifySignature(crypto, k.publicKey, 'rsa-sha2-256', blob('rsa-sha2-256', sha512sig), data)).toBe(false);
  });

  it('refuses an expected algorithm that does not belong to the key', () => {
    const ed = key('ed25519');
    const sigBlob = sign(crypto, ed, 'ssh-ed25519', data);
    expect(verifySignature(crypto, ed.publicKey, 'ecdsa-sha2-nistp256', sigBlob, data)).toBe(false);
    expect(verifySignature(crypto, ed.publicKey, 'no-such-alg', sigBlob, data)).toBe(false);
    const p256 = key('ecdsa-256');
    const p384 = key('ecdsa-384');
    expect(verifySignature(crypto, p384.publicKey, 'ecdsa-sha2-nistp256', sign(crypto, p256, 'ecdsa-sha2-nistp256', data), data)).toBe(false);
  });

  it.each(NAMES)('returns false for every truncation and extension of a %s signature blob', (name) => {
    const k = key(name);
    const alg = signatureAlgorithmsForKey(k.type)[0]!;
    const sigBlob = sign(crypto, k, alg, data);
    for (let n = 0; n < sigBlob.length; n++) {
      expect(verifySignature(crypto, k.publicKey, alg, sigBlob.subarray(0, n), data)).toBe(false);
    }
    expect(verifySignature(crypto, k.publicKey, alg, concatBytes(sigBlob, new Uint8Array([0])), data)).toBe(false);
    const { sig } = split(sigBlob);
    expect(verifySignature(crypto, k.publicKey, alg, blob(alg, concatBytes(sig, new Uint8Array([0]))), data)).toBe(false);
  });

  it('returns false for ECDSA signatures with out-of-range or badly encoded integers', () => {
    const k = key('ecdsa-256');
    if (k.type !== 'ecdsa-sha2-nistp256') throw new Error('fixture');
    const alg = k.type;
    const inner = new SshReader(split(sign(crypto, k, alg, data)).sig);
    const r = inner.mpint();
    const s = inner.mpint();
    const n = ECDSA_CURVES.p256.order;
    const ecdsaBlob = (rv: bigint, sv: bigint) => blob(alg, new SshWriter().mpint(rv).mpint(sv).finish());
    expect(verifySignature(crypto, k.publicKey, alg, ecdsaBlob(r, s), data)).toBe(true);
    expect(verifySignature(crypto, k.publicKey, alg, ecdsaBlob(0n, s), data)).toBe(false);
    expect(verifySignature(crypto, k.publicKey, alg, ecdsaBlob(r, 0n), data)).toBe(false);
    expect(verifySignature(crypto, k.publicKey, alg, ecdsaBlob(r + n, s), data)).toBe(false);
    expect(verifySignature(crypto, k.publicKey, alg, ecdsaBlob(r, s + n), data)).toBe(false);
    // OpenSSH neither produces nor requires low-S: the mirrored signature is just as valid.
    expect(verifySignature(crypto, k.publicKey, alg, ecdsaBlob(r, n - s), data)).toBe(true);
    const raw = new Uint8Array(64);
    expect(verifySignature(crypto, k.publicKey, alg, blob(alg, raw), data)).toBe(false);
  });

  it('returns false for Ed25519 signatures of the wrong length and RSA signatures longer than the modulus', () => {
    const ed = key('ed25519');
    const sig = split(sign(crypto, ed, 'ssh-ed25519', data)).sig;
    expect(verifySignature(crypto, ed.publicKey, 'ssh-ed25519', blob('ssh-ed25519', sig.subarray(0, 63)), data)).toBe(false);
    const rsa = key('rsa-2048');
    const rsig = split(sign(crypto, rsa, 'rsa-sha2-256', data)).sig;
    expect(verifySignature(crypto, rsa.publicKey, 'rsa-sha2-256', blob('rsa-sha2-256', concatBytes(new Uint8Array([0]), rsig)), data)).toBe(false);
    expect(verifySignature(crypto, rsa.publicKey, 'rsa-sha2-256', blob('rsa-sha2-256', new Uint8Array(0)), data)).toBe(false);
  });
});

describe('sign and verify edge cases', () => {
  it('is deterministic for Ed25519 and RSA', () => {
    for (const name of ['ed25519', 'rsa-2048'] as const) {
      const k = key(name);
      const alg = signatureAlgorithmsForKey(k.type)[0]!;
      expect(sign(nobleTestCrypto, k, alg, data)).toEqual(sign(nobleTestCrypto, k, alg, data));
    }
  });

  it('throws a usage error when asked to sign with an algorithm the key cannot make', () => {
    expect(() => sign(nobleTestCrypto, key('ed25519'), 'rsa-sha2-512', data)).toThrow(SshUsageError);
    expect(() => sign(nobleTestCrypto, key('rsa-2048'), 'ssh-ed25519', data)).toThrow(SshUsageError);
    expect(() => sign(nobleTestCrypto, key('ecdsa-256'), 'ecdsa-sha2-nistp384', data)).toThrow(SshUsageError);
  });

  it('never lets a provider exception escape verification', () => {
    const throwing: SignatureCrypto = {
      ...nobleTestCrypto,
      ed25519Verify: () => {
        throw new Error('boom');
      },
    };
    const ed = key('ed25519');
    expect(verifySignature(throwing, ed.publicKey, 'ssh-ed25519', sign(nobleTestCrypto, ed, 'ssh-ed25519', data), data)).toBe(false);
  });
});

/**
 * `ssh-keygen -Y sign` output (OpenSSH PROTOCOL.sshsig): the inner signature is an ordinary SSH
 * signature blob over "SSHSIG" || namespace || reserved || hash_alg || H(message). Verifying it
 * proves our verification accepts what OpenSSH signs, for every key type.
 */
function parseSshsig(armored: string): { publicKey: Uint8Array; signedData: Uint8Array; signature: Uint8Array } {
  const body = armored.replace('-----BEGIN SSH SIGNATURE-----', '').replace('-----END SSH SIGNATURE-----', '').replace(/\s+/g, '');
  const r = new SshReader(decodeBase64(body));
  expect(new TextDecoder().decode(r.raw(6))).toBe('SSHSIG');
  expect(r.uint32()).toBe(1);
  const publicKey = r.string();
  const namespace = r.string();
  const reserved = r.string();
  const hashAlg = r.ascii();
  const signature = r.string();
  r.end();
  const message = new TextEncoder().encode(fixture('message.txt'));
  const digest = hashAlg === 'sha512' ? sha512(message) : sha256(message);
  const signedData = new SshWriter().raw(new TextEncoder().encode('SSHSIG')).string(namespace).string(reserved).string(hashAlg).string(digest).finish();
  return { publicKey, signedData, signature };
}

describe.each(PROVIDERS)('interop with ssh-keygen -Y sign (%s provider)', (_name, crypto) => {
  it.each(NAMES)('verifies the %s signature ssh-keygen made', (name) => {
    const { publicKey, signedData, signature } = parseSshsig(fixture(`${name}.sshsig`));
    const pub = parsePublicKeyBlob(publicKey);
    expect(pub.blob).toEqual(key(name).publicKey.blob);
    const alg = split(signature).alg;
    expect(alg).toBe(pub.type === 'ssh-rsa' ? 'rsa-sha2-512' : pub.type);
    expect(verifySignature(crypto, pub, alg, signature, signedData)).toBe(true);
    const wrong = signedData.slice();
    wrong[wrong.length - 1]! ^= 1;
    expect(verifySignature(crypto, pub, alg, signature, wrong)).toBe(false);
    if (pub.type === 'ssh-rsa') expect(verifySignature(crypto, pub, 'rsa-sha2-256', signature, signedData)).toBe(false);
  });
});

describe('verifySignature on mutated signatures', () => {
  it('returns false, never throws, for single-bit flips and truncations of valid blobs', () => {
    const random = seededRandom('signature mutations');
    for (const name of NAMES) {
      const k = key(name);
      const alg = signatureAlgorithmsForKey(k.type)[0]!;
      const good = sign(nobleTestCrypto, k, alg, data);
      for (let i = 0; i < 60; i++) {
        const [a, b, c] = random(3);
        const mutated = good.slice(0, good.length - (a! % 4 === 0 ? 1 + (b! % 8) : 0));
        if (mutated.length === good.length) mutated[(b! * 256 + c!) % mutated.length]! ^= 1 << (a! % 8);
        expect(verifySignature(nobleTestCrypto, k.publicKey, alg, mutated, data)).toBe(false);
      }
    }
  });
});
