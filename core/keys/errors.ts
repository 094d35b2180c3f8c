/**
 * Errors about key material the local user supplied: key files, `.pub` lines, fingerprints.
 *
 * These are not protocol errors: a broken key file is a configuration problem on our side, so
 * the message must say what is wrong and how to fix it. Blobs received from the peer during key
 * exchange are rejected with {@link SshProtocolError} instead (see public-key.ts).
 */

export type KeyFormatErrorCode =
  /** Not a format we read (PEM/PKCS#1, PKCS#8, PuTTY, a public key where a private key was expected, …). */
  | 'KEY_FORMAT_UNSUPPORTED'
  /** Recognised format, but the bytes are malformed or inconsistent. */
  | 'KEY_FORMAT_INVALID'
  /** A passphrase-protected key and no passphrase was given. */
  | 'KEY_ENCRYPTED'
  /** A passphrase was given but does not decrypt the key. */
  | 'KEY_PASSPHRASE_WRONG'
  /** A key algorithm we do not implement (DSA, security keys, certificates, …). */
  | 'KEY_TYPE_UNSUPPORTED';

export class KeyFormatError extends Error {
  readonly code: KeyFormatErrorCode;
  constructor(code: KeyFormatErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeyFormatError';
    this.code = code;
  }
}
