/**
 * Public API of core/keys: SSH public key blobs (RFC 4253 6.6, RFC 5656 3.1, RFC 8709), signatures
 * (RFC 8332, RFC 5656 3.1.2, RFC 8709 6), unencrypted openssh-key-v1 files (OpenSSH PROTOCOL.key),
 * `.pub` lines and fingerprints.
 */
export { decodeBase64, encodeBase64 } from './base64.ts';
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
} from './private-key.ts';
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
