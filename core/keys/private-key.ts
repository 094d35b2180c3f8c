/**
 * Private keys and the OpenSSH private key file format, `openssh-key-v1` (OpenSSH PROTOCOL.key),
 * plain (cipher and KDF "none") or passphrase-protected (KDF "bcrypt" and one of the ciphers in
 * openssh-encryption.ts).
 *
 *     "-----BEGIN OPENSSH PRIVATE KEY-----", base64 of:
 *     "openssh-key-v1\0" string cipher  string kdf  string kdfoptions  uint32 N
 *     string publickey[1..N]
 *     string encrypt( uint32 check  uint32 check  (privatekey comment)[1..N]  1 2 3 … to the block size )
 *     byte[taglen] AEAD tag (GCM and chacha20-poly1305 only; outside the string, as OpenSSH writes it)
 *
 * Each private key uses the field encoding of ssh-agent's add-identity request (PROTOCOL.key
 * section 3; draft-ietf-sshm-ssh-agent): Ed25519 `string pk || string seed‖pk`; ECDSA
 * `string curve || string Q || mpint d`; RSA `mpint n, e, d, iqmp, p, q`.
 *
 * Errors are {@link KeyFormatError}s whose messages tell the user how to get a readable key.
 */
import type { CryptoProvider, EcCurve, RandomSource, RsaPrivateKey } from '../crypto/provider.ts';
import { SshReader } from '../wire/reader.ts';
import { SshWriter } from '../wire/writer.ts';
import { decodeBase64, encodeBase64 } from './base64.ts';
import { KeyFormatError } from './errors.ts';
import {
  DEFAULT_KDF_ROUNDS,
  DEFAULT_OPENSSH_KEY_CIPHER,
  MAX_KDF_ROUNDS,
  OPENSSH_KEY_CIPHERS,
  cipherBlockSize,
  cipherTagLength,
  decryptSection,
  deriveKeyAndIv,
  encodeBcryptKdfOptions,
  encryptSection,
  isOpenSshKeyCipher,
  newSalt,
  parseBcryptKdfOptions,
  type OpenSshKeyCipher,
} from './openssh-encryption.ts';
import {
  ECDSA_CURVES,
  RSA_MIN_MODULUS_BITS,
  bitLength,
  bytesEqual,
  checkRsaPublic,
  ecdsaPublicKey,
  ed25519PublicKey,
  isEcdsaKeyType,
  parsePublicKeyBlob,
  rsaPublicKey,
  type EcdsaKeyType,
  type EcdsaPublicKey,
  type Ed25519PublicKey,
  type PublicKey,
  type RsaSshPublicKey,
} from './public-key.ts';

export type Ed25519PrivateKey = {
  readonly type: 'ssh-ed25519';
  /** The 32-byte RFC 8032 private key (OpenSSH stores it followed by the public key). */
  readonly seed: Uint8Array;
  readonly publicKey: Ed25519PublicKey;
  readonly comment: string;
};
export type EcdsaPrivateKey = {
  readonly type: EcdsaKeyType;
  readonly curve: EcCurve;
  /** The private scalar, big-endian, left-padded to the field size (66 bytes for P-521). */
  readonly d: Uint8Array;
  readonly publicKey: EcdsaPublicKey;
  readonly comment: string;
};
export type RsaSshPrivateKey = {
  readonly type: 'ssh-rsa';
  readonly rsa: RsaPrivateKey;
  readonly publicKey: RsaSshPublicKey;
  readonly comment: string;
};
export type PrivateKey = Ed25519PrivateKey | EcdsaPrivateKey | RsaSshPrivateKey;

export type GeneratableKeyType = 'ed25519' | 'ecdsa-256' | 'ecdsa-384' | 'ecdsa-521';

/** What key construction needs from a provider: deriving public keys. */
export type KeyDerivationCrypto = Pick<CryptoProvider, 'ed25519PublicKey' | 'ecdsaPublicKey'>;

