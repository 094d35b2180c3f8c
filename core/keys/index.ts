/**
 * Public API of core/keys: SSH public key blobs (RFC 4253 6.6, RFC 5656 3.1, RFC 8709), signatures
 * (RFC 8332, RFC 5656 3.1.2, RFC 8709 6), openssh-key-v1 files plain and passphrase-protected
 * (OpenSSH PROTOCOL.key, bcrypt_pbkdf), PEM PKCS#1/SEC1 (RFC 8017, RFC 5915), PKCS#8 plain and
 * PBES2-encrypted (RFC 5958, RFC 8018), public keys as `.pub` lines, RFC 4716 and SPKI
 * (RFC 5280), format-sniffing loaders, and fingerprints.
 */
export { decodeBase64, encodeBase64 } from './base64.ts';
export { bcryptPbkdf } from './bcrypt-pbkdf.ts';
export { KeyFormatError, type KeyFormatErrorCode } from './errors.ts';
export {
  fingerprint,
  fingerprintMd5,
  fingerprintSha256,
  formatFingerprintLine,
  formatPublicKeyLine,
  keyBits,
  keyTypeLabel,
  parsePublicKeyLine,
  type FingerprintHash,
  type KeyTypeLabel,
} from './format.ts';
export {
  isEncryptedPrivateKey,
  parsePrivateKey,
  parsePublicKey,
  privateKeyFormat,
  type PrivateKeyFormat,
} from './load.ts';
export {
  DEFAULT_KDF_ROUNDS,
  DEFAULT_OPENSSH_KEY_CIPHER,
  MAX_KDF_ROUNDS,
  OPENSSH_KEY_CIPHERS,
  isOpenSshKeyCipher,
  type OpenSshKeyCipher,
} from './openssh-encryption.ts';
export { parseTraditionalPemPrivateKey, serializeTraditionalPemPrivateKey } from './pem.ts';
export {
  DEFAULT_PBKDF2_ITERATIONS,
  MAX_PBKDF2_ITERATIONS,
  parsePkcs8PrivateKey,
  serializePkcs8PrivateKey,
  type Pkcs8WriteOptions,
} from './pkcs8.ts';
export {
  ecdsaPrivateKey,
  ed25519PrivateKey,
  generatePrivateKey,
  parseOpenSshPrivateKey,
  rsaPrivateKey,
  serializeOpenSshPrivateKey,
  type EcdsaPrivateKey,
  type Ed25519PrivateKey,
  type GeneratableKeyType,
  type KeyDerivationCrypto,
  type ParsePrivateKeyOptions,
  type PrivateKey,
  type RsaSshPrivateKey,
  type SerializeOpenSshOptions,
} from './private-key.ts';
export {
  encodeSpki,
  formatPkcs1RsaPublicKeyPem,
  formatRfc4716PublicKey,
  formatSpkiPem,
  parsePemPublicKey,
  parseRfc4716PublicKey,
  parseSpki,
  type PublicKeyFileOptions,
  type Rfc4716PublicKey,
} from './public-key-formats.ts';
export {
  ECDSA_CURVES,
  KEY_TYPES,
  RSA_MAX_MODULUS_BITS,
  RSA_MIN_MODULUS_BITS,
  curveForKeyType,
  ecdsaPublicKey,
  ed25519PublicKey,
  encodePublicKeyBlob,
  isEcdsaKeyType,
  isKeyType,
  parsePublicKeyBlob,
  publicKeysEqual,
  rsaPublicKey,
  type EcCurve,
  type EcdsaKeyType,
  type EcdsaPublicKey,
  type Ed25519PublicKey,
  type KeyType,
  type ParsePublicKeyOptions,
  type PublicKey,
  type PublicKeyFields,
  type RsaSshPublicKey,
} from './public-key.ts';
export {
  SIGNATURE_ALGORITHMS,
  isSignatureAlgorithm,
  keyTypeForSignatureAlgorithm,
  sign,
  signatureAlgorithmsForKey,
  verifySignature,
  type SignatureAlgorithm,
  type SignatureCrypto,
} from './signature.ts';
export {
  addressInCidr, addressMatchesCidrList, isValidCidrList, matchWildcardPattern, parseCidr, parseCidrList,
  parseIpAddress, unmapIpv4, type Cidr, type IpAddress,
} from './address-match.ts';
export {
  CERTIFICATE_ALGORITHMS, CERTIFICATE_KEY_TYPES, CERT_VALID_ALWAYS, CERT_VALID_FOREVER,
  DEFAULT_CA_SIGNATURE_ALGORITHMS, DEFAULT_USER_EXTENSIONS, MAX_CERT_PRINCIPALS,
  certificateKeyTypeFor, certificateKeyTypeForAlgorithm, certificateSignatureAlgorithms, describeCertificate,
  describeValidity, encodeCertificate, formatCertificateLine, formatUnixTimeUtc, isCertificateAlgorithm,
  isCertificateBlob, isCertificateKeyType, parseCertificate, parseCertificateLine, plainKeyTypeOf,
  signCertificate, signWithCertificate, signatureAlgorithmForCertAlgorithm, verifyCertificate,
  verifyCertifiedSignature,
  type Certificate, type CertificateAlgorithm, type CertificateFields, type CertificateKeyType,
  type CertificateOption, type CertificateOptionInput, type CertificateRole, type CertificateVerdict,
  type ParseCertificateOptions, type VerifyCertificateOptions,
} from './certificate.ts';
export {
  checkHostKey, decideHostKey, formatKnownHostsLine, hashKnownHostName, knownHostKeyTypes, knownHostsEntryMatches,
  knownHostsLookupName, parseKnownHosts, parseStrictHostKeyChecking, trustWarning,
  type DecideHostKeyOptions, type FormatKnownHostsOptions, type HostKeyCheck, type HostKeyErrorCode,
  type HostKeyQuery, type HostKeyRestrictions, type HostKeyStatus, type KnownHostMatch, type KnownHostsEntry,
  type KnownHostsFile, type KnownHostsMarker, type KnownHostsNames, type StrictHostKeyChecking, type TrustFileWarning,
  // Named apart from the engine's hostKey decision event, which it answers.
  type HostKeyDecision as KnownHostsVerdict,
} from './known-hosts.ts';
export {
  civilToUnixSeconds, findAuthorizedKey, parseAuthorizedKeyOptions, parseAuthorizedKeys, parseExpiryTime, sessionPolicy,
  type AuthorizedKeyEntry, type AuthorizedKeyMatch, type AuthorizedKeyOptions, type AuthorizedKeyQuery,
  type AuthorizedKeysFile, type CivilTime, type ParseAuthorizedKeysOptions, type PermitTarget,
  // The full authorized_keys policy; the connection layer enforces the subset it names SessionPolicy.
  type SessionPolicy as AuthorizedKeysPolicy,
} from './authorized-keys.ts';
export {
  matchFromPatternList, matchHostPatternList, matchPattern, matchPatternList, validateFromPatternList, type PatternListMatch,
} from './host-patterns.ts';
