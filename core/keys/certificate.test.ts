import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { pureCrypto } from '../crypto/pure.ts';
import { SshProtocolError, SshUsageError } from '../errors.ts';
import { seededRandom } from '../random.ts';
import { SshReader } from '../wire/reader.ts';
import { SshWriter, concatBytes } from '../wire/writer.ts';
import { decodeBase64, encodeBase64 } from './base64.ts';
import {
  CERTIFICATE_ALGORITHMS,
  CERTIFICATE_KEY_TYPES,
  CERT_VALID_ALWAYS,
  CERT_VALID_FOREVER,
  DEFAULT_USER_EXTENSIONS,
  certificateKeyTypeFor,
  certificateKeyTypeForAlgorithm,
  certificateSignatureAlgorithms,
  describeCertificate,
  describeValidity,
  encodeCertificate,
  formatCertificateLine,
  formatUnixTimeUtc,
  isCertificateAlgorithm,
  isCertificateBlob,
  isCertificateKeyType,
  parseCertificate,
  parseCertificateLine,
  plainKeyTypeOf,
  signCertificate,
  signWithCertificate,
  signatureAlgorithmForCertAlgorithm,
  verifyCertificate,
  verifyCertifiedSignature,
  type Certificate,
  type CertificateFields,
  type VerifyCertificateOptions,
} from './certificate.ts';
import { KeyFormatError } from './errors.ts';
import { parsePublicKeyLine } from './format.ts';
import { parseOpenSshPrivateKey, type PrivateKey } from './private-key.ts';
import { publicKeysEqual, type PublicKey } from './public-key.ts';
import { sign, type SignatureCrypto } from './signature.ts';
import { nobleTestCrypto } from './tests/noble-test-crypto.ts';

const read = (path: string) => readFileSync(new URL(`../../fixtures/keys/${path}`, import.meta.url), 'utf8');
const certLine = (name: string) => read(`certs/${name}-cert.pub`);
const cert = (name: string): Certificate => parseCertificateLine(certLine(name)).certificate;
const pub = (path: string): PublicKey => parsePublicKeyLine(read(path)).key;
const priv = (path: string): PrivateKey => parseOpenSshPrivateKey(read(path))[0]!;

const PROVIDERS: [string, SignatureCrypto][] = [
  ['pure', pureCrypto],
  ['noble-test', nobleTestCrypto],
];

const T2020_01_01 = 1577836800n;
const T2020_01_02 = 1577923200n;
const T2024_01_01 = 1704067200n;
const T2099_01_01 = 4070908800n;
const T2100_01_01 = 4102444800n;
/** 2025-06-15T15:06:40Z: inside every window but the expired and future fixtures. */
const NOW = 1750000000n;

const DEFAULT_EXTS = ['permit-X11-forwarding', 'permit-agent-forwarding', 'permit-port-forwarding', 'permit-pty', 'permit-user-rc'];

type Expect = {
  subject: string;
  ca: string;
  type: string;
  certType: 'user' | 'host';
  keyId: string;
  serial: bigint;
  principals: string[];
  validAfter: bigint;
  validBefore: bigint;
  signatureAlgorithm: string;
  critical: string[];
  extensions: string[];
};

const user = (e: Partial<Expect> & Pick<Expect, 'subject' | 'ca' | 'type' | 'keyId' | 'serial' | 'signatureAlgorithm'>): Expect => ({
  certType: 'user',
  principals: ['alice', 'bob'],
  validAfter: T2024_01_01,
  validBefore: T2099_01_01,
  critical: [],
  extensions: DEFAULT_EXTS,
  ...e,
});

const FIXTURES: Record<string, Expect> = {
  'user-ed25519': user({ subject: 'ed25519', ca: 'user-ca-ed25519', type: 'ssh-ed25519-cert-v01@openssh.com', keyId: 'alice@hermit', serial: 1n, signatureAlgorithm: 'ssh-ed25519' }),
  'user-ecdsa-256': user({
    subject: 'ecdsa-256',
    ca: 'user-ca-ecdsa-256',
    type: 'ecdsa-sha2-nistp256-cert-v01@openssh.com',
    keyId: 'alice-ecdsa-256',
    serial: 2n,
    validAfter: CERT_VALID_ALWAYS,
    validBefore: CERT_VALID_FOREVER,
    signatureAlgorithm: 'ecdsa-sha2-nistp256',
  }),
  'user-ecdsa-384': user({ subject: 'ecdsa-384', ca: 'user-ca-ed25519', type: 'ecdsa-sha2-nistp384-cert-v01@openssh.com', keyId: 'alice-ecdsa-384', serial: 3n, signatureAlgorithm: 'ssh-ed25519' }),
  'user-ecdsa-521': user({
    subject: 'ecdsa-521',
    ca: 'user-ca-rsa-3072',
    type: 'ecdsa-sha2-nistp521-cert-v01@openssh.com',
    keyId: 'alice-ecdsa-521',
    serial: 4n,
    validBefore: CERT_VALID_FOREVER,
    signatureAlgorithm: 'rsa-sha2-512',
  }),
  'user-rsa-2048': user({
    subject: 'rsa-2048',
    ca: 'user-ca-rsa-3072',
    type: 'ssh-rsa-cert-v01@openssh.com',
    keyId: 'alice-rsa-sha256-ca',
    serial: 5n,
    validAfter: CERT_VALID_ALWAYS,
    signatureAlgorithm: 'rsa-sha2-256',
  }),
  'user-rsa-3072-sha1ca': user({ subject: 'rsa-3072', ca: 'user-ca-rsa-3072', type: 'ssh-rsa-cert-v01@openssh.com', keyId: 'alice-ssh-rsa-ca', serial: 6n, signatureAlgorithm: 'ssh-rsa' }),
  'user-options': user({
    subject: 'ed25519',
    ca: 'user-ca-ed25519',
    type: 'ssh-ed25519-cert-v01@openssh.com',
    keyId: 'alice-restricted',
    serial: 7n,
    principals: ['alice'],
    signatureAlgorithm: 'ssh-ed25519',
    critical: ['force-command', 'source-address', 'verify-required'],
    extensions: ['login@example.com', 'no-touch-required', 'permit-X11-forwarding', 'permit-pty'],
  }),
  'user-expired': user({ subject: 'ed25519', ca: 'user-ca-ed25519', type: 'ssh-ed25519-cert-v01@openssh.com', keyId: 'alice-expired', serial: 8n, principals: ['alice'], validAfter: T2020_01_01, validBefore: T2020_01_02, signatureAlgorithm: 'ssh-ed25519' }),
  'user-not-yet-valid': user({ subject: 'ed25519', ca: 'user-ca-ed25519', type: 'ssh-ed25519-cert-v01@openssh.com', keyId: 'alice-future', serial: 9n, principals: ['alice'], validAfter: T2099_01_01, validBefore: T2100_01_01, signatureAlgorithm: 'ssh-ed25519' }),
  'user-no-principals': user({ subject: 'ed25519', ca: 'user-ca-ed25519', type: 'ssh-ed25519-cert-v01@openssh.com', keyId: 'nobody-in-particular', serial: 10n, principals: [], signatureAlgorithm: 'ssh-ed25519' }),
  'user-unknown-critical': user({
    subject: 'ed25519',
    ca: 'user-ca-ed25519',
    type: 'ssh-ed25519-cert-v01@openssh.com',
    keyId: 'alice-unknown-critical',
    serial: 11n,
    principals: ['alice'],
    signatureAlgorithm: 'ssh-ed25519',
    critical: ['hermit-test@example.com'],
  }),
  'host-ed25519': {
    ...user({ subject: 'ed25519', ca: 'host-ca-ed25519', type: 'ssh-ed25519-cert-v01@openssh.com', keyId: 'host.example', serial: 100n, signatureAlgorithm: 'ssh-ed25519' }),
    certType: 'host',
    principals: ['host.example', '127.0.0.1'],
    extensions: [],
  },
  'host-ecdsa-256': {
    ...user({ subject: 'ecdsa-256', ca: 'host-ca-ecdsa-256', type: 'ecdsa-sha2-nistp256-cert-v01@openssh.com', keyId: 'wildcard-host', serial: 101n, signatureAlgorithm: 'ecdsa-sha2-nistp256' }),
    certType: 'host',
    principals: ['*.example.net', 'host.example'],
    extensions: [],
  },
  'host-rsa-3072': {
    ...user({ subject: 'rsa-3072', ca: 'host-ca-rsa-3072', type: 'ssh-rsa-cert-v01@openssh.com', keyId: 'host-rsa', serial: 102n, signatureAlgorithm: 'rsa-sha2-512' }),
    certType: 'host',
    principals: ['host.example', '127.0.0.1'],
    validAfter: CERT_VALID_ALWAYS,
    validBefore: CERT_VALID_FOREVER,
    extensions: [],
  },
};
const NAMES = Object.keys(FIXTURES);
/** Fixtures every check accepts at {@link NOW} for their first principal. */
const GOOD = ['user-ed25519', 'user-ecdsa-256', 'user-ecdsa-384', 'user-ecdsa-521', 'user-rsa-2048', 'host-ed25519', 'host-ecdsa-256', 'host-rsa-3072'];