const BEGIN = '-----BEGIN OPENSSH PRIVATE KEY-----';
const END = '-----END OPENSSH PRIVATE KEY-----';
const MAGIC = new TextEncoder().encode('openssh-key-v1\0');
/** OpenSSH itself writes and reads exactly one key per file; a few more cost nothing. */
const MAX_KEYS = 64;
const BASE64_LINE = 70;
const lenientUtf8 = new TextDecoder('utf-8');

function invalid(message: string, cause?: unknown): KeyFormatError {
  return new KeyFormatError('KEY_FORMAT_INVALID', message, cause === undefined ? undefined : { cause });
}

// ---- construction ---------------------------------------------------------------------------

export function ed25519PrivateKey(seed: Uint8Array, crypto: KeyDerivationCrypto, comment = ''): Ed25519PrivateKey {
  if (seed.length !== 32) throw invalid(`an Ed25519 private key is 32 bytes, got ${seed.length}`);
  return { type: 'ssh-ed25519', seed: seed.slice(), publicKey: ed25519PublicKey(crypto.ed25519PublicKey(seed)), comment };
}

/** `d` is the big-endian scalar; shorter encodings are left-padded to the field size. */
export function ecdsaPrivateKey(curve: EcCurve, d: Uint8Array, crypto: KeyDerivationCrypto, comment = ''): EcdsaPrivateKey {
  const info = ECDSA_CURVES[curve];
  const scalar = toFieldBytes(curve, d);
  const publicKey = ecdsaPublicKey(curve, crypto.ecdsaPublicKey(curve, scalar));
  return { type: info.type, curve, d: scalar, publicKey, comment };
}

/**
 * Wrap RSA integers as a key after checking they are consistent (n = p·q, e·d ≡ 1 modulo p−1 and
 * q−1, iqmp·q ≡ 1 mod p), so a damaged file fails here rather than as a refused signature later.
 */
export function rsaPrivateKey(rsa: RsaPrivateKey, comment = '', minBits = RSA_MIN_MODULUS_BITS): RsaSshPrivateKey {
  checkRsaPublic(rsa.n, rsa.e, minBits, (m) => invalid(m));
  const { n, e, d, p, q, iqmp } = rsa;
  if (p <= 1n || q <= 1n || p * q !== n) throw invalid('RSA private key is inconsistent: n is not p·q');
  if ((e * d) % (p - 1n) !== 1n || (e * d) % (q - 1n) !== 1n) throw invalid('RSA private key is inconsistent: d does not invert e');
  if ((iqmp * q) % p !== 1n) throw invalid('RSA private key is inconsistent: iqmp is not q⁻¹ mod p');
  const key = { n, e, d, p, q, iqmp };
  return { type: 'ssh-rsa', rsa: key, publicKey: rsaPublicKey(n, e, { minRsaBits: minBits }), comment };
}

function toFieldBytes(curve: EcCurve, d: Uint8Array): Uint8Array {
  const info = ECDSA_CURVES[curve];
  let start = 0;
  while (start < d.length && d[start] === 0) start++;
  const magnitude = d.subarray(start);
  if (magnitude.length > info.fieldBytes) throw invalid(`ECDSA ${info.identifier} private scalar is too long`);
  const out = new Uint8Array(info.fieldBytes);
  out.set(magnitude, info.fieldBytes - magnitude.length);
  let v = 0n;
  for (const b of out) v = (v << 8n) | BigInt(b);
  if (v === 0n || v >= info.order) throw invalid(`ECDSA ${info.identifier} private scalar is out of range`);
  return out;
}

