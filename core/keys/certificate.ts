/**
 * OpenSSH certificates (OpenSSH PROTOCOL.certkeys, since 2025 draft-miller-ssh-cert): a public key
 * plus identity and usage restrictions, signed by a certification authority key.
 *
 *     string  "<key type>-cert-v01@openssh.com"
 *     string  nonce
 *     ...     the key's own fields (ed25519: string pk; ecdsa: string curve, string Q; rsa: mpint e, mpint n)
 *     uint64  serial          uint32 type (1 user, 2 host)      string key id
 *     string  valid principals (packed strings)                  uint64 valid after   uint64 valid before
 *     string  critical options   string extensions   string reserved   string signature key
 *     string  signature        (over every byte before it)
 *
 * Options and extensions are `string name || string data` tuples, lexically ordered by name with
 * no name repeated ("Critical options"/"Extensions" sections); the data of a valued option is
 * itself a string inside the data string.
 *
 * Parsing is structural and strict: unknown certificate types, trailing bytes, unordered or
 * repeated option names, malformed values of known options, a CA key that is itself a
 * certificate ("Chained certificates … are NOT supported") and a signature that cannot belong to
 * the CA key are refused. Whether a certificate is *acceptable* — CA trust, signature, type,
 * validity window, principals, critical options, source address — is {@link verifyCertificate}'s
 * job, because that needs crypto, a clock reading and a policy.
 *
 * Blobs arrive from the peer (KEXDH_REPLY host keys, USERAUTH_REQUEST), so, as in public-key.ts,
 * defects raise {@link SshProtocolError} (HOST_KEY_INVALID); the `.pub` line reader converts them
 * into {@link KeyFormatError}s.
 *
 * Dates are unix seconds as bigint (the fields are uint64); core has no clock, the adapter
 * supplies `now`. Times are printed in UTC, computed here from the seconds.
 */
import { DisconnectReason, SshProtocolError, SshUsageError } from '../errors.ts';
import { systemRandom } from '../random.ts';
import { SshReader } from '../wire/reader.ts';
import { SshWriter } from '../wire/writer.ts';
import { addressMatchesCidrList, isValidCidrList, matchWildcardPattern } from './address-match.ts';
import { decodeBase64, encodeBase64 } from './base64.ts';
import { KeyFormatError } from './errors.ts';
import { fingerprint, keyTypeLabel, type FingerprintHash } from './format.ts';
import type { PrivateKey } from './private-key.ts';
import {
  ECDSA_CURVES,
  RSA_MAX_MODULUS_BITS,
  curveForKeyType,
  encodePublicKeyBlob,
  isEcdsaKeyType,
  isKeyType,
  parsePublicKeyBlob,
  publicKeysEqual,
  type KeyType,
  type ParsePublicKeyOptions,
  type PublicKey,
} from './public-key.ts';
import {
  isSignatureAlgorithm,
  keyTypeForSignatureAlgorithm,
  sign,
  signatureAlgorithmsForKey,
  verifySignature,
  type SignatureCrypto,
} from './signature.ts';

// ---- names ----------------------------------------------------------------------------------

export type CertificateKeyType = `${KeyType}-cert-v01@openssh.com`;
/**
 * Names usable as public key / host key algorithms: the key types, plus the two RSA names that
 * pin the signature hash (PROTOCOL.certkeys: they appear in KEXINIT and USERAUTH_REQUEST, never
 * in a certificate blob).
 */
export type CertificateAlgorithm = CertificateKeyType | 'rsa-sha2-512-cert-v01@openssh.com' | 'rsa-sha2-256-cert-v01@openssh.com';

const SUFFIX = '-cert-v01@openssh.com';

export const CERTIFICATE_KEY_TYPES: readonly CertificateKeyType[] = [
  'ssh-ed25519-cert-v01@openssh.com',
  'ecdsa-sha2-nistp256-cert-v01@openssh.com',
  'ecdsa-sha2-nistp384-cert-v01@openssh.com',
  'ecdsa-sha2-nistp521-cert-v01@openssh.com',
  'ssh-rsa-cert-v01@openssh.com',
];

export const CERTIFICATE_ALGORITHMS: readonly CertificateAlgorithm[] = [
  'ssh-ed25519-cert-v01@openssh.com',
  'ecdsa-sha2-nistp256-cert-v01@openssh.com',
  'ecdsa-sha2-nistp384-cert-v01@openssh.com',
  'ecdsa-sha2-nistp521-cert-v01@openssh.com',
  'rsa-sha2-512-cert-v01@openssh.com',
  'rsa-sha2-256-cert-v01@openssh.com',
  'ssh-rsa-cert-v01@openssh.com',
];

export function isCertificateKeyType(name: string): name is CertificateKeyType {
  return (CERTIFICATE_KEY_TYPES as readonly string[]).includes(name);
}

export function isCertificateAlgorithm(name: string): name is CertificateAlgorithm {
  return (CERTIFICATE_ALGORITHMS as readonly string[]).includes(name);
}

/** `ssh-ed25519` → `ssh-ed25519-cert-v01@openssh.com`. */
export function certificateKeyTypeFor(keyType: KeyType): CertificateKeyType {
  return `${keyType}${SUFFIX}`;
}