function goodOptions(c: Certificate, extra: Partial<VerifyCertificateOptions> = {}): VerifyCertificateOptions {
  return { now: NOW, type: c.certType, principal: c.certType === 'user' ? 'alice' : 'host.example', trustedCaKeys: [c.signatureKey], ...extra };
}

const userCa = () => priv('certs/user-ca-ed25519');
const baseFields = (extra: Partial<CertificateFields> = {}): CertificateFields => ({
  publicKey: pub('ed25519.pub'),
  certType: 'user',
  keyId: 'crafted',
  principals: ['alice'],
  validAfter: T2024_01_01,
  validBefore: T2099_01_01,
  nonce: new Uint8Array(32).fill(7),
  ...extra,
});

/** Replace the signature of a blob made of body || string signature by a fresh CA signature over body. */
function resign(body: Uint8Array, ca: PrivateKey = userCa(), algorithm = 'ssh-ed25519'): Uint8Array {
  return new SshWriter().raw(body).string(sign(pureCrypto, ca, algorithm, body)).finish().slice();
}

/** Rebuild a certificate's body with some raw fields replaced and sign it with the user CA. */
function craft(
  base: Certificate,
  replace: Partial<{ type: string; role: number; principals: Uint8Array; critical: Uint8Array; extensions: Uint8Array; caBlob: Uint8Array; keyFields: Uint8Array; keyId: Uint8Array }>,
): Uint8Array {
  // type, nonce, then the key fields: the plain key blob without its type string.
  const r = new SshReader(base.blob);
  r.string();
  const afterType = r.position;
  r.string();
  const keyStart = r.position;
  const keyR = new SshReader(base.publicKey.blob);
  keyR.string();
  const keyFields = keyR.rest();
  const w = new SshWriter()
    .string(replace.type ?? base.type)
    .raw(base.blob.subarray(afterType, keyStart))
    .raw(replace.keyFields ?? keyFields)
    .uint64(base.serial)
    .uint32(replace.role ?? (base.certType === 'user' ? 1 : 2))
    .string(replace.keyId ?? base.keyId);
  const principals = new SshWriter();
  for (const p of base.principals) principals.string(p);
  w.string(replace.principals ?? principals.finish())
    .uint64(base.validAfter)
    .uint64(base.validBefore)
    .string(replace.critical ?? optionsBytes(base.criticalOptions.map((o) => [o.name, o.data])))
    .string(replace.extensions ?? optionsBytes(base.extensions.map((o) => [o.name, o.data])))
    .string(base.reserved)
    .string(replace.caBlob ?? base.signatureKey.blob);
  return resign(w.finish().slice());
}

function optionsBytes(options: [string, Uint8Array][]): Uint8Array {
  const w = new SshWriter();
  for (const [name, data] of options) w.string(name).string(data);
  return w.finish().slice();
}
const str = (s: string) => new SshWriter().string(s).finish().slice();
const empty = new Uint8Array(0);