/** A fresh Ed25519 or ECDSA key. RSA generation needs prime search and lives in the adapters. */
export function generatePrivateKey(
  type: GeneratableKeyType,
  random: RandomSource,
  crypto: KeyDerivationCrypto,
  comment = '',
): PrivateKey {
  if (type === 'ed25519') return ed25519PrivateKey(random(32), crypto, comment);
  const curve: EcCurve = type === 'ecdsa-256' ? 'p256' : type === 'ecdsa-384' ? 'p384' : 'p521';
  const info = ECDSA_CURVES[curve];
  // Rejection sampling over [1, order): masking the surplus top bits keeps the acceptance rate
  // near 1 (P-521's field is 66 bytes for a 521-bit order) and the distribution uniform.
  const surplus = info.fieldBytes * 8 - bitLength(info.order);
  for (let attempt = 0; attempt < 1000; attempt++) {
    const candidate = random(info.fieldBytes).slice();
    candidate[0] = candidate[0]! & (0xff >> surplus);
    let v = 0n;
    for (const b of candidate) v = (v << 8n) | BigInt(b);
    if (v !== 0n && v < info.order) return ecdsaPrivateKey(curve, candidate, crypto, comment);
  }
  throw new Error('random source keeps returning out-of-range ECDSA scalars; it is broken');
}

// ---- parsing --------------------------------------------------------------------------------

export type ParsePrivateKeyOptions = {
  /** Names the key in error messages and in the commands they suggest (e.g. a file path). */
  readonly source?: string;
  /** Smallest RSA modulus accepted, in bits. Default {@link RSA_MIN_MODULUS_BITS}. */
  readonly minRsaBits?: number;
  /** The passphrase of an encrypted key (a string is UTF-8 encoded). Empty means none. */
  readonly passphrase?: string | Uint8Array;
  /** Derives public keys where a format stores only the private half. Default: the pure provider. */
  readonly crypto?: KeyDerivationCrypto;
  /** Most bcrypt rounds accepted from an openssh-key-v1 file. Default {@link MAX_KDF_ROUNDS}. */
  readonly maxKdfRounds?: number;
  /** Most PBKDF2 iterations accepted from a PKCS#8 file. Default 10,000,000. */
  readonly maxPbkdf2Iterations?: number;
};

export function passphraseBytes(passphrase: string | Uint8Array): Uint8Array {
  return typeof passphrase === 'string' ? new TextEncoder().encode(passphrase) : passphrase;
}

export function hasPassphrase(passphrase: string | Uint8Array | undefined): passphrase is string | Uint8Array {
  return passphrase !== undefined && passphrase.length > 0;
}

/** KEY_PASSPHRASE_WRONG, shared by every encrypted format so callers can test one code. */
export function wrongPassphrase(source: string, detail?: string): KeyFormatError {
  return new KeyFormatError(
    'KEY_PASSPHRASE_WRONG',
    `${source}: incorrect passphrase${detail ? ` (${detail})` : ''}; check the passphrase and try again`,
  );
}

/**
 * Parse an `openssh-key-v1` file (the format `ssh-keygen` writes by default), decrypting it with
 * `options.passphrase` when it is protected. Throws {@link KeyFormatError}: KEY_ENCRYPTED when a
 * passphrase is needed and none was given, KEY_PASSPHRASE_WRONG when it does not decrypt the key,
 * KEY_FORMAT_UNSUPPORTED for other formats (PEM, PKCS#8 — see load.ts — PuTTY, public keys) and
 * unknown ciphers, KEY_TYPE_UNSUPPORTED for DSA, security keys and the like, KEY_FORMAT_INVALID
 * for damaged files.
 */
export function parseOpenSshPrivateKey(text: string, options: ParsePrivateKeyOptions = {}): PrivateKey[] {
  const source = options.source ?? 'the key file';
  const quoted = options.source === undefined ? '<key file>' : shellQuote(options.source);
  const begin = text.indexOf(BEGIN);
  if (begin < 0) throw unsupportedFormat(text, source, quoted);
  const end = text.indexOf(END, begin + BEGIN.length);
  if (end < 0) throw invalid(`${source}: the "${END}" line is missing; the file is truncated`);
  const body = text.slice(begin + BEGIN.length, end).replace(/[\r\n\t ]+/g, '');

  let bytes: Uint8Array;
  try {
    bytes = decodeBase64(body);
  } catch (err) {
    throw invalid(`${source}: the OpenSSH private key is not valid base64 (${(err as Error).message})`, err);
  }
  try {
    return parseBinary(bytes, source, quoted, options);
  } catch (err) {
    if (err instanceof KeyFormatError) throw err;
    throw invalid(`${source}: malformed OpenSSH private key: ${(err as Error).message}`, err);
  }
}