/** The plain key type a certificate type certifies. */
export function plainKeyTypeOf(certType: CertificateKeyType): KeyType {
  return certType.slice(0, -SUFFIX.length) as KeyType;
}

/**
 * The signature algorithm behind a certificate algorithm name: `rsa-sha2-512-cert-v01@openssh.com`
 * signs with `rsa-sha2-512`, `ssh-rsa-cert-v01@openssh.com` with `ssh-rsa` (SHA-1), the others
 * with their key type. Throws {@link SshUsageError} for a name that is not a certificate algorithm.
 */
export function signatureAlgorithmForCertAlgorithm(certAlgorithm: string): string {
  if (!isCertificateAlgorithm(certAlgorithm)) throw new SshUsageError(`"${certAlgorithm}" is not a certificate algorithm`);
  return certAlgorithm.slice(0, -SUFFIX.length);
}

/** The certificate key type a certificate algorithm name belongs to (RSA names fold to ssh-rsa's). */
export function certificateKeyTypeForAlgorithm(certAlgorithm: string): CertificateKeyType {
  return certificateKeyTypeFor(keyTypeForSignatureAlgorithm(signatureAlgorithmForCertAlgorithm(certAlgorithm)));
}

/**
 * Algorithm names a certificate of this type can be offered and used under, most preferred first
 * (RSA: SHA-512, SHA-256, then legacy SHA-1 `ssh-rsa-cert-v01@openssh.com`, as RFC 8332 orders
 * the plain names).
 */
export function certificateSignatureAlgorithms(certType: CertificateKeyType): string[] {
  return signatureAlgorithmsForKey(plainKeyTypeOf(certType)).map((alg) => `${alg}${SUFFIX}`);
}

// ---- the model ------------------------------------------------------------------------------

export type CertificateRole = 'user' | 'host';

/** valid after = 0: valid since forever ("always" to ssh-keygen). */
export const CERT_VALID_ALWAYS = 0n;
/** valid before = 2^64-1: never expires ("forever"). */
export const CERT_VALID_FOREVER = 0xffff_ffff_ffff_ffffn;

const CERT_TYPE_USER = 1;
const CERT_TYPE_HOST = 2;
/** OpenSSH's own cap (SSHKEY_CERT_MAX_PRINCIPALS); more is abuse, not a use case. */
export const MAX_CERT_PRINCIPALS = 256;

/** Known critical options, by what their data holds. */
const CRITICAL_STRING = new Set(['force-command', 'source-address']);
const CRITICAL_FLAG = new Set(['verify-required']);
const EXTENSION_FLAG = new Set([
  'no-touch-required',
  'permit-X11-forwarding',
  'permit-agent-forwarding',
  'permit-port-forwarding',
  'permit-pty',
  'permit-user-rc',
]);

/**
 * One critical option or extension. `data` is the content of the data string, exactly as
 * received. `value` is decoded for the names this section defines: `force-command` → the
 * command, `source-address` → the list entries, flags (`verify-required`, `permit-*`,
 * `no-touch-required`) → `true`; `null` for names we do not know.
 */
export type CertificateOption = {
  readonly name: string;
  readonly data: Uint8Array;
  readonly value: string | readonly string[] | true | null;
};

export type Certificate = {
  readonly type: CertificateKeyType;
  readonly nonce: Uint8Array;
  /** The certified key, as a plain public key (its blob is the plain encoding). */
  readonly publicKey: PublicKey;
  readonly serial: bigint;
  readonly certType: CertificateRole;
  readonly keyId: string;
  readonly principals: readonly string[];
  /** Unix seconds; {@link CERT_VALID_ALWAYS} = no lower bound. */
  readonly validAfter: bigint;
  /** Unix seconds; {@link CERT_VALID_FOREVER} = no expiry. */
  readonly validBefore: bigint;
  readonly criticalOptions: readonly CertificateOption[];
  readonly extensions: readonly CertificateOption[];
  readonly reserved: Uint8Array;
  /** The CA key. */
  readonly signatureKey: PublicKey;
  /** The signature blob (`string algorithm || string signature`). */
  readonly signature: Uint8Array;
  /** The algorithm named inside {@link signature}. */
  readonly signatureAlgorithm: string;
  /** The bytes the CA signed: the whole blob up to and including the signature key. */
  readonly signedData: Uint8Array;
  /** The whole certificate as received. */
  readonly blob: Uint8Array;
};

export type ParseCertificateOptions = ParsePublicKeyOptions & {
  /**
   * Accept options and extensions that are not in lexical order. PROTOCOL.certkeys requires the
   * order and ssh-keygen writes it; OpenSSH's reader does not check it, and some third-party CAs
   * are known to get it wrong, so a caller that must accept their certificates can opt in.
   * Repeated names stay refused either way.
   */
  readonly lenientOptionOrder?: boolean;
};

