/**
 * Private key files through the Runtime: read and parse in any format core/keys reads
 * (openssh-key-v1, PKCS#1/#8 PEM, SEC1, encrypted ones with a passphrase); user certificates
 * (OpenSSH PROTOCOL.certkeys, the one-line `-cert.pub` form) given as files, lines, blobs or objects.
 */
import { parseCertificate, parseCertificateLine, type Certificate } from '../keys/certificate.ts';
import { KeyFormatError } from '../keys/errors.ts';
import { parsePrivateKey, privateKeyFormat } from '../keys/load.ts';
import { parseOpenSshPrivateKey } from '../keys/private-key.ts';
import type { PrivateKey } from '../keys/private-key.ts';
import type { Runtime } from './runtime.ts';

export type KeyFileErrorCode = 'KEY_FILE_MISSING' | 'KEY_FILE_UNREADABLE' | 'KEY_FILE_EXISTS' | 'KEY_FILE_UNWRITABLE';

/** A key file could not be read or written; the message says which file and what to do. */
export class KeyFileError extends Error {
  readonly code: KeyFileErrorCode;
  readonly path: string;
  constructor(code: KeyFileErrorCode, path: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeyFileError';
    this.code = code;
    this.path = path;
  }
}

export type ReadKeyOptions = {
  /** Passphrase for an encrypted key (every format); ignored for unencrypted keys. */
  readonly passphrase?: string | Uint8Array;
};

function errnoOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

/**
 * Read a private key file. Throws {@link KeyFileError} when the file cannot be read, and
 * KeyFormatError (its message starting with the path) when its content is not a usable key:
 * KEY_ENCRYPTED when it needs a passphrase that was not given, KEY_PASSPHRASE_WRONG when the
 * passphrase is wrong. An openssh-key-v1 file may hold several keys, so the result is a list.
 */
export async function readPrivateKeyFile(runtime: Pick<Runtime, 'readFile'>, path: string, options: ReadKeyOptions = {}): Promise<PrivateKey[]> {
  let text: string;
  try {
    text = new TextDecoder().decode(await runtime.readFile(path));
  } catch (err) {
    const errno = errnoOf(err);
    if (errno === 'ENOENT') {
      throw new KeyFileError(
        'KEY_FILE_MISSING',
        path,
        `private key file ${path} does not exist; create one with: ssh-keygen -t ed25519 -N '' -f ${path} ` + `(or let \`hermit serve\` generate its host key)`,
        { cause: err },
      );
    }
    const why = errno === 'EACCES' || errno === 'EPERM' ? 'permission denied; check its owner and mode (chmod 600)' : errno === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    throw new KeyFileError('KEY_FILE_UNREADABLE', path, `cannot read private key file ${path}: ${why}`, { cause: err });
  }
  const parseOptions = options.passphrase === undefined ? { source: path } : { source: path, passphrase: options.passphrase };
  if (privateKeyFormat(text) === 'openssh') return parseOpenSshPrivateKey(text, parseOptions);
  return [parsePrivateKey(text, parseOptions)];
}

/** A user certificate as a caller may give it: parsed, its blob, its `-cert.pub` line, or the path of that file. */
export type CertificateSource = Certificate | Uint8Array | string;

/** A certificate line starts with its type name; anything else given as a string is a path. */
const CERTIFICATE_LINE = /^\s*[a-z0-9.@-]+-cert-v01@openssh\.com[ \t]/;

/**
 * Read one user certificate (ssh_config CertificateFile). Throws an Error that names the file and
 * says what is wrong: missing, unreadable, not a certificate, or a host certificate.
 */
export async function readUserCertificate(runtime: Pick<Runtime, 'readFile'>, given: CertificateSource): Promise<{ certificate: Certificate; source: string }> {
  let certificate: Certificate;
  let source: string;
  if (given instanceof Uint8Array) {
    certificate = parseCertificate(given);
    source = `certificate ${certificate.keyId || '(no key id)'}`;
  } else if (typeof given !== 'string') {
    certificate = given;
    source = `certificate ${certificate.keyId || '(no key id)'}`;
  } else if (CERTIFICATE_LINE.test(given)) {
    const parsed = parseCertificateLine(given.trim().split('\n', 1)[0]!);
    certificate = parsed.certificate;
    source = parsed.comment || `certificate ${certificate.keyId || '(no key id)'}`;
  } else {
    source = given;
    let text: string;
    try {
      text = new TextDecoder().decode(await runtime.readFile(given));
    } catch (err) {
      const errno = errnoOf(err);
      const why = errno === 'ENOENT' ? 'it does not exist' : errno === 'EACCES' || errno === 'EPERM' ? 'permission denied' : (err as Error).message;
      throw new KeyFileError(errno === 'ENOENT' ? 'KEY_FILE_MISSING' : 'KEY_FILE_UNREADABLE', given, `cannot read certificate file ${given}: ${why}`, { cause: err });
    }
    const line = text.split('\n').find((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
    try {
      certificate = parseCertificateLine(line ?? '').certificate;
    } catch (err) {
      throw new KeyFormatError((err as KeyFormatError).code ?? 'KEY_FORMAT_INVALID', `${given}: not an OpenSSH certificate (${(err as Error).message}); sign the public key with: ssh-keygen -s CA_KEY -I ID -n USER KEY.pub`, { cause: err });
    }
  }
  if (certificate.certType !== 'user') throw new KeyFormatError('KEY_FORMAT_INVALID', `${source} is a host certificate; a client logs in with a user certificate (ssh-keygen -s without -h)`);
  return { certificate, source };
}

export { KeyFormatError };
