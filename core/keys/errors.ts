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
  /** An openssh-key-v1 file protected by a passphrase. */
  | 'KEY_ENCRYPTED'
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