describe('certificate fixtures made by ssh-keygen', () => {
  it.each(NAMES)('%s parses with the fields ssh-keygen was given', (name) => {
    const e = FIXTURES[name]!;
    const { certificate: c, comment } = parseCertificateLine(certLine(name));
    expect(c.type).toBe(e.type);
    expect(c.certType).toBe(e.certType);
    expect(c.keyId).toBe(e.keyId);
    expect(c.serial).toBe(e.serial);
    expect(c.principals).toEqual(e.principals);
    expect(c.validAfter).toBe(e.validAfter);
    expect(c.validBefore).toBe(e.validBefore);
    expect(c.signatureAlgorithm).toBe(e.signatureAlgorithm);
    expect(c.criticalOptions.map((o) => o.name)).toEqual(e.critical);
    expect(c.extensions.map((o) => o.name)).toEqual(e.extensions);
    expect(c.nonce.length).toBe(32);
    expect(c.reserved.length).toBe(0);
    expect(publicKeysEqual(c.publicKey, pub(`${e.subject}.pub`))).toBe(true);
    expect(publicKeysEqual(c.signatureKey, pub(`certs/${e.ca}.pub`))).toBe(true);
    expect(comment).toBe(`hermit-fixture-${e.subject}`);
    expect(c.signedData).toEqual(c.blob.subarray(0, c.signedData.length));
    expect(concatBytes(c.signedData, new SshWriter().string(c.signature).finish())).toEqual(c.blob);
  });

  it.each(NAMES)('%s: describeCertificate prints what ssh-keygen -L printed (TZ=UTC)', (name) => {
    const listing = read(`certs/${name}-cert.L`);
    const [heading, ...rest] = listing.replace(/\n$/, '').split('\n');
    expect(heading).toBe(`${name}-cert.pub:`);
    expect(describeCertificate(cert(name))).toBe(rest.join('\n'));
  });

  it.each(NAMES)('%s: encode(parse(x)) is x and the line round-trips', (name) => {
    const line = certLine(name).trim();
    const { certificate: c, comment } = parseCertificateLine(line);
    expect(encodeCertificate(c)).toEqual(c.blob);
    expect(formatCertificateLine(c, comment)).toBe(line);
    expect(formatCertificateLine(c)).toBe(line.slice(0, line.lastIndexOf(' ')));
    expect(parseCertificate(encodeCertificate(c))).toEqual(c);
  });

  it('decodes the values of known options and keeps unknown ones raw', () => {
    const c = cert('user-options');
    expect(c.criticalOptions).toEqual([
      { name: 'force-command', data: str('/usr/bin/uptime'), value: '/usr/bin/uptime' },
      { name: 'source-address', data: str('10.0.0.0/8,192.168.1.1,2001:db8::/32'), value: ['10.0.0.0/8', '192.168.1.1', '2001:db8::/32'] },
      { name: 'verify-required', data: empty, value: true },
    ]);
    expect(c.extensions).toEqual([
      { name: 'login@example.com', data: str('alice'), value: null },
      { name: 'no-touch-required', data: empty, value: true },
      { name: 'permit-X11-forwarding', data: empty, value: true },
      { name: 'permit-pty', data: empty, value: true },
    ]);
    expect(cert('user-unknown-critical').criticalOptions).toEqual([{ name: 'hermit-test@example.com', data: str('yes'), value: null }]);
  });

  it.each([...NAMES.filter((n) => FIXTURES[n]!.signatureAlgorithm !== 'ecdsa-sha2-nistp256')])(
    '%s: signCertificate with the same fields and nonce reproduces ssh-keygen byte for byte',
    (name) => {
      // Ed25519 and RSA PKCS#1 v1.5 signatures are deterministic, so an identical body gives an
      // identical certificate; ECDSA draws a random k and is covered by verification instead.
      const c = cert(name);
      const ca = priv(`certs/${FIXTURES[name]!.ca}`);
      const again = signCertificate(pureCrypto, ca, { ...c }, c.signatureAlgorithm);
      expect(again.blob).toEqual(c.blob);
    },
  );
});