function parseBinary(bytes: Uint8Array, source: string, quoted: string, options: ParsePrivateKeyOptions): PrivateKey[] {
  const minRsaBits = options.minRsaBits ?? RSA_MIN_MODULUS_BITS;
  const r = new SshReader(bytes, 'OpenSSH private key');
  if (r.remaining < MAGIC.length || !bytesEqual(r.raw(MAGIC.length), MAGIC)) {
    throw invalid(`${source}: not an openssh-key-v1 key (bad magic)`);
  }
  const cipherName = r.ascii(64);
  const kdf = r.ascii(64);
  const kdfOptions = r.string(4096);
  let cipher: OpenSshKeyCipher | 'none';
  if (cipherName === 'none') {
    if (kdf !== 'none') throw invalid(`${source}: cipher "none" with kdf "${kdf}" is inconsistent; the file is damaged`);
    if (kdfOptions.length !== 0) throw invalid(`${source}: kdf "none" must have empty options`);
    cipher = 'none';
  } else {
    if (!isOpenSshKeyCipher(cipherName)) {
      throw new KeyFormatError(
        'KEY_FORMAT_UNSUPPORTED',
        `${source} is encrypted with the cipher "${cipherName}", which is not supported (${Object.keys(OPENSSH_KEY_CIPHERS).join(', ')} are); ` +
          `re-encrypt it with: ssh-keygen -p -Z aes256-ctr -f ${quoted}`,
      );
    }
    if (kdf !== 'bcrypt') {
      if (kdf === 'none') throw invalid(`${source}: cipher "${cipherName}" with kdf "none" is inconsistent; the file is damaged`);
      throw new KeyFormatError(
        'KEY_FORMAT_UNSUPPORTED',
        `${source} uses the key derivation "${kdf}", which is not supported (only bcrypt is); re-encrypt it with: ssh-keygen -p -f ${quoted}`,
      );
    }
    cipher = cipherName;
  }
  const count = r.uint32();
  if (count < 1 || count > MAX_KEYS) throw invalid(`${source}: holds ${count} keys; expected 1 to ${MAX_KEYS}`);
  const publicKeys: PublicKey[] = [];
  for (let i = 0; i < count; i++) publicKeys.push(parseStoredPublicKey(r.string(), source, minRsaBits));
  const stored = r.string();
  const tagLength = cipherTagLength(cipher);
  if (r.remaining !== tagLength) {
    throw invalid(`${source}: ${r.remaining} trailing bytes after the private section, expected ${tagLength}; the file is truncated or damaged`);
  }
  const tag = r.raw(tagLength);
  r.end();

  const blockSize = cipherBlockSize(cipher);
  if (stored.length < blockSize || stored.length % blockSize !== 0) {
    throw invalid(`${source}: private section is ${stored.length} bytes, not padded to a positive multiple of the ${blockSize}-byte block size; the file is damaged`);
  }
  let section = stored;
  if (cipher !== 'none') {
    let kdfParams: { salt: Uint8Array; rounds: number };
    try {
      kdfParams = parseBcryptKdfOptions(kdfOptions);
    } catch (err) {
      throw invalid(`${source}: malformed bcrypt kdf options: ${(err as Error).message}`, err);
    }
    const maxRounds = options.maxKdfRounds ?? MAX_KDF_ROUNDS;
    if (kdfParams.salt.length === 0) throw invalid(`${source}: the bcrypt salt is empty; the file is damaged`);
    if (kdfParams.rounds < 1) throw invalid(`${source}: the bcrypt round count is 0; the file is damaged`);
    if (kdfParams.rounds > maxRounds) {
      throw invalid(
        `${source}: asks for ${kdfParams.rounds} bcrypt rounds, above the limit of ${maxRounds} (ssh-keygen uses 16 to 24); ` +
          `a file asking for that much work is damaged or hostile. If you made it yourself with a large -a, re-encrypt it ` +
          `with fewer rounds: ssh-keygen -p -a 64 -f ${quoted}`,
      );
    }
    if (!hasPassphrase(options.passphrase)) {
      throw new KeyFormatError(
        'KEY_ENCRYPTED',
        `${source} is protected by a passphrase (cipher ${cipher}, kdf bcrypt, ${kdfParams.rounds} rounds); a passphrase is ` +
          `needed to read it. Supply the passphrase, or make an unencrypted private copy: cp ${quoted} ${quoted}.plain && ` +
          `ssh-keygen -p -N '' -f ${quoted}.plain (it asks for the old passphrase), and keep the copy private.`,
      );
    }
    const keyIv = deriveKeyAndIv(cipher, passphraseBytes(options.passphrase), kdfParams.salt, kdfParams.rounds);
    const plain = decryptSection(cipher, keyIv, stored, tag);
    keyIv.fill(0);
    if (!plain) throw wrongPassphrase(source, 'the authentication tag does not verify');
    section = plain;
  }

  const p = new SshReader(section, 'private key section');
  const check1 = p.uint32();
  const check2 = p.uint32();
  if (check1 !== check2) {
    // Encrypted, differing check values are how OpenSSH detects a wrong passphrase; unencrypted,
    // they can only mean the file was damaged or edited.
    if (cipher !== 'none') throw wrongPassphrase(source, 'the decrypted check values differ');
    throw invalid(`${source}: check values differ; the private key is corrupt`);
  }

  const keys: PrivateKey[] = [];
  for (const publicKey of publicKeys) {
    const key = parsePrivateFields(p, publicKey, source, minRsaBits);
    keys.push(key);
  }
  const padding = p.rest();
  if (padding.length >= blockSize) throw invalid(`${source}: ${padding.length} bytes of padding; at most ${blockSize - 1} expected`);
  for (let i = 0; i < padding.length; i++) {
    if (padding[i] !== i + 1) throw invalid(`${source}: padding bytes are not 1, 2, 3, …; the private key is corrupt`);
  }
  return keys;
}

