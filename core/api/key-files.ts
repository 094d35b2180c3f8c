/**
 * Private key files through the Runtime: read and parse in any format core/keys reads
 * (openssh-key-v1, PKCS#1/#8 PEM, SEC1, encrypted ones with a passphrase).
 */
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

export { KeyFormatError };