describe.each(PROVIDERS)('verifyCertificate (%s provider)', (_p, crypto) => {
  it.each(GOOD)('accepts %s', (name) => {
    const c = cert(name);
    expect(verifyCertificate(crypto, c, goodOptions(c))).toEqual({ ok: true });
  });

  it('accepts the restricted certificate from an allowed address', () => {
    const c = cert('user-options');
    for (const address of ['10.9.8.7', '192.168.1.1', '2001:db8::42', '::ffff:10.0.0.1']) {
      expect(verifyCertificate(crypto, c, goodOptions(c, { sourceAddress: address }))).toEqual({ ok: true });
    }
  });

  it('refuses an expired certificate, saying when it expired', () => {
    const c = cert('user-expired');
    expect(verifyCertificate(crypto, c, goodOptions(c))).toEqual({ ok: false, reason: 'certificate expired at 2020-01-02T00:00:00 (UTC)' });
  });

  it('refuses a certificate that is not valid yet, saying from when it is', () => {
    const c = cert('user-not-yet-valid');
    expect(verifyCertificate(crypto, c, goodOptions(c))).toEqual({ ok: false, reason: 'certificate is not valid until 2099-01-01T00:00:00 (UTC)' });
  });

  it('treats the window as validAfter <= now < validBefore', () => {
    const c = cert('user-expired');
    expect(verifyCertificate(crypto, c, goodOptions(c, { now: T2020_01_01 })).ok).toBe(true);
    expect(verifyCertificate(crypto, c, goodOptions(c, { now: T2020_01_02 - 1n })).ok).toBe(true);
    expect(verifyCertificate(crypto, c, goodOptions(c, { now: T2020_01_01 - 1n })).ok).toBe(false);
    expect(verifyCertificate(crypto, c, goodOptions(c, { now: T2020_01_02 })).ok).toBe(false);
    const forever = cert('user-ecdsa-256');
    expect(verifyCertificate(crypto, forever, goodOptions(forever, { now: 0n })).ok).toBe(true);
    expect(verifyCertificate(crypto, forever, goodOptions(forever, { now: CERT_VALID_FOREVER - 1n })).ok).toBe(true);
  });

  it('refuses a principal the certificate does not list', () => {
    const c = cert('user-ed25519');
    expect(verifyCertificate(crypto, c, goodOptions(c, { principal: 'bob' })).ok).toBe(true);
    expect(verifyCertificate(crypto, c, goodOptions(c, { principal: 'carol' }))).toEqual({
      ok: false,
      reason: '"carol" is not a principal of this certificate (alice, bob)',
    });
    expect(verifyCertificate(crypto, c, goodOptions(c, { principal: 'Alice' })).ok).toBe(false);
  });

  it('leaves principal matching to the caller when no principal is given', () => {
    const c = cert('user-ed25519');
    const { principal: _omit, ...rest } = goodOptions(c);
    expect(verifyCertificate(crypto, c, rest).ok).toBe(true);
  });

  it('matches authorized_keys principals="…" instead of the user name when given', () => {
    const c = cert('user-ed25519');
    expect(verifyCertificate(crypto, c, goodOptions(c, { principal: 'root', authorizedPrincipals: ['ops', 'bob'] })).ok).toBe(true);
    const refused = verifyCertificate(crypto, c, goodOptions(c, { principal: 'alice', authorizedPrincipals: ['ops'] }));
    expect(refused).toEqual({ ok: false, reason: 'certificate principals (alice, bob) include none of the authorized principals (ops)' });
  });

  it('refuses a certificate with no principals, even through authorized principals', () => {
    const c = cert('user-no-principals');
    const reason = 'certificate lists no principals; certificates valid for any principal are refused';
    expect(verifyCertificate(crypto, c, goodOptions(c))).toEqual({ ok: false, reason });
    const { principal: _omit, ...withoutPrincipal } = goodOptions(c);
    expect(verifyCertificate(crypto, c, withoutPrincipal)).toEqual({ ok: false, reason });
    expect(verifyCertificate(crypto, c, goodOptions(c, { authorizedPrincipals: ['alice'] }))).toEqual({ ok: false, reason });
  });

  it('matches host principals as wildcard patterns, user principals literally', () => {
    const host = cert('host-ecdsa-256');
    expect(verifyCertificate(crypto, host, goodOptions(host, { principal: 'web1.example.net' })).ok).toBe(true);
    expect(verifyCertificate(crypto, host, goodOptions(host, { principal: 'example.net' })).ok).toBe(false);
    expect(verifyCertificate(crypto, host, goodOptions(host, { principal: 'web1.example.net.evil' })).ok).toBe(false);
    const starUser = signCertificate(pureCrypto, userCa(), baseFields({ principals: ['*'] }));
    expect(verifyCertificate(crypto, starUser, goodOptions(starUser, { principal: 'alice' })).ok).toBe(false);
    expect(verifyCertificate(crypto, starUser, goodOptions(starUser, { principal: '*' })).ok).toBe(true);
  });

  it('refuses the wrong certificate type', () => {
    const u = cert('user-ed25519');
    expect(verifyCertificate(crypto, u, goodOptions(u, { type: 'host' }))).toEqual({ ok: false, reason: 'certificate is a user certificate, expected a host certificate' });
    const h = cert('host-ed25519');
    expect(verifyCertificate(crypto, h, goodOptions(h, { type: 'user', principal: 'host.example' }))).toEqual({
      ok: false,
      reason: 'certificate is a host certificate, expected a user certificate',
    });
  });

  it('refuses a CA that is not trusted, naming its fingerprint', () => {
    const c = cert('user-ed25519');
    const other = [pub('certs/host-ca-ed25519.pub'), pub('certs/user-ca-ecdsa-256.pub'), c.publicKey];
    const verdict = verifyCertificate(crypto, c, goodOptions(c, { trustedCaKeys: other }));
    expect(verdict.ok).toBe(false);
    expect(!verdict.ok && verdict.reason).toMatch(/^certificate is signed by an untrusted CA \(ED25519 SHA256:[A-Za-z0-9+/]{43}\)$/);
    expect(verifyCertificate(crypto, c, goodOptions(c, { trustedCaKeys: [] })).ok).toBe(false);
    expect(verifyCertificate(crypto, c, goodOptions(c, { trustedCaKeys: () => false })).ok).toBe(false);
    expect(verifyCertificate(crypto, c, goodOptions(c, { trustedCaKeys: (k) => publicKeysEqual(k, pub('certs/user-ca-ed25519.pub')) })).ok).toBe(true);
  });

  it('refuses an ssh-rsa (SHA-1) CA signature unless allowed explicitly', () => {
    const c = cert('user-rsa-3072-sha1ca');
    const verdict = verifyCertificate(crypto, c, goodOptions(c));
    expect(verdict.ok).toBe(false);
    expect(!verdict.ok && verdict.reason).toContain('signed with ssh-rsa, which is not an allowed CA signature algorithm');
    expect(verifyCertificate(crypto, c, goodOptions(c, { caSignatureAlgorithms: ['ssh-rsa'] })).ok).toBe(true);
    // A narrower policy refuses what the default allows.
    const sha256 = cert('user-rsa-2048');
    expect(verifyCertificate(crypto, sha256, goodOptions(sha256, { caSignatureAlgorithms: ['rsa-sha2-512'] })).ok).toBe(false);
  });

  it('refuses an unknown critical option (ssh-keygen-made and crafted)', () => {
    const made = cert('user-unknown-critical');
    expect(verifyCertificate(crypto, made, goodOptions(made))).toEqual({ ok: false, reason: 'certificate has an unsupported critical option "hermit-test@example.com"' });
    const crafted = signCertificate(pureCrypto, userCa(), baseFields({ criticalOptions: [{ name: 'no-such-option@hermit', value: 'x' }] }));
    expect(verifyCertificate(crypto, crafted, goodOptions(crafted))).toEqual({ ok: false, reason: 'certificate has an unsupported critical option "no-such-option@hermit"' });
    // A known extension name used as a critical option is unknown there, as in sshd.
    const misplaced = signCertificate(pureCrypto, userCa(), baseFields({ criticalOptions: [{ name: 'permit-pty' }] }));
    expect(verifyCertificate(crypto, misplaced, goodOptions(misplaced)).ok).toBe(false);
  });

  it('ignores unknown extensions', () => {
    const c = signCertificate(pureCrypto, userCa(), baseFields({ extensions: [{ name: 'whatever@example.com', value: 'x' }, ...DEFAULT_USER_EXTENSIONS] }));
    expect(verifyCertificate(crypto, c, goodOptions(c))).toEqual({ ok: true });
  });

  it('refuses a source-address mismatch, a missing client address and a malformed list', () => {
    const c = cert('user-options');
    expect(verifyCertificate(crypto, c, goodOptions(c, { sourceAddress: '11.0.0.1' }))).toEqual({
      ok: false,
      reason: "client address 11.0.0.1 is not permitted by the certificate's source-address (10.0.0.0/8,192.168.1.1,2001:db8::/32)",
    });
    expect(verifyCertificate(crypto, c, goodOptions(c, { sourceAddress: '2001:db9::1' })).ok).toBe(false);
    expect(verifyCertificate(crypto, c, goodOptions(c, { sourceAddress: 'garbage' })).ok).toBe(false);
    expect(verifyCertificate(crypto, c, goodOptions(c))).toEqual({ ok: false, reason: 'certificate is restricted by source-address but no client address was given' });
    const bad = signCertificate(pureCrypto, userCa(), baseFields({ criticalOptions: [{ name: 'source-address', value: '10.0.0.1/8' }] }));
    expect(verifyCertificate(crypto, bad, goodOptions(bad, { sourceAddress: '10.0.0.1' }))).toEqual({
      ok: false,
      reason: 'certificate source-address "10.0.0.1/8" is not a valid address list',
    });
  });

  it('refuses host certificates with critical options', () => {
    const host = signCertificate(pureCrypto, userCa(), baseFields({ certType: 'host', principals: ['h'], criticalOptions: [{ name: 'force-command', value: 'x' }] }));
    expect(verifyCertificate(crypto, host, goodOptions(host, { principal: 'h' }))).toEqual({
      ok: false,
      reason: 'host certificate carries critical options (force-command); none are defined for hosts',
    });
  });

  it('refuses a certificate whose signature was replaced by one over other data', () => {
    const c = cert('user-ed25519');
    const forged = { ...c, signature: sign(pureCrypto, userCa(), 'ssh-ed25519', new Uint8Array([1, 2, 3])) };
    expect(verifyCertificate(crypto, forged, goodOptions(forged))).toEqual({ ok: false, reason: 'certificate signature does not verify against its CA key' });
  });

  it.each(['user-ed25519', 'user-ecdsa-521', 'host-ecdsa-256'])('%s: a flipped bit anywhere is never accepted', (name) => {
    const c = cert(name);
    const options = goodOptions(c);
    let parsedAnyway = 0;
    for (let i = 0; i < c.blob.length; i++) {
      const blob = c.blob.slice();
      blob[i] = blob[i]! ^ (i % 2 === 0 ? 0x01 : 0x80);
      let mutated: Certificate;
      try {
        mutated = parseCertificate(blob);
      } catch (err) {
        expect(err).toBeInstanceOf(SshProtocolError);
        continue;
      }
      parsedAnyway++;
      // The trust list names the original CA, so a flipped CA key is "untrusted": still refused.
      const verdict = verifyCertificate(crypto, mutated, options);
      expect(verdict.ok, `byte ${i} of ${c.blob.length}`).toBe(false);
    }
    expect(parsedAnyway).toBeGreaterThan(c.blob.length / 4);
  });

  it('never throws, even for a hand-built object that breaks the types', () => {
    const c = cert('user-ed25519');
    const broken = { ...c, signatureKey: { type: 'ssh-ed25519', key: new Uint8Array(3), blob: new Uint8Array(0) } } as unknown as Certificate;
    expect(verifyCertificate(crypto, broken, { ...goodOptions(c), trustedCaKeys: () => true }).ok).toBe(false);
    const throwing = verifyCertificate(crypto, c, { ...goodOptions(c), trustedCaKeys: () => { throw new Error('policy failed'); } });
    expect(throwing).toEqual({ ok: false, reason: 'certificate could not be checked: policy failed' });
  });
});

