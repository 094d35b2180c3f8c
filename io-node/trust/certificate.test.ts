/**
 * OpenSSH certificates against the real ssh-keygen: certificates we issue must be read (and their
 * CA signature verified: ssh-keygen checks it while parsing) and listed by `ssh-keygen -L`
 * exactly as we describe them; certificates ssh-keygen issues now must verify with the node:crypto
 * provider against the wall clock; and our source-address syntax check must agree with the one
 * ssh-keygen applies to `-O source-address=`.
 */
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Certificate,
  type CertificateFields,
  certificateSignatureAlgorithms,
  DEFAULT_USER_EXTENSIONS,
  describeCertificate,
  formatCertificateLine,
  parseCertificateLine,
  parseCidr,
  parseOpenSshPrivateKey,
  parsePublicKeyLine,
  type PrivateKey,
  type PublicKey,
  pureCrypto,
  signCertificate,
  signWithCertificate,
  verifyCertificate,
  verifyCertifiedSignature,
} from '../../core/index.ts';
import { nodeCrypto } from '../runtime/crypto-node.ts';
import { failEachTestWithoutOpenSsh, openSshBinaries, run } from '../tests/openssh.ts';

// Without OpenSSH every test here fails with the install hint (from a beforeEach), never skips.
failEachTestWithoutOpenSsh();
const KEYS = join(import.meta.dirname, '..', '..', 'fixtures', 'keys');
const read = (path: string) => readFileSync(join(KEYS, path), 'utf8');
const pub = (path: string): PublicKey => parsePublicKeyLine(read(path)).key;
const priv = (path: string): PrivateKey => parseOpenSshPrivateKey(read(path))[0]!;
const nowSeconds = () => BigInt(Math.floor(Date.now() / 1000));

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hermit-certs-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function keygen(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return run(openSshBinaries().sshKeygen, args, { env: { ...process.env, TZ: 'UTC' } });
}

let counter = 0;
/** Write a certificate line to a fresh `-cert.pub` file and return ssh-keygen -L's listing. */
async function listWithKeygen(c: Certificate): Promise<{ code: number | null; body: string; stderr: string }> {
  const file = join(dir, `ours-${++counter}-cert.pub`);
  writeFileSync(file, formatCertificateLine(c, 'issued by hermit') + '\n');
  const { code, stdout, stderr } = await keygen(['-L', '-f', file]);
  const [heading, ...rest] = stdout.replace(/\n$/, '').split('\n');
  if (code === 0) expect(heading).toBe(`${file}:`);
  return { code, body: rest.join('\n'), stderr };
}

const CAS = [
  ['user-ca-ed25519', undefined],
  ['user-ca-ecdsa-256', undefined],
  ['user-ca-rsa-3072', undefined],
  ['user-ca-rsa-3072', 'rsa-sha2-256'],
  ['user-ca-rsa-3072', 'ssh-rsa'],
] as const;
const SUBJECTS = ['ed25519', 'ecdsa-256', 'ecdsa-384', 'ecdsa-521', 'rsa-2048'] as const;

describe('certificates we issue, read by ssh-keygen -L', () => {
  it.each(CAS.flatMap(([ca, alg]) => SUBJECTS.map((subject) => [ca, alg ?? 'default', subject] as const)))(
    'CA %s (%s) certifying %s',
    async (ca, alg, subject) => {
      const fields: CertificateFields = {
        publicKey: pub(`${subject}.pub`),
        certType: 'user',
        keyId: `hermit ${subject} via ${ca}`,
        principals: ['alice', 'bob'],
        serial: 123456789012345678n,
        validAfter: 1704067200n,
        validBefore: 4070908800n,
        criticalOptions: [
          { name: 'source-address', value: ['10.0.0.0/8', '2001:db8::/32'] },
          { name: 'force-command', value: '/usr/bin/printf hello' },
          { name: 'verify-required' },
        ],
        extensions: [...DEFAULT_USER_EXTENSIONS, { name: 'login@example.com', value: 'alice' }, { name: 'flag@example.com' }, { name: 'no-touch-required' }],
      };
      const c = signCertificate(nodeCrypto, priv(`certs/${ca}`), fields, alg === 'default' ? undefined : alg);
      const listed = await listWithKeygen(c);
      expect(listed.stderr).toBe('');
      expect(listed.code).toBe(0);
      expect(listed.body).toBe(describeCertificate(c));
    },
  );

  it('host certificates, forever and with no extensions', async () => {
    const c = signCertificate(nodeCrypto, priv('certs/host-ca-ecdsa-256'), {
      publicKey: pub('rsa-3072.pub'),
      certType: 'host',
      keyId: 'host.example',
      principals: ['host.example', '*.example.net', '127.0.0.1'],
    });
    const listed = await listWithKeygen(c);
    expect(listed.code).toBe(0);
    expect(listed.body).toBe(describeCertificate(c));
    expect(listed.body).toContain('Valid: forever');
  });

  it('ssh-keygen refuses our certificate once a signed byte changes (it does check the CA signature)', async () => {
    const c = signCertificate(nodeCrypto, priv('certs/user-ca-ed25519'), {
      publicKey: pub('ed25519.pub'),
      certType: 'user',
      keyId: 'tamper me',
      principals: ['alice'],
    });
    expect((await listWithKeygen(c)).code).toBe(0);
    const blob = c.blob.slice();
    // The key id is inside the signed part; changing one letter keeps the structure valid.
    const at = Buffer.from(blob).indexOf('tamper me');
    blob[at] = 'T'.charCodeAt(0);
    const tampered = parseCertificateLine(`${c.type} ${Buffer.from(blob).toString('base64')}`).certificate;
    expect(tampered.keyId).toBe('Tamper me');
    expect((await listWithKeygen(tampered)).code).not.toBe(0);
    expect(verifyCertificate(nodeCrypto, tampered, { now: nowSeconds(), type: 'user', principal: 'alice', trustedCaKeys: [c.signatureKey] }).ok).toBe(false);
  });
});

