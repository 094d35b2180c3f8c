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