describe('strict parsing', () => {
  const base = () => cert('user-ed25519');
  const expectInvalid = (blob: Uint8Array, message: RegExp) => {
    let error: unknown;
    try {
      parseCertificate(blob);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SshProtocolError);
    expect((error as SshProtocolError).code).toBe('HOST_KEY_INVALID');
    expect((error as Error).message).toMatch(message);
  };

  it('the crafting helper reproduces a valid certificate when nothing is replaced', () => {
    const c = parseCertificate(craft(base(), {}));
    expect(verifyCertificate(pureCrypto, c, goodOptions(c)).ok).toBe(true);
  });

  it('refuses trailing bytes and every truncation', () => {
    const blob = base().blob;
    expectInvalid(concatBytes(blob, new Uint8Array([0])), /trailing/);
    for (let n = 0; n < blob.length; n++) expect(() => parseCertificate(blob.subarray(0, n))).toThrow(SshProtocolError);
  });

  it('refuses plain keys, unknown and unsupported certificate types', () => {
    expectInvalid(pub('ed25519.pub').blob, /"ssh-ed25519" is not a certificate type/);
    expectInvalid(craft(base(), { type: 'ssh-dss-cert-v01@openssh.com' }), /unsupported certificate type "ssh-dss-cert-v01@openssh.com"/);
    expectInvalid(craft(base(), { type: 'ssh-ed25519-cert-v00@openssh.com' }), /not a certificate type/);
  });

  it('refuses a certificate type number other than user (1) or host (2)', () => {
    expectInvalid(craft(base(), { role: 0 }), /unknown type 0/);
    expectInvalid(craft(base(), { role: 3 }), /unknown type 3/);
  });

  it('refuses options or extensions out of lexical order unless asked to be lenient', () => {
    const reversed = optionsBytes(DEFAULT_EXTS.map((n) => [n, empty] as [string, Uint8Array]).reverse());
    const blob = craft(base(), { extensions: reversed });
    expectInvalid(blob, /extensions are not in lexical order/);
    const lenient = parseCertificate(blob, { lenientOptionOrder: true });
    expect(lenient.extensions.map((o) => o.name)).toEqual([...DEFAULT_EXTS].reverse());
    expect(verifyCertificate(pureCrypto, lenient, goodOptions(lenient)).ok).toBe(true);
    const critical = optionsBytes([
      ['source-address', str('10.0.0.0/8')],
      ['force-command', str('x')],
    ]);
    expectInvalid(craft(base(), { critical }), /critical options are not in lexical order/);
  });

  it('orders names by bytes, as strcmp does (capitals first)', () => {
    // "permit-X11-forwarding" < "permit-agent-forwarding" because 'X' (0x58) < 'a' (0x61).
    const ok = optionsBytes([
      ['permit-X11-forwarding', empty],
      ['permit-agent-forwarding', empty],
    ]);
    expect(parseCertificate(craft(base(), { extensions: ok })).extensions).toHaveLength(2);
  });

  it('refuses repeated names, even when lenient', () => {
    const twice = optionsBytes([
      ['force-command', str('a')],
      ['force-command', str('b')],
    ]);
    expectInvalid(craft(base(), { critical: twice }), /repeat the name "force-command"/);
    expect(() => parseCertificate(craft(base(), { critical: twice }), { lenientOptionOrder: true })).toThrow(/repeat the name/);
  });

  it('refuses malformed values of known options', () => {
    expectInvalid(craft(base(), { extensions: optionsBytes([['permit-pty', str('x')]]) }), /"permit-pty" is a flag but carries data/);
    expectInvalid(craft(base(), { critical: optionsBytes([['verify-required', new Uint8Array([0])]]) }), /"verify-required" is a flag/);
    expectInvalid(craft(base(), { critical: optionsBytes([['force-command', concatBytes(str('a'), str('b'))]]) }), /trailing/);
    expectInvalid(craft(base(), { critical: optionsBytes([['force-command', new TextEncoder().encode('raw')]]) }), /force-command/);
    expectInvalid(craft(base(), { critical: optionsBytes([['', empty]]) }), /empty name/);
    expectInvalid(craft(base(), { critical: new Uint8Array([0, 0, 0, 1, 0x61]) }), /truncated/);
  });

  it('refuses text fields OpenSSH could not represent', () => {
    expectInvalid(craft(base(), { principals: concatBytes(str('al\0ice')) }), /principal contains a NUL byte/);
    expectInvalid(craft(base(), { principals: new SshWriter().string(new Uint8Array([0xff, 0xfe])).finish() }), /principal is not valid UTF-8/);
    expectInvalid(craft(base(), { keyId: new Uint8Array([0xc3]) }), /key id is not valid UTF-8/);
  });

  it('refuses more than 256 principals', () => {
    const many = new SshWriter();
    for (let i = 0; i < 257; i++) many.string(`p${i}`);
    expectInvalid(craft(base(), { principals: many.finish().slice() }), /more than 256 principals/);
  });

  it('refuses a CA key that is itself a certificate (no chains)', () => {
    expectInvalid(craft(base(), { caBlob: cert('user-ecdsa-256').blob }), /chained certificates are not supported/);
  });

  it('refuses a CA key that is not a valid key', () => {
    expectInvalid(craft(base(), { caBlob: new SshWriter().string('ssh-ed25519').string(new Uint8Array(31)).finish().slice() }), /CA key is invalid/);
    expectInvalid(craft(base(), { caBlob: new SshWriter().string('ssh-dss').finish().slice() }), /CA key is invalid/);
  });

  it('refuses a signature algorithm the CA key cannot make', () => {
    const c = base();
    const body = c.signedData;
    const wrong = new SshWriter().string('rsa-sha2-512').string(new Uint8Array(64)).finish();
    expectInvalid(new SshWriter().raw(body).string(wrong).finish().slice(), /"rsa-sha2-512" cannot be made by a ssh-ed25519 CA key/);
    const junk = new SshWriter().string('ssh-ed25519').string(new Uint8Array(64)).byte(0).finish();
    expectInvalid(new SshWriter().raw(body).string(junk).finish().slice(), /trailing/);
  });

  it('refuses an embedded key that is not valid', () => {
    const ecdsa = cert('user-ecdsa-384');
    const r = new SshReader(ecdsa.publicKey.blob);
    r.string();
    r.string();
    const point = r.string();
    const wrongCurve = new SshWriter().string('nistp256').string(point).finish().slice();
    expectInvalid(craft(ecdsa, { keyFields: wrongCurve }), /names curve "nistp256", expected "nistp384"/);
    const offCurve = point.slice();
    offCurve[offCurve.length - 1] = offCurve[offCurve.length - 1]! ^ 1;
    expectInvalid(craft(ecdsa, { keyFields: new SshWriter().string('nistp384').string(offCurve).finish().slice() }), /not on curve/);
    expectInvalid(craft(base(), { keyFields: new SshWriter().string(new Uint8Array(31)).finish().slice() }), /32/);
  });

  it('honours the minimum RSA size of the key parser', () => {
    const c = cert('user-rsa-2048');
    expect(() => parseCertificate(c.blob, { minRsaBits: 3072 })).toThrow(/modulus is 2048 bits/);
  });

  it('isCertificateBlob looks only at the type name', () => {
    expect(isCertificateBlob(base().blob)).toBe(true);
    expect(isCertificateBlob(str('ssh-dss-cert-v01@openssh.com'))).toBe(true);
    expect(isCertificateBlob(pub('ed25519.pub').blob)).toBe(false);
    expect(isCertificateBlob(new Uint8Array([0, 0]))).toBe(false);
  });
});

