/**
 * known_hosts files through the Runtime (sshd(8) SSH_KNOWN_HOSTS FILE FORMAT): reading them in
 * order and appending an accepted key. Parsing and every decision are core/keys/known-hosts.ts';
 * this module turns file-system failures into {@link TrustFileError}s that say which file and what
 * to do.
 *
 * As OpenSSH: a known_hosts file that does not exist is simply empty, but one that exists and
 * cannot be read is an error (ignoring it would turn known hosts into unknown ones); a new line is
 * appended after making sure the file ends with a newline, a missing directory (normally ~/.ssh)
 * is created 0700 and a new file 0600.
 */
import { parseKnownHosts, type KnownHostsEntry, type KnownHostsFile, type TrustFileWarning } from '../keys/known-hosts.ts';
import type { Runtime } from './runtime.ts';

/** A trust file could not be read or written. `code` is the errno code (ENOENT, EACCES, EISDIR, …). */
export class TrustFileError extends Error {
  readonly code: string;
  readonly path: string;
  constructor(code: string, path: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TrustFileError';
    this.code = code;
    this.path = path;
  }
}

export function errnoOf(err: unknown): string {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : 'EIO';
}

/** The error for a file that exists but cannot be read, with the fix. */
export function readError(what: string, path: string, err: unknown): TrustFileError {
  const code = errnoOf(err);
  const why =
    code === 'ENOENT'
      ? 'it does not exist'
      : code === 'EACCES' || code === 'EPERM'
        ? `permission denied; make it readable by this user (ls -l ${path})`
        : code === 'EISDIR'
          ? 'it is a directory, not a file; point the option at the file'
          : (err as Error).message;
  return new TrustFileError(code, path, `cannot read ${what} ${path}: ${why}`, { cause: err });
}

/**
 * Read and parse known_hosts files in order (user files first, then global ones). Missing files
 * are skipped; a file that exists but cannot be read throws {@link TrustFileError}.
 */
export async function loadKnownHosts(runtime: Pick<Runtime, 'readFile'>, paths: readonly string[]): Promise<KnownHostsFile & { readonly loaded: string[] }> {
  const entries: KnownHostsEntry[] = [];
  const warnings: TrustFileWarning[] = [];
  const loaded: string[] = [];
  for (const path of paths) {
    let text: string;
    try {
      text = new TextDecoder().decode(await runtime.readFile(path));
    } catch (err) {
      const code = errnoOf(err);
      // ENOTDIR: a path component is a file (no ~/.ssh directory at all), which means "no file" too.
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      throw readError('known_hosts file', path, err);
    }
    const file = parseKnownHosts(text, path);
    entries.push(...file.entries);
    warnings.push(...file.warnings);
    loaded.push(path);
  }
  return { entries, warnings, loaded };
}

/**
 * Append one line to a known_hosts file. The line must be one valid known_hosts entry (as
 * formatKnownHostsLine makes): anything else throws RangeError before the file is touched.
 */
export async function appendKnownHost(runtime: Pick<Runtime, 'readFile' | 'writeFile' | 'makeDirectory'>, path: string, line: string): Promise<void> {
  const text = line.endsWith('\n') ? line.slice(0, -1) : line;
  const parsed = parseKnownHosts(text, 'the new line');
  if (/[\r\n]/.test(text) || parsed.entries.length !== 1 || parsed.warnings.some((w) => w.code !== 'unsupported-key-type')) {
    const why = parsed.warnings[0]?.message ?? 'it must be exactly one known_hosts entry';
    throw new RangeError(`refusing to append to ${path}: ${why}`);
  }
  const slash = path.lastIndexOf('/');
  if (slash > 0) {
    try {
      await runtime.makeDirectory(path.slice(0, slash), 0o700);
    } catch (err) {
      throw new TrustFileError(errnoOf(err), path, `cannot create the directory of ${path}: ${(err as Error).message}`, { cause: err });
    }
  }
  let prefix = '';
  try {
    const existing = await runtime.readFile(path);
    if (existing.length > 0 && existing[existing.length - 1] !== 0x0a) prefix = '\n';
  } catch (err) {
    if (errnoOf(err) !== 'ENOENT') throw addError(path, err);
  }
  try {
    // One write in append mode keeps concurrent appenders from interleaving inside a line.
    await runtime.writeFile(path, new TextEncoder().encode(`${prefix}${text}\n`), { append: true, mode: 0o600 });
  } catch (err) {
    throw addError(path, err);
  }
}

function addError(path: string, err: unknown): TrustFileError {
  const code = errnoOf(err);
  const why = code === 'EACCES' || code === 'EPERM' ? `permission denied; check the owner and mode of ${path} and its directory` : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
  return new TrustFileError(code, path, `cannot add the host key to ${path}: ${why}`, { cause: err });
}