function parseStoredPublicKey(blob: Uint8Array, source: string, minRsaBits: number): PublicKey {
  const type = peekType(blob);
  if (type !== null && /^(ssh-dss|sk-|.*-cert-v01@openssh\.com$)/.test(type)) {
    throw new KeyFormatError('KEY_TYPE_UNSUPPORTED', `${source}: ${type} keys are not supported; use an ed25519, ecdsa or rsa key`);
  }
  if (type !== null && /^ssh-(ed448|xmss)/.test(type)) {
    throw new KeyFormatError('KEY_TYPE_UNSUPPORTED', `${source}: ${type} keys are not supported; use an ed25519, ecdsa or rsa key`);
  }
  try {
    return parsePublicKeyBlob(blob, { minRsaBits });
  } catch (err) {
    throw invalid(`${source}: ${(err as Error).message}`, err);
  }
}

function peekType(blob: Uint8Array): string | null {
  try {
    return new SshReader(blob).ascii(64);
  } catch {
    return null;
  }
}

function parsePrivateFields(p: SshReader, publicKey: PublicKey, source: string, minRsaBits: number): PrivateKey {
  const type = p.ascii(64);
  if (type !== publicKey.type) throw invalid(`${source}: private key is ${type} but its public key is ${publicKey.type}`);
  const mismatch = () => invalid(`${source}: private key does not match its public key; the file is corrupt`);
  let key: PrivateKey;
  switch (publicKey.type) {
    case 'ssh-ed25519': {
      const pk = p.string();
      const sk = p.string();
      if (pk.length !== 32 || sk.length !== 64) throw invalid(`${source}: Ed25519 private key has wrong field lengths`);
      if (!bytesEqual(pk, publicKey.key) || !bytesEqual(sk.subarray(32), pk)) throw mismatch();
      key = { type: 'ssh-ed25519', seed: sk.slice(0, 32), publicKey, comment: '' };
      break;
    }
    case 'ssh-rsa': {
      const n = p.mpint();
      const e = p.mpint();
      const d = p.mpint();
      const iqmp = p.mpint();
      const pp = p.mpint();
      const q = p.mpint();
      if (n !== publicKey.n || e !== publicKey.e) throw mismatch();
      try {
        key = rsaPrivateKey({ n, e, d, p: pp, q, iqmp }, '', minRsaBits);
      } catch (err) {
        throw invalid(`${source}: ${(err as Error).message}`, err);
      }
      break;
    }
    default: {
      if (!isEcdsaKeyType(type)) throw invalid(`${source}: unexpected key type ${type}`);
      const identifier = p.ascii(64);
      const point = p.string();
      const d = p.mpintBytes();
      if (identifier !== ECDSA_CURVES[publicKey.curve].identifier || !bytesEqual(point, publicKey.point)) throw mismatch();
      key = { type: publicKey.type, curve: publicKey.curve, d: toFieldBytes(publicKey.curve, d), publicKey, comment: '' };
    }
  }
  const comment = lenientUtf8.decode(p.string());
  return { ...key, comment };
}