function invalid(message: string): SshProtocolError {
  return new SshProtocolError('HOST_KEY_INVALID', DisconnectReason.KEY_EXCHANGE_FAILED, message);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const textEncoder = new TextEncoder();

/** A C string as OpenSSH reads them: valid UTF-8 here, and no NUL (OpenSSH cannot represent one). */
function decodeCString(raw: Uint8Array, what: string): string {
  if (raw.includes(0)) throw invalid(`certificate ${what} contains a NUL byte`);
  try {
    return utf8.decode(raw);
  } catch {
    throw invalid(`certificate ${what} is not valid UTF-8`);
  }
}

function cstring(r: SshReader, what: string): string {
  return decodeCString(r.string(), what);
}

/** Byte-wise comparison: the order `strcmp` and ssh-keygen's sort use. */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function decodeOptionValue(name: string, data: Uint8Array, critical: boolean): CertificateOption['value'] {
  const section = critical ? 'critical option' : 'extension';
  if (critical ? CRITICAL_FLAG.has(name) : EXTENSION_FLAG.has(name)) {
    if (data.length !== 0) throw invalid(`certificate ${section} "${name}" is a flag but carries data`);
    return true;
  }
  if (critical && CRITICAL_STRING.has(name)) {
    const r = new SshReader(data, `certificate ${section} "${name}"`);
    const text = cstring(r, `${section} "${name}"`);
    r.end();
    return name === 'source-address' ? text.split(',') : text;
  }
  return null;
}

function parseOptions(bytes: Uint8Array, critical: boolean, lenientOrder: boolean): CertificateOption[] {
  const section = critical ? 'critical options' : 'extensions';
  const r = new SshReader(bytes, `certificate ${section}`);
  const out: CertificateOption[] = [];
  const seen = new Set<string>();
  let previous: Uint8Array | null = null;
  while (r.remaining > 0) {
    const nameBytes = r.string();
    const name = decodeCString(nameBytes, `${section} name`);
    const data = r.string();
    if (name === '') throw invalid(`certificate ${section} include an empty name`);
    if (seen.has(name)) throw invalid(`certificate ${section} repeat the name "${name}"`);
    if (!lenientOrder && previous !== null && compareBytes(previous, nameBytes) > 0) {
      throw invalid(`certificate ${section} are not in lexical order ("${name}" follows a later name)`);
    }
    seen.add(name);
    previous = nameBytes;
    out.push({ name, data, value: decodeOptionValue(name, data, critical) });
  }
  return out;
}

function parsePrincipals(bytes: Uint8Array): string[] {
  const r = new SshReader(bytes, 'certificate principals');
  const out: string[] = [];
  while (r.remaining > 0) {
    if (out.length >= MAX_CERT_PRINCIPALS) throw invalid(`certificate lists more than ${MAX_CERT_PRINCIPALS} principals`);
    out.push(cstring(r, 'principal'));
  }
  return out;
}

/** The certified key's fields, in the certificate's layout, as a validated plain key. */
function readEmbeddedKey(r: SshReader, keyType: KeyType, options: ParsePublicKeyOptions): PublicKey {
  let plain: Uint8Array;
  if (keyType === 'ssh-ed25519') {
    plain = encodePublicKeyBlob({ type: keyType, key: r.string(64) });
  } else if (keyType === 'ssh-rsa') {
    const e = r.mpint(33);
    const n = r.mpint(RSA_MAX_MODULUS_BITS / 8 + 1);
    plain = encodePublicKeyBlob({ type: keyType, e, n });
  } else if (isEcdsaKeyType(keyType)) {
    const curve = curveForKeyType(keyType);
    const identifier = r.ascii(64);
    if (identifier !== ECDSA_CURVES[curve].identifier) {
      throw invalid(`${keyType} certificate names curve "${identifier}", expected "${ECDSA_CURVES[curve].identifier}"`);
    }
    plain = encodePublicKeyBlob({ type: keyType, curve, point: r.string(200) });
  } else {
    throw invalid(`unsupported certificate type "${keyType}${SUFFIX}"`);
  }
  // The plain parser owns the key checks (length, point on curve, RSA size); reuse it.
  return parsePublicKeyBlob(plain, options);
}

/** True when the blob names a certificate type (any, including ones we do not implement). */
export function isCertificateBlob(blob: Uint8Array): boolean {
  try {
    return new SshReader(blob).ascii(128).endsWith(SUFFIX);
  } catch {
    return false;
  }
}

/**
 * Parse a certificate blob. Throws {@link SshProtocolError} (HOST_KEY_INVALID) when it is not a
 * well-formed certificate of a supported type (see the module comment for what "well-formed"
 * covers). Does not check the signature: see {@link verifyCertificate}.
 */
export function parseCertificate(blob: Uint8Array, options: ParseCertificateOptions = {}): Certificate {
  const r = new SshReader(blob, 'certificate');
  let typeName: string;
  try {
    typeName = r.ascii(128);
  } catch (err) {
    throw invalid(`malformed certificate: ${(err as Error).message}`);
  }
  if (!isCertificateKeyType(typeName)) {
    throw invalid(
      typeName.endsWith(SUFFIX) ? `unsupported certificate type "${typeName}"` : `"${typeName}" is not a certificate type`,
    );
  }
  const type = typeName;
  try {
    const nonce = r.string();
    const publicKey = readEmbeddedKey(r, plainKeyTypeOf(type), options);
    const serial = r.uint64();
    const roleCode = r.uint32();
    const keyId = cstring(r, 'key id');
    const principalBytes = r.string();
    const validAfter = r.uint64();
    const validBefore = r.uint64();
    const criticalBytes = r.string();
    const extensionBytes = r.string();
    const reserved = r.string();
    const caBlob = r.string();
    const signedData = blob.subarray(0, r.position);
    const signature = r.string();
    r.end();

    if (roleCode !== CERT_TYPE_USER && roleCode !== CERT_TYPE_HOST) throw invalid(`certificate has unknown type ${roleCode} (1 = user, 2 = host)`);
    const principals = parsePrincipals(principalBytes);
    const lenient = options.lenientOptionOrder === true;
    const criticalOptions = parseOptions(criticalBytes, true, lenient);
    const extensions = parseOptions(extensionBytes, false, lenient);

    if (isCertificateBlob(caBlob)) throw invalid('certificate is signed by another certificate; chained certificates are not supported');
    let signatureKey: PublicKey;
    try {
      signatureKey = parsePublicKeyBlob(caBlob, options);
    } catch (err) {
      throw invalid(`certificate CA key is invalid: ${(err as Error).message}`);
    }

    const sr = new SshReader(signature, 'certificate signature');
    const signatureAlgorithm = sr.ascii(64);
    sr.string();
    sr.end();
    if (!isSignatureAlgorithm(signatureAlgorithm) || keyTypeForSignatureAlgorithm(signatureAlgorithm) !== signatureKey.type) {
      throw invalid(`certificate signature algorithm "${signatureAlgorithm}" cannot be made by a ${signatureKey.type} CA key`);
    }

    return {
      type,
      nonce,
      publicKey,
      serial,
      certType: roleCode === CERT_TYPE_USER ? 'user' : 'host',
      keyId,
      principals,
      validAfter,
      validBefore,
      criticalOptions,
      extensions,
      reserved,
      signatureKey,
      signature,
      signatureAlgorithm,
      signedData,
      blob,
    };
  } catch (err) {
    if (err instanceof SshProtocolError && err.code === 'HOST_KEY_INVALID') throw err;
    throw invalid(`malformed ${type}: ${(err as Error).message}`);
  }
}

// ---- encoding and signing -------------------------------------------------------------------

/** An option to encode: raw `data` wins; otherwise `value` is encoded (string → string, list → comma-joined string, true/absent → empty). */
export type CertificateOptionInput = {
  readonly name: string;
  readonly data?: Uint8Array;
  readonly value?: string | readonly string[] | true | null;
};

function optionData(option: CertificateOptionInput): Uint8Array {
  if (option.data !== undefined) return option.data;
  const v = option.value;
  if (typeof v === 'string') return new SshWriter().string(v).finish();
  if (Array.isArray(v)) return new SshWriter().string(v.join(',')).finish();
  return new Uint8Array(0);
}

function encodeOptions(options: readonly CertificateOptionInput[]): Uint8Array {
  const w = new SshWriter();
  for (const option of options) w.string(option.name).string(optionData(option));
  return w.finish();
}

function encodePrincipals(principals: readonly string[]): Uint8Array {
  const w = new SshWriter();
  for (const p of principals) w.string(p);
  return w.finish();
}

/** The certified key's fields as they sit inside a certificate (its plain blob minus the type). */
function embeddedKeyFields(key: PublicKey): Uint8Array {
  const r = new SshReader(key.blob);
  r.string();
  return r.rest();
}

/** What the CA signs: the certificate without its signature, options as given to the encoder. */
type Body = Omit<Certificate, 'signature' | 'signatureAlgorithm' | 'signedData' | 'blob' | 'criticalOptions' | 'extensions'> & {
  readonly criticalOptions: readonly CertificateOptionInput[];
  readonly extensions: readonly CertificateOptionInput[];
};

function encodeBody(b: Body): SshWriter {
  return new SshWriter()
    .string(b.type)
    .string(b.nonce)
    .raw(embeddedKeyFields(b.publicKey))
    .uint64(b.serial)
    .uint32(b.certType === 'user' ? CERT_TYPE_USER : CERT_TYPE_HOST)
    .string(b.keyId)
    .string(encodePrincipals(b.principals))
    .uint64(b.validAfter)
    .uint64(b.validBefore)
    .string(encodeOptions(b.criticalOptions))
    .string(encodeOptions(b.extensions))
    .string(b.reserved)
    .string(b.signatureKey.blob);
}

/**
 * Encode a certificate from its fields, in the order given (the inverse of
 * {@link parseCertificate}; `blob`, `signedData` and `signatureAlgorithm` are ignored).
 */
export function encodeCertificate(cert: Omit<Certificate, 'blob' | 'signedData' | 'signatureAlgorithm'>): Uint8Array {
  return encodeBody(cert).string(cert.signature).finish().slice();
}

/** What a CA decides when it issues a certificate. */
export type CertificateFields = {
  /** The key to certify. */
  readonly publicKey: PublicKey;
  readonly certType: CertificateRole;
  readonly keyId: string;
  /**
   * User names or host names. An empty list is encodable (ssh-keygen issues it without -n), but
   * OpenSSH refuses such certificates and so does {@link verifyCertificate}.
   */
  readonly principals: readonly string[];
  /** Default 0. */
  readonly serial?: bigint;
  /** Default {@link CERT_VALID_ALWAYS}. */
  readonly validAfter?: bigint;
  /** Default {@link CERT_VALID_FOREVER}. */
  readonly validBefore?: bigint;
  /** Sorted by name before encoding, as the format requires. */
  readonly criticalOptions?: readonly CertificateOptionInput[];
  /** Sorted by name before encoding. ssh-keygen's defaults are {@link DEFAULT_USER_EXTENSIONS}. */
  readonly extensions?: readonly CertificateOptionInput[];
  /** Default: 32 bytes from the system random source, as ssh-keygen draws. */
  readonly nonce?: Uint8Array;
  /** Default empty (the field is unused). */
  readonly reserved?: Uint8Array;
};

/** The extensions ssh-keygen grants a user certificate unless told otherwise. */
export const DEFAULT_USER_EXTENSIONS: readonly CertificateOptionInput[] = [
  { name: 'permit-X11-forwarding' },
  { name: 'permit-agent-forwarding' },
  { name: 'permit-port-forwarding' },
  { name: 'permit-pty' },
  { name: 'permit-user-rc' },
];

const UINT64_MAX = CERT_VALID_FOREVER;

function sortedOptions(options: readonly CertificateOptionInput[], what: string): CertificateOptionInput[] {
  const withBytes = options.map((o) => ({ o, key: textEncoder.encode(o.name) }));
  withBytes.sort((a, b) => compareBytes(a.key, b.key));
  for (let i = 0; i < withBytes.length; i++) {
    const name = withBytes[i]!.o.name;
    if (name === '' || name.includes('\0')) throw new SshUsageError(`${what} names must be non-empty and contain no NUL`);
    if (i > 0 && withBytes[i - 1]!.o.name === name) throw new SshUsageError(`${what} "${name}" given twice`);
  }
  return withBytes.map((x) => x.o);
}

/**
 * Issue a certificate: encode `fields`, sign every byte up to the CA key with `caKey` and return
 * the parsed result. The CA signs with `algorithm`, by default the CA key's type — for an RSA CA
 * `rsa-sha2-512`, as ssh-keygen does (`ssh-rsa` is possible when asked for, for old verifiers).
 * Throws {@link SshUsageError} for fields that cannot be encoded or an algorithm the CA key
 * cannot make.
 */
export function signCertificate(
  crypto: SignatureCrypto,
  caKey: PrivateKey,
  fields: CertificateFields,
  algorithm: string = signatureAlgorithmsForKey(caKey.type)[0]!,
): Certificate {
  const serial = fields.serial ?? 0n;
  const validAfter = fields.validAfter ?? CERT_VALID_ALWAYS;
  const validBefore = fields.validBefore ?? CERT_VALID_FOREVER;
  for (const [name, v] of [['serial', serial], ['validAfter', validAfter], ['validBefore', validBefore]] as const) {
    if (v < 0n || v > UINT64_MAX) throw new SshUsageError(`certificate ${name} must fit in 64 bits`);
  }
  if (validAfter >= validBefore) throw new SshUsageError('certificate validAfter must be before validBefore');
  if (fields.principals.length > MAX_CERT_PRINCIPALS) throw new SshUsageError(`at most ${MAX_CERT_PRINCIPALS} principals`);
  for (const text of [fields.keyId, ...fields.principals]) {
    if (text.includes('\0')) throw new SshUsageError('certificate key id and principals cannot contain NUL');
  }
  if (fields.principals.some((p) => p === '')) throw new SshUsageError('certificate principals cannot be empty strings');
  if (!isSignatureAlgorithm(algorithm) || keyTypeForSignatureAlgorithm(algorithm) !== caKey.type) {
    throw new SshUsageError(`a ${caKey.type} CA cannot sign with "${algorithm}"`);
  }
  const body = encodeBody({
    type: certificateKeyTypeFor(fields.publicKey.type),
    nonce: fields.nonce ?? systemRandom(32),
    publicKey: fields.publicKey,
    serial,
    certType: fields.certType,
    keyId: fields.keyId,
    principals: fields.principals,
    validAfter,
    validBefore,
    criticalOptions: sortedOptions(fields.criticalOptions ?? [], 'critical option'),
    extensions: sortedOptions(fields.extensions ?? [], 'extension'),
    reserved: fields.reserved ?? new Uint8Array(0),
    signatureKey: caKey.publicKey,
  });
  const signature = sign(crypto, caKey, algorithm, body.finish());
  try {
    return parseCertificate(body.string(signature).finish().slice(), { minRsaBits: 0 });
  } catch (err) {
    // Only reachable with option data that does not match its name (e.g. a flag with data).
    throw new SshUsageError(`cannot issue this certificate: ${(err as Error).message}`);
  }
}

// ---- verification ---------------------------------------------------------------------------

/**
 * CA signature algorithms accepted by default: OpenSSH's CASignatureAlgorithms default without
 * the security-key types we do not implement. `ssh-rsa` (SHA-1) is left out, as OpenSSH has
 * done since 8.2; pass it explicitly to accept old CAs.
 */
export const DEFAULT_CA_SIGNATURE_ALGORITHMS: readonly string[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
];

export type VerifyCertificateOptions = {
  /** Unix seconds, from the adapter's wall clock. */
  readonly now: bigint;
  /** The role the certificate is presented in. */
  readonly type: CertificateRole;
  /**
   * The name to find among the principals: the user name for user certificates (exact match),
   * the host name or address the user connected to for host certificates (principals are
   * OpenSSH wildcard patterns there: `*.example.com`). Omit it only when the caller matches
   * principals itself, e.g. through {@link authorizedPrincipals}.
   */
  readonly principal?: string;
  /**
   * The `principals="…"` list of an authorized_keys `cert-authority` line, or the names of an
   * AuthorizedPrincipalsFile: when given, the certificate must carry one of these names (exact
   * match) and {@link principal} is not consulted, as sshd does.
   */
  readonly authorizedPrincipals?: readonly string[];
  /** CA keys to trust, or a predicate deciding for a given CA key. */
  readonly trustedCaKeys: readonly PublicKey[] | ((caKey: PublicKey) => boolean);
  /** Client IP address, checked against a `source-address` critical option when there is one. */
  readonly sourceAddress?: string;
  /** Default {@link DEFAULT_CA_SIGNATURE_ALGORITHMS}. */
  readonly caSignatureAlgorithms?: readonly string[];
};

export type CertificateVerdict = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * Decide whether `cert` is acceptable, as sshd (user) or ssh (host) would:
 *
 * 1. the CA key is trusted and signed with an allowed algorithm, and the signature over
 *    {@link Certificate.signedData} verifies;
 * 2. the certificate type is the one asked for;
 * 3. `validAfter <= now < validBefore`;
 * 4. the principal list is not empty. PROTOCOL.certkeys once said an empty list means "any
 *    principal"; sshd never honoured that through TrustedUserCAKeys, and OpenSSH now refuses
 *    every empty-principal certificate (a CA tricked into issuing one would otherwise grant
 *    access to every account, CVE-2024-7594). We refuse it whatever the caller asks, including
 *    with {@link VerifyCertificateOptions.authorizedPrincipals}, which can only narrow;
 * 5. the principal matches (see {@link VerifyCertificateOptions.principal});
 * 6. critical options: a host certificate may carry none; a user certificate only
 *    `force-command`, `source-address` and `verify-required` (the last only constrains FIDO keys,
 *    which this library does not implement, so there is nothing more to check — as sshd does for
 *    other key types). Enforcing force-command is the session layer's job;
 * 7. `source-address`: the list is well-formed and contains {@link VerifyCertificateOptions.sourceAddress};
 *    without a client address a restricted certificate is refused.
 *
 * Never throws; the reason says which check failed in words fit for a log line.
 */
export function verifyCertificate(crypto: SignatureCrypto, cert: Certificate, options: VerifyCertificateOptions): CertificateVerdict {
  try {
    return check(crypto, cert, options);
  } catch (err) {
    return { ok: false, reason: `certificate could not be checked: ${(err as Error).message}` };
  }
}

const refuse = (reason: string): CertificateVerdict => ({ ok: false, reason });

function check(crypto: SignatureCrypto, cert: Certificate, options: VerifyCertificateOptions): CertificateVerdict {
  const ca = cert.signatureKey;
  const trusted =
    typeof options.trustedCaKeys === 'function'
      ? options.trustedCaKeys(ca) === true
      : options.trustedCaKeys.some((k) => publicKeysEqual(k, ca));
  if (!trusted) return refuse(`certificate is signed by an untrusted CA (${keyTypeLabel(ca)} ${fingerprint(ca.blob)})`);

  const allowed = options.caSignatureAlgorithms ?? DEFAULT_CA_SIGNATURE_ALGORITHMS;
  if (!allowed.includes(cert.signatureAlgorithm)) {
    return refuse(`certificate is signed with ${cert.signatureAlgorithm}, which is not an allowed CA signature algorithm (${allowed.join(', ')})`);
  }
  if (!verifySignature(crypto, ca, cert.signatureAlgorithm, cert.signature, cert.signedData)) {
    return refuse('certificate signature does not verify against its CA key');
  }

  if (cert.certType !== options.type) return refuse(`certificate is a ${cert.certType} certificate, expected a ${options.type} certificate`);

  if (options.now < cert.validAfter) return refuse(`certificate is not valid until ${formatUnixTimeUtc(cert.validAfter)} (UTC)`);
  if (options.now >= cert.validBefore) return refuse(`certificate expired at ${formatUnixTimeUtc(cert.validBefore)} (UTC)`);

  if (cert.principals.length === 0) return refuse('certificate lists no principals; certificates valid for any principal are refused');
  const listed = cert.principals.join(', ');
  if (options.authorizedPrincipals !== undefined) {
    if (!options.authorizedPrincipals.some((p) => cert.principals.includes(p))) {
      return refuse(`certificate principals (${listed}) include none of the authorized principals (${options.authorizedPrincipals.join(', ')})`);
    }
  } else if (options.principal !== undefined) {
    const name = options.principal;
    const matches = cert.certType === 'host' ? cert.principals.some((p) => matchWildcardPattern(name, p)) : cert.principals.includes(name);
    if (!matches) return refuse(`"${name}" is not a principal of this certificate (${listed})`);
  }

  if (cert.certType === 'host' && cert.criticalOptions.length > 0) {
    return refuse(`host certificate carries critical options (${cert.criticalOptions.map((o) => o.name).join(', ')}); none are defined for hosts`);
  }
  for (const option of cert.criticalOptions) {
    if (option.value === null) return refuse(`certificate has an unsupported critical option "${option.name}"`);
  }
  const sourceAddress = cert.criticalOptions.find((o) => o.name === 'source-address');
  if (sourceAddress !== undefined) {
    const list = Array.isArray(sourceAddress.value) ? (sourceAddress.value as readonly string[]) : [];
    if (!isValidCidrList(list)) return refuse(`certificate source-address "${list.join(',')}" is not a valid address list`);
    if (options.sourceAddress === undefined) return refuse('certificate is restricted by source-address but no client address was given');
    if (!addressMatchesCidrList(options.sourceAddress, list)) {
      return refuse(`client address ${options.sourceAddress} is not permitted by the certificate's source-address (${list.join(',')})`);
    }
  }
  return { ok: true };
}

// ---- signatures made with certified keys ----------------------------------------------------

/**
 * Verify a signature made by the certified key, for a publickey USERAUTH_REQUEST or a
 * KEXDH_REPLY under a certificate algorithm name: the algorithm must fit the certificate's type
 * and the blob must use its underlying signature algorithm. Checks only the signature; use
 * {@link verifyCertificate} for the certificate itself. Never throws.
 */
export function verifyCertifiedSignature(
  crypto: SignatureCrypto,
  cert: Certificate,
  certAlgorithm: string,
  signatureBlob: Uint8Array,
  data: Uint8Array,
): boolean {
  if (!isCertificateAlgorithm(certAlgorithm) || certificateKeyTypeForAlgorithm(certAlgorithm) !== cert.type) return false;
  return verifySignature(crypto, cert.publicKey, signatureAlgorithmForCertAlgorithm(certAlgorithm), signatureBlob, data);
}

/**
 * Sign `data` with the private half of a certified key under a certificate algorithm name
 * (`rsa-sha2-512-cert-v01@openssh.com` signs as `rsa-sha2-512`). When `cert` is given the key
 * must be the certified one. Throws {@link SshUsageError} on a mismatch.
 */
export function signWithCertificate(
  crypto: SignatureCrypto,
  privateKey: PrivateKey,
  certAlgorithm: string,
  data: Uint8Array,
  cert?: Certificate,
): Uint8Array {
  if (!isCertificateAlgorithm(certAlgorithm) || certificateKeyTypeForAlgorithm(certAlgorithm) !== certificateKeyTypeFor(privateKey.type)) {
    throw new SshUsageError(`cannot sign as "${certAlgorithm}" with a ${privateKey.type} key`);
  }
  if (cert !== undefined && !publicKeysEqual(cert.publicKey, privateKey.publicKey)) {
    throw new SshUsageError('the private key is not the key this certificate certifies');
  }
  return sign(crypto, privateKey, signatureAlgorithmForCertAlgorithm(certAlgorithm), data);
}

// ---- text forms -----------------------------------------------------------------------------

/** `<cert type> <base64> [comment]`, the line of a `-cert.pub` file. */
export function formatCertificateLine(cert: Certificate, comment?: string): string {
  if (comment !== undefined && /[\r\n]/.test(comment)) throw new RangeError('a certificate comment cannot contain a line break');
  const line = `${cert.type} ${encodeBase64(cert.blob)}`;
  return comment ? `${line} ${comment}` : line;
}

/**
 * Parse a `-cert.pub` line. Throws {@link KeyFormatError}: KEY_TYPE_UNSUPPORTED for certificate
 * types we do not implement, KEY_FORMAT_INVALID for anything malformed or a type word that
 * contradicts the blob.
 */
export function parseCertificateLine(line: string, options: ParseCertificateOptions = {}): { certificate: Certificate; comment: string } {
  const m = /^(\S+)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(line.trim());
  if (!m) throw new KeyFormatError('KEY_FORMAT_INVALID', 'expected a certificate line of the form "<type> <base64> [comment]"');
  const typeWord = m[1]!;
  if (!typeWord.endsWith(SUFFIX)) {
    throw new KeyFormatError(isKeyType(typeWord) ? 'KEY_FORMAT_UNSUPPORTED' : 'KEY_FORMAT_INVALID', `"${typeWord}" is a plain key type, not a certificate`);
  }
  let blob: Uint8Array;
  try {
    blob = decodeBase64(m[2]!);
  } catch (err) {
    throw new KeyFormatError('KEY_FORMAT_INVALID', `certificate line: not valid base64 (${(err as Error).message})`, { cause: err });
  }
  let certificate: Certificate;
  try {
    certificate = parseCertificate(blob, options);
  } catch (err) {
    const message = (err as Error).message;
    const code = message.startsWith('unsupported certificate type') ? 'KEY_TYPE_UNSUPPORTED' : 'KEY_FORMAT_INVALID';
    throw new KeyFormatError(code, `certificate line: ${message}`, { cause: err });
  }
  if (certificate.type !== typeWord) {
    throw new KeyFormatError('KEY_FORMAT_INVALID', `certificate line says "${typeWord}" but the certificate inside is ${certificate.type}`);
  }
  return { certificate, comment: (m[3] ?? '').trim() };
}

/**
 * `YYYY-MM-DDTHH:MM:SS` in UTC for unix seconds, computed from the number (core has no Date):
 * days since 1970-01-01 to a proleptic Gregorian date via 400-year eras of 146097 days, counting
 * years from March so the leap day falls at the end.
 */
export function formatUnixTimeUtc(seconds: bigint): string {
  const s = seconds < 0n ? 0n : seconds;
  const days = s / 86400n;
  const rem = s % 86400n;
  const z = days + 719468n; // shift the epoch to 0000-03-01
  const era = z / 146097n;
  const doe = z - era * 146097n; // day of era, 0..146096
  const yoe = (doe - doe / 1460n + doe / 36524n - doe / 146096n) / 365n; // year of era, 0..399
  const doy = doe - (365n * yoe + yoe / 4n - yoe / 100n); // day of (March-based) year
  const mp = (5n * doy + 2n) / 153n; // March = 0
  const day = doy - (153n * mp + 2n) / 5n + 1n;
  const month = mp < 10n ? mp + 3n : mp - 9n;
  const year = yoe + era * 400n + (month <= 2n ? 1n : 0n);
  const two = (v: bigint) => v.toString().padStart(2, '0');
  return `${year.toString().padStart(4, '0')}-${two(month)}-${two(day)}T${two(rem / 3600n)}:${two((rem / 60n) % 60n)}:${two(rem % 60n)}`;
}

/** The "Valid:" phrase of ssh-keygen -L: forever / after X / before Y / from X to Y (UTC). */
export function describeValidity(cert: Pick<Certificate, 'validAfter' | 'validBefore'>): string {
  const always = cert.validAfter === CERT_VALID_ALWAYS;
  const forever = cert.validBefore === CERT_VALID_FOREVER;
  if (always && forever) return 'forever';
  if (always) return `before ${formatUnixTimeUtc(cert.validBefore)}`;
  if (forever) return `after ${formatUnixTimeUtc(cert.validAfter)}`;
  return `from ${formatUnixTimeUtc(cert.validAfter)} to ${formatUnixTimeUtc(cert.validBefore)}`;
}

function hex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

function describeOption(option: CertificateOption): string {
  const indent = '                ';
  if (option.value === true) return `${indent}${option.name}`;
  if (typeof option.value === 'string') return `${indent}${option.name} ${option.value}`;
  if (Array.isArray(option.value)) return `${indent}${option.name} ${option.value.join(',')}`;
  if (option.data.length > 0) return `${indent}${option.name} UNKNOWN OPTION: ${hex(option.data)} (len ${option.data.length})`;
  return `${indent}${option.name} UNKNOWN FLAG OPTION`;
}

/**
 * What `ssh-keygen -L` prints for a certificate (without its "file:" heading line), with times in
 * UTC: type, key and CA fingerprints, key id, serial, validity, principals, critical options and
 * extensions. Meant for logs and for comparing with OpenSSH's view of the same certificate.
 */
export function describeCertificate(cert: Certificate, hash: FingerprintHash = 'sha256'): string {
  const pad = '        ';
  const lines = [
    `${pad}Type: ${cert.type} ${cert.certType} certificate`,
    `${pad}Public key: ${keyTypeLabel(cert.publicKey)}-CERT ${fingerprint(cert.publicKey.blob, hash)}`,
    `${pad}Signing CA: ${keyTypeLabel(cert.signatureKey)} ${fingerprint(cert.signatureKey.blob, hash)} (using ${cert.signatureAlgorithm})`,
    `${pad}Key ID: "${cert.keyId}"`,
    `${pad}Serial: ${cert.serial}`,
    `${pad}Valid: ${describeValidity(cert)}`,
  ];
  // ssh-keygen leaves a space after each heading that has entries below it; kept for fidelity.
  if (cert.principals.length === 0) lines.push(`${pad}Principals: (none)`);
  else lines.push(`${pad}Principals: `, ...cert.principals.map((p) => `                ${p}`));
  for (const [heading, options] of [
    ['Critical Options', cert.criticalOptions],
    ['Extensions', cert.extensions],
  ] as const) {
    if (options.length === 0) lines.push(`${pad}${heading}: (none)`);
    else lines.push(`${pad}${heading}: `, ...options.map(describeOption));
  }
  return lines.join('\n');
}