describe('parseCertificateLine and formatCertificateLine', () => {
  it('keeps the comment and tolerates surrounding whitespace', () => {
    const { certificate, comment } = parseCertificateLine(`  ${certLine('user-ed25519').trim()}   \n`);
    expect(comment).toBe('hermit-fixture-ed25519');
    expect(formatCertificateLine(certificate, 'x y')).toMatch(/^ssh-ed25519-cert-v01@openssh\.com \S+ x y$/);
    expect(() => formatCertificateLine(certificate, 'a\nb')).toThrow(RangeError);
  });

  const fails = (line: string, code: string, message: RegExp) => {
    let error: unknown;
    try {
      parseCertificateLine(line);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(KeyFormatError);
    expect((error as KeyFormatError).code).toBe(code);
    expect((error as Error).message).toMatch(message);
  };

  it('explains what is wrong', () => {
    fails('', 'KEY_FORMAT_INVALID', /expected a certificate line/);
    fails(read('ed25519.pub'), 'KEY_FORMAT_UNSUPPORTED', /plain key type, not a certificate/);
    fails('ssh-ed25519-cert-v01@openssh.com !!!!', 'KEY_FORMAT_INVALID', /not valid base64/);
    const [, b64] = certLine('user-ecdsa-256').split(' ');
    fails(`ssh-ed25519-cert-v01@openssh.com ${b64}`, 'KEY_FORMAT_INVALID', /says "ssh-ed25519-cert-v01@openssh.com" but the certificate inside is ecdsa-sha2-nistp256-cert-v01@openssh.com/);
    fails(`ssh-dss-cert-v01@openssh.com ${encodeBase64(str('ssh-dss-cert-v01@openssh.com'))}`, 'KEY_TYPE_UNSUPPORTED', /unsupported certificate type/);
    const truncated = encodeBase64(decodeBase64(b64!).subarray(0, 100));
    fails(`ecdsa-sha2-nistp256-cert-v01@openssh.com ${truncated}`, 'KEY_FORMAT_INVALID', /truncated/);
  });
});

describe('signCertificate', () => {
  it('issues what it is asked for, options sorted, and the result verifies', () => {
    const ca = priv('certs/user-ca-ecdsa-256');
    const c = signCertificate(pureCrypto, ca, {
      publicKey: pub('rsa-2048.pub'),
      certType: 'user',
      keyId: 'issued by hermit',
      principals: ['alice', 'ops'],
      serial: 0xffff_ffff_ffff_fffen,
      validAfter: T2024_01_01,
      validBefore: T2099_01_01,
      criticalOptions: [
        { name: 'source-address', value: ['10.0.0.0/8', '::1'] },
        { name: 'force-command', value: 'internal-sftp' },
      ],
      extensions: [{ name: 'permit-pty' }, { name: 'permit-X11-forwarding', value: true }],
      reserved: new Uint8Array([1, 2]),
    });
    expect(c.type).toBe('ssh-rsa-cert-v01@openssh.com');
    expect(c.signatureAlgorithm).toBe('ecdsa-sha2-nistp256');
    expect(c.serial).toBe(0xffff_ffff_ffff_fffen);
    expect(c.criticalOptions.map((o) => [o.name, o.value])).toEqual([
      ['force-command', 'internal-sftp'],
      ['source-address', ['10.0.0.0/8', '::1']],
    ]);
    expect(c.extensions.map((o) => o.name)).toEqual(['permit-X11-forwarding', 'permit-pty']);
    expect(c.reserved).toEqual(new Uint8Array([1, 2]));
    expect(c.nonce.length).toBe(32);
    expect(verifyCertificate(pureCrypto, c, goodOptions(c, { sourceAddress: '::1' }))).toEqual({ ok: true });
    expect(verifyCertificate(nobleTestCrypto, c, goodOptions(c, { sourceAddress: '10.0.0.1' }))).toEqual({ ok: true });
  });

  it('uses defaults like ssh-keygen: always/forever, serial 0, a fresh 32-byte nonce, no options', () => {
    const fields = { publicKey: pub('ed25519.pub'), certType: 'host', keyId: 'h', principals: ['h'] } as const;
    const a = signCertificate(pureCrypto, userCa(), fields);
    const b = signCertificate(pureCrypto, userCa(), fields);
    expect([a.validAfter, a.validBefore, a.serial]).toEqual([CERT_VALID_ALWAYS, CERT_VALID_FOREVER, 0n]);
    expect(a.criticalOptions).toEqual([]);
    expect(a.extensions).toEqual([]);
    expect(a.nonce.length).toBe(32);
    expect(a.nonce).not.toEqual(b.nonce);
    expect(describeValidity(a)).toBe('forever');
  });

  it('is deterministic for a given nonce with a deterministic signature scheme', () => {
    const nonce = seededRandom('cert nonce')(32);
    const a = signCertificate(pureCrypto, userCa(), baseFields({ nonce }));
    const b = signCertificate(nobleTestCrypto, userCa(), baseFields({ nonce }));
    expect(a.blob).toEqual(b.blob);
  });

  it('signs with rsa-sha2-512 for an RSA CA by default and with what it is told otherwise', () => {
    const ca = priv('certs/user-ca-rsa-3072');
    expect(signCertificate(pureCrypto, ca, baseFields()).signatureAlgorithm).toBe('rsa-sha2-512');
    for (const alg of ['rsa-sha2-256', 'ssh-rsa']) {
      const c = signCertificate(pureCrypto, ca, baseFields(), alg);
      expect(c.signatureAlgorithm).toBe(alg);
      expect(verifyCertificate(pureCrypto, c, goodOptions(c, { caSignatureAlgorithms: [alg] })).ok).toBe(true);
    }
  });

  it('refuses what it cannot encode or sign', () => {
    const ca = userCa();
    expect(() => signCertificate(pureCrypto, ca, baseFields(), 'rsa-sha2-512')).toThrow(SshUsageError);
    expect(() => signCertificate(pureCrypto, ca, baseFields(), 'ssh-dss')).toThrow(SshUsageError);
    expect(() => signCertificate(pureCrypto, ca, baseFields({ extensions: [{ name: 'permit-pty' }, { name: 'permit-pty' }] }))).toThrow(/given twice/);
    expect(() => signCertificate(pureCrypto, ca, baseFields({ extensions: [{ name: '' }] }))).toThrow(SshUsageError);
    expect(() => signCertificate(pureCrypto, ca, baseFields({ validAfter: 5n, validBefore: 5n }))).toThrow(/before validBefore/);
    expect(() => signCertificate(pureCrypto, ca, baseFields({ serial: -1n }))).toThrow(/64 bits/);
    expect(() => signCertificate(pureCrypto, ca, baseFields({ serial: 1n << 64n }))).toThrow(/64 bits/);
    expect(() => signCertificate(pureCrypto, ca, baseFields({ principals: ['a\0b'] }))).toThrow(/NUL/);
    expect(() => signCertificate(pureCrypto, ca, baseFields({ principals: [''] }))).toThrow(/empty/);
    expect(() => signCertificate(pureCrypto, ca, baseFields({ principals: Array.from({ length: 257 }, (_, i) => `p${i}`) }))).toThrow(/256/);
    expect(() => signCertificate(pureCrypto, ca, baseFields({ extensions: [{ name: 'permit-pty', value: 'not a flag' }] }))).toThrow(/cannot issue/);
  });

  it('issues an empty principal list (as ssh-keygen does without -n), which verification refuses', () => {
    const c = signCertificate(pureCrypto, userCa(), baseFields({ principals: [] }));
    expect(c.principals).toEqual([]);
    expect(verifyCertificate(pureCrypto, c, goodOptions(c)).ok).toBe(false);
  });
});

describe('certificate algorithm names', () => {
  it('lists the names each certificate type can sign under, strongest first', () => {
    expect(certificateSignatureAlgorithms('ssh-rsa-cert-v01@openssh.com')).toEqual([
      'rsa-sha2-512-cert-v01@openssh.com',
      'rsa-sha2-256-cert-v01@openssh.com',
      'ssh-rsa-cert-v01@openssh.com',
    ]);
    expect(certificateSignatureAlgorithms('ssh-ed25519-cert-v01@openssh.com')).toEqual(['ssh-ed25519-cert-v01@openssh.com']);
    expect(certificateSignatureAlgorithms('ecdsa-sha2-nistp521-cert-v01@openssh.com')).toEqual(['ecdsa-sha2-nistp521-cert-v01@openssh.com']);
  });

  it('maps certificate algorithms to signature algorithms and key types', () => {
    expect(signatureAlgorithmForCertAlgorithm('rsa-sha2-512-cert-v01@openssh.com')).toBe('rsa-sha2-512');
    expect(signatureAlgorithmForCertAlgorithm('rsa-sha2-256-cert-v01@openssh.com')).toBe('rsa-sha2-256');
    expect(signatureAlgorithmForCertAlgorithm('ssh-rsa-cert-v01@openssh.com')).toBe('ssh-rsa');
    expect(signatureAlgorithmForCertAlgorithm('ssh-ed25519-cert-v01@openssh.com')).toBe('ssh-ed25519');
    expect(signatureAlgorithmForCertAlgorithm('ecdsa-sha2-nistp384-cert-v01@openssh.com')).toBe('ecdsa-sha2-nistp384');
    expect(() => signatureAlgorithmForCertAlgorithm('ssh-ed25519')).toThrow(SshUsageError);
    expect(() => signatureAlgorithmForCertAlgorithm('ssh-dss-cert-v01@openssh.com')).toThrow(SshUsageError);
    expect(certificateKeyTypeForAlgorithm('rsa-sha2-256-cert-v01@openssh.com')).toBe('ssh-rsa-cert-v01@openssh.com');
    for (const t of CERTIFICATE_KEY_TYPES) {
      expect(certificateKeyTypeFor(plainKeyTypeOf(t))).toBe(t);
      for (const alg of certificateSignatureAlgorithms(t)) expect(certificateKeyTypeForAlgorithm(alg)).toBe(t);
    }
    expect(CERTIFICATE_ALGORITHMS.every(isCertificateAlgorithm)).toBe(true);
    expect(isCertificateKeyType('rsa-sha2-512-cert-v01@openssh.com')).toBe(false);
    expect(isCertificateAlgorithm('rsa-sha2-512-cert-v01@openssh.com')).toBe(true);
    expect(isCertificateAlgorithm('ssh-rsa')).toBe(false);
  });
});

describe.each(PROVIDERS)('signatures by certified keys (%s provider)', (_p, crypto) => {
  const CASES = ['user-ed25519', 'user-ecdsa-256', 'user-ecdsa-384', 'user-ecdsa-521', 'user-rsa-2048', 'host-rsa-3072'].flatMap((name) =>
    certificateSignatureAlgorithms(cert(name).type).map((alg) => [name, alg] as const),
  );
  const data = new TextEncoder().encode('session id || userauth request stand-in');

  it.each(CASES)('%s signs and verifies as %s', (name, alg) => {
    const c = cert(name);
    const key = priv(FIXTURES[name]!.subject);
    const signature = signWithCertificate(crypto, key, alg, data, c);
    expect(new SshReader(signature).ascii()).toBe(signatureAlgorithmForCertAlgorithm(alg));
    expect(verifyCertifiedSignature(crypto, c, alg, signature, data)).toBe(true);
    expect(verifyCertifiedSignature(crypto, c, alg, signature, new Uint8Array([...data, 0]))).toBe(false);
    for (const other of CERTIFICATE_ALGORITHMS.filter((a) => a !== alg)) {
      expect(verifyCertifiedSignature(crypto, c, other, signature, data)).toBe(false);
    }
    expect(verifyCertifiedSignature(crypto, c, signatureAlgorithmForCertAlgorithm(alg), signature, data)).toBe(false);
  });

  it('refuses to sign with a key that does not fit the algorithm or the certificate', () => {
    const ed = priv('ed25519');
    expect(() => signWithCertificate(crypto, ed, 'rsa-sha2-512-cert-v01@openssh.com', data)).toThrow(SshUsageError);
    expect(() => signWithCertificate(crypto, ed, 'ssh-ed25519', data)).toThrow(SshUsageError);
    expect(() => signWithCertificate(crypto, ed, 'ssh-ed25519-cert-v01@openssh.com', data, cert('user-ecdsa-256'))).toThrow(SshUsageError);
    const caKey = userCa();
    expect(() => signWithCertificate(crypto, caKey, 'ssh-ed25519-cert-v01@openssh.com', data, cert('user-ed25519'))).toThrow(/not the key this certificate certifies/);
  });

  it('a signature by the CA key is not a signature by the certified key', () => {
    const c = cert('user-ed25519');
    const byCa = signWithCertificate(crypto, userCa(), 'ssh-ed25519-cert-v01@openssh.com', data);
    expect(verifyCertifiedSignature(crypto, c, 'ssh-ed25519-cert-v01@openssh.com', byCa, data)).toBe(false);
  });
});

describe('formatUnixTimeUtc', () => {
  it('agrees with Date for dates across the calendar', () => {
    const random = seededRandom('utc dates');
    const samples = [0n, 59n, 60n, 86399n, 86400n, 951782400n, 951868799n, 4107542399n, 4107542400n, 253402300799n, T2099_01_01];
    for (let i = 0; i < 2000; i++) {
      const b = random(5);
      samples.push(BigInt(b[0]! * 2 ** 32 + ((b[1]! << 24) >>> 0) + (b[2]! << 16) + (b[3]! << 8) + b[4]!) % 8_000_000_000_000n);
    }
    for (const s of samples) {
      const iso = new Date(Number(s) * 1000).toISOString();
      // Beyond year 9999 Date writes "+YYYYYY-…"; we print the plain year.
      const expected = iso.replace(/\.\d{3}Z$/, '').replace(/^\+0*(?=\d{4})/, '');
      expect(formatUnixTimeUtc(s), `${s}`).toBe(expected);
    }
  });

  it('handles leap days, century rules and the 64-bit extremes', () => {
    expect(formatUnixTimeUtc(951782400n)).toBe('2000-02-29T00:00:00'); // divisible by 400: leap
    expect(formatUnixTimeUtc(4107542400n)).toBe('2100-03-01T00:00:00'); // 2100 is not a leap year
    expect(formatUnixTimeUtc(4107542399n)).toBe('2100-02-28T23:59:59');
    expect(formatUnixTimeUtc(CERT_VALID_FOREVER)).toBe('584554051223-11-09T07:00:15');
  });

  it('describes every validity shape like ssh-keygen', () => {
    expect(describeValidity({ validAfter: 0n, validBefore: CERT_VALID_FOREVER })).toBe('forever');
    expect(describeValidity({ validAfter: 0n, validBefore: T2099_01_01 })).toBe('before 2099-01-01T00:00:00');
    expect(describeValidity({ validAfter: T2024_01_01, validBefore: CERT_VALID_FOREVER })).toBe('after 2024-01-01T00:00:00');
    expect(describeValidity({ validAfter: T2024_01_01, validBefore: T2099_01_01 })).toBe('from 2024-01-01T00:00:00 to 2099-01-01T00:00:00');
  });
});

describe('describeCertificate', () => {
  it('prints unknown flag options and MD5 fingerprints like ssh-keygen', () => {
    const c = signCertificate(pureCrypto, userCa(), baseFields({ extensions: [{ name: 'flag@example.com' }] }));
    const text = describeCertificate(c, 'md5');
    expect(text).toContain('                flag@example.com UNKNOWN FLAG OPTION');
    expect(text).toMatch(/Public key: ED25519-CERT MD5:([0-9a-f]{2}:){15}[0-9a-f]{2}\n/);
  });
});