function unsupportedFormat(text: string, source: string, quoted: string): KeyFormatError {
  const convert = `read it with parsePrivateKey, which accepts every format, or let ssh-keygen -p -f ${quoted} rewrite it in the OpenSSH format (keep a backup)`;
  const head = text.trimStart();
  if (/-----BEGIN DSA PRIVATE KEY-----/.test(text)) {
    return new KeyFormatError('KEY_TYPE_UNSUPPORTED', `${source} is a DSA key; DSA is not supported, use an ed25519, ecdsa or rsa key (ssh-keygen -t ed25519)`);
  }
  if (/-----BEGIN (RSA|EC) PRIVATE KEY-----/.test(text)) {
    return new KeyFormatError('KEY_FORMAT_UNSUPPORTED', `${source} is a PEM (PKCS#1/SEC1) private key, not an OpenSSH one; ${convert}`);
  }
  if (/-----BEGIN (ENCRYPTED )?PRIVATE KEY-----/.test(text)) {
    return new KeyFormatError('KEY_FORMAT_UNSUPPORTED', `${source} is a PKCS#8 private key, not an OpenSSH one; ${convert}`);
  }
  if (head.startsWith('PuTTY-User-Key-File-')) {
    return new KeyFormatError(
      'KEY_FORMAT_UNSUPPORTED',
      `${source} is a PuTTY key; convert it with: puttygen ${quoted} -O private-openssh-new -o ${quoted}.openssh`,
    );
  }
  if (/^(ssh-|ecdsa-sha2-|sk-)\S+ [A-Za-z0-9+/=]+/.test(head)) {
    return new KeyFormatError(
      'KEY_FORMAT_UNSUPPORTED',
      `${source} is a public key; pass the private key file instead (the same name without ".pub")`,
    );
  }
  return new KeyFormatError(
    'KEY_FORMAT_UNSUPPORTED',
    `${source} is not an OpenSSH private key (no "${BEGIN}" line); create one with ssh-keygen -t ed25519 -f <file>`,
  );
}

export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./~+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

// ---- serialisation --------------------------------------------------------------------------

export type SerializeOpenSshOptions = {
  /** Encrypt the private section with this passphrase (a string is UTF-8 encoded); empty: don't. */
  readonly passphrase?: string | Uint8Array;
  /** bcrypt rounds, 1 to {@link MAX_KDF_ROUNDS}; default {@link DEFAULT_KDF_ROUNDS} (ssh-keygen -a). */
  readonly rounds?: number;
  /** Cipher; default aes256-ctr (ssh-keygen -Z). */
  readonly cipher?: OpenSshKeyCipher;
};