describe('certificates ssh-keygen issues now', () => {
  it.each(SUBJECTS)('a %s certificate valid for ten minutes verifies against the wall clock', async (subject) => {
    const base = join(dir, `fresh-${subject}`);
    writeFileSync(`${base}.pub`, read(`${subject}.pub`));
    const ca = join(dir, 'fresh-ca');
    writeFileSync(ca, read('certs/user-ca-ed25519'));
    chmodSync(ca, 0o600);
    const made = await keygen(['-q', '-s', ca, '-I', `fresh-${subject}`, '-n', 'alice', '-V', '-5m:+5m', `${base}.pub`]);
    expect(made.stderr).toBe('');
    const c = parseCertificateLine(readFileSync(`${base}-cert.pub`, 'utf8')).certificate;
    const options = { type: 'user', principal: 'alice', trustedCaKeys: [pub('certs/user-ca-ed25519.pub')] } as const;
    expect(verifyCertificate(nodeCrypto, c, { ...options, now: nowSeconds() })).toEqual({ ok: true });
    const later = verifyCertificate(nodeCrypto, c, { ...options, now: nowSeconds() + 3600n });
    expect(later.ok).toBe(false);
    expect(!later.ok && later.reason).toMatch(/^certificate expired at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d \(UTC\)$/);
    // And the certified key signs under every name its certificate type allows.
    const data = new TextEncoder().encode('userauth request stand-in');
    for (const alg of certificateSignatureAlgorithms(c.type)) {
      const signature = signWithCertificate(nodeCrypto, priv(subject), alg, data, c);
      expect(verifyCertifiedSignature(pureCrypto, c, alg, signature, data)).toBe(true);
    }
  });

  it('every stored fixture verifies with the node:crypto provider as with the pure one', () => {
    const names = readdirSync(join(KEYS, 'certs')).filter((f) => f.endsWith('-cert.pub'));
    expect(names.length).toBe(14);
    for (const name of names) {
      const c = parseCertificateLine(read(`certs/${name}`)).certificate;
      const options = {
        now: 1750000000n,
        type: c.certType,
        trustedCaKeys: [c.signatureKey],
        sourceAddress: '10.0.0.1',
        caSignatureAlgorithms: ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
      };
      expect(verifyCertificate(nodeCrypto, c, options), name).toEqual(verifyCertificate(pureCrypto, c, options));
    }
  });
});

describe('source-address syntax agrees with ssh-keygen -O source-address=', () => {
  /** Does ssh-keygen accept this list when issuing a certificate? */
  async function keygenAccepts(list: string): Promise<boolean> {
    const base = join(dir, `sa-${++counter}`);
    writeFileSync(`${base}.pub`, read('ed25519.pub'));
    const ca = join(dir, 'sa-ca');
    writeFileSync(ca, read('certs/user-ca-ed25519'));
    chmodSync(ca, 0o600);
    const { code } = await keygen(['-q', '-s', ca, '-I', 'sa', '-n', 'alice', '-O', `source-address=${list}`, `${base}.pub`]);
    return code === 0;
  }

  const AGREED = [
    '10.0.0.0/8',
    '192.168.1.1',
    '0.0.0.0/0',
    '::/0',
    '2001:db8::/32',
    '2001:DB8::1/128',
    '::ffff:10.0.0.0/104',
    '64:ff9b::192.0.2.0/120',
    '10.0.0.0/8,192.0.2.0/24,2001:db8::/32',
    '10.0.0.1/8',
    '10.0.0.0/33',
    '::/129',
    '10.0.0.0/',
    '',
    '10.0.0.0/8,',
    'host.example',
    '*',
    '!10.0.0.0/8',
    '1::2::3',
    '1:2:3:4:5:6:7:8:9',
    '256.1.1.1',
    `${'0000:'.repeat(7)}0000/0000000128`,
    '0x0a.0.0.1',
    'fe80::1%eth0',
    '10.0.0.0/8 ',
  ];

  it.each(AGREED)('%j', async (list) => {
    const ours = list.split(',').every((entry) => parseCidr(entry) !== null);
    expect(ours).toBe(await keygenAccepts(list));
  });

  it.each(['010.0.0.1', '10.1', '10.0.0.0/08,012.0.0.0/8'])('%j: inet_aton shorthand ssh-keygen accepts and we deliberately refuse', async (list) => {
    expect(await keygenAccepts(list)).toBe(true);
    expect(list.split(',').some((entry) => parseCidr(entry) === null)).toBe(true);
  });
});