/**
 * Write keys as an `openssh-key-v1` file, byte-compatible with what `ssh-keygen` produces: random
 * check values, 1, 2, 3, … padding to the cipher's block size, base64 in 70-column lines. With a
 * passphrase, a 16-byte salt is drawn from `random` after the check value and the section is
 * encrypted as `ssh-keygen -N` does.
 */
export function serializeOpenSshPrivateKey(
  keys: PrivateKey | readonly PrivateKey[],
  random: RandomSource,
  options: SerializeOpenSshOptions = {},
): string {
  const list: readonly PrivateKey[] = Array.isArray(keys) ? keys : [keys as PrivateKey];
  if (list.length < 1 || list.length > MAX_KEYS) throw new RangeError(`can write 1 to ${MAX_KEYS} keys, got ${list.length}`);
  const encrypt = hasPassphrase(options.passphrase);
  const cipher: OpenSshKeyCipher | 'none' = encrypt ? (options.cipher ?? DEFAULT_OPENSSH_KEY_CIPHER) : 'none';
  if (cipher !== 'none' && !isOpenSshKeyCipher(cipher)) throw new RangeError(`unknown cipher "${String(cipher)}"; use one of ${Object.keys(OPENSSH_KEY_CIPHERS).join(', ')}`);
  const rounds = options.rounds ?? DEFAULT_KDF_ROUNDS;
  if (encrypt && (!Number.isInteger(rounds) || rounds < 1 || rounds > MAX_KDF_ROUNDS)) {
    throw new RangeError(`bcrypt rounds must be an integer from 1 to ${MAX_KDF_ROUNDS}, got ${rounds}`);
  }
  const blockSize = cipherBlockSize(cipher);

  const section = new SshWriter();
  const check = random(4);
  const checkValue = ((check[0]! << 24) | (check[1]! << 16) | (check[2]! << 8) | check[3]!) >>> 0;
  section.uint32(checkValue).uint32(checkValue);
  for (const key of list) {
    section.string(key.type);
    switch (key.type) {
      case 'ssh-ed25519': {
        const pk = key.publicKey.key;
        const sk = new Uint8Array(64);
        sk.set(key.seed);
        sk.set(pk, 32);
        section.string(pk).string(sk);
        break;
      }
      case 'ssh-rsa': {
        const { n, e, d, iqmp, p, q } = key.rsa;
        section.mpint(n).mpint(e).mpint(d).mpint(iqmp).mpint(p).mpint(q);
        break;
      }
      default:
        section.string(ECDSA_CURVES[key.curve].identifier).string(key.publicKey.point).mpintFromBytes(key.d);
    }
    section.string(key.comment);
  }
  for (let i = 1; section.size % blockSize !== 0; i++) section.byte(i);
  const plain = section.finish();

  let kdfName = 'none';
  let kdfOptions: Uint8Array = new Uint8Array(0);
  let body: Uint8Array = plain;
  let tag: Uint8Array = new Uint8Array(0);
  if (cipher !== 'none') {
    const salt = newSalt(random);
    kdfName = 'bcrypt';
    kdfOptions = encodeBcryptKdfOptions(salt, rounds);
    const keyIv = deriveKeyAndIv(cipher, passphraseBytes(options.passphrase!), salt, rounds);
    ({ data: body, tag } = encryptSection(cipher, keyIv, plain));
    keyIv.fill(0);
    plain.fill(0);
  }

  const w = new SshWriter(1024);
  w.raw(MAGIC).string(cipher).string(kdfName).string(kdfOptions).uint32(list.length);
  for (const key of list) w.string(key.publicKey.blob);
  w.string(body).raw(tag);

  const b64 = encodeBase64(w.finish());
  const lines = [BEGIN];
  for (let i = 0; i < b64.length; i += BASE64_LINE) lines.push(b64.slice(i, i + BASE64_LINE));
  lines.push(END, '');
  return lines.join('\n');
}
