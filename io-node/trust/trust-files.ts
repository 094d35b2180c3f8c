/**
 * The trust files on disk for Node: known_hosts (sshd(8) SSH_KNOWN_HOSTS FILE FORMAT),
 * authorized_keys (sshd(8) AUTHORIZED_KEYS FILE FORMAT) and the server's password file. Parsing
 * and every decision are core's (core/keys/known-hosts.ts, authorized-keys.ts,
 * core/auth/password-hash.ts); this module reads and appends files, checks their permissions, and
 * turns file-system failures into {@link TrustFileError}s that say which file and what to do.
 *
 * File conventions follow OpenSSH:
 * - a known_hosts file that does not exist is simply empty (ssh starts with none), but one that
 *   exists and cannot be read is an error, because silently ignoring it would turn known hosts
 *   into unknown ones;
 * - a new known_hosts line is appended after making sure the file ends with a newline, and a
 *   missing directory (normally ~/.ssh) is created private (0700); a new file is created 0600;
 * - an authorized_keys file or password file writable by others is reported, as sshd's
 *   StrictModes would refuse it; a password file readable by others is reported too, since its
 *   hashes can then be attacked offline.
 */
import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  type AuthorizedKeysFile,
  checkHostKey,
  type CivilTime,
  decideHostKey,
  formatKnownHostsLine,
  hashPassword,
  type HashPasswordOptions,
  type HostKeyCheck,
  type HostKeyQuery,
  type KnownHostsFile,
  type KnownHostsVerdict as HostKeyDecision,
  parseAuthorizedKeys,
  parsePasswordFile,
  type PasswordFile,
  type RandomSource,
  type StrictHostKeyChecking,
  systemRandom,
  type TrustFileWarning,
  trustWarning,
} from '../../core/index.ts';
import { appendKnownHost as appendKnownHostLine, loadKnownHosts as loadKnownHostsFiles, readError } from '../../core/api/index.ts';
import { nodeRuntime } from '../runtime/node-runtime.ts';

export { TrustFileError } from '../../core/api/index.ts';

async function readText(what: string, path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw readError(what, path, err);
  }
}

/** `~` or `~/…` → the home directory (ssh_config(5) file names start this way). */
export function expandTilde(path: string, home: string = homedir()): string {
  if (path === '~') return home;
  if (path.startsWith('~/')) return join(home, path.slice(2));
  return path;
}

/** OpenSSH's default UserKnownHostsFile list. */
export function defaultUserKnownHostsFiles(home: string = homedir()): string[] {
  return [join(home, '.ssh', 'known_hosts'), join(home, '.ssh', 'known_hosts2')];
}

/** OpenSSH's default GlobalKnownHostsFile list. */
export const DEFAULT_GLOBAL_KNOWN_HOSTS_FILES: readonly string[] = ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'];

// ---------------------------------------------------------------------------------------------
// known_hosts

/**
 * Read and parse known_hosts files in order (user files first, then global ones, as OpenSSH
 * does). Missing files are skipped; a file that exists but cannot be read throws
 * TrustFileError. Entries and warnings keep their file name and line.
 */
export function loadKnownHosts(paths: readonly string[]): Promise<KnownHostsFile & { readonly loaded: string[] }> {
  return loadKnownHostsFiles(nodeRuntime, paths);
}

/**
 * Append one line to a known_hosts file, creating the file (0600) and its directory (0700) when
 * missing, and adding a newline first if the file does not end with one.
 */
export function appendKnownHost(path: string, line: string): Promise<void> {
  return appendKnownHostLine(nodeRuntime, path, line);
}

export interface VerifyHostKeyOptions extends HostKeyQuery {
  /** User known_hosts files; the first is where new keys are added. Default ~/.ssh/known_hosts, ~/.ssh/known_hosts2. */
  readonly userKnownHostsFiles?: readonly string[];
  /** Default /etc/ssh/ssh_known_hosts, /etc/ssh/ssh_known_hosts2. */
  readonly globalKnownHostsFiles?: readonly string[];
  readonly strictHostKeyChecking: StrictHostKeyChecking;
  /** Store new hosts hashed (ssh_config(5) HashKnownHosts). */
  readonly hashKnownHosts?: boolean;
  readonly random?: RandomSource;
}

export interface VerifyHostKeyResult {
  readonly check: HostKeyCheck;
  readonly decision: HostKeyDecision;
  /** Problems in the files read (print them; they never stop the check). */
  readonly warnings: readonly TrustFileWarning[];
  /** Set when the key was appended (accept-new / no with a new host). */
  readonly added?: { readonly path: string; readonly line: string };
}

/**
 * The whole client-side check: load the files, check the key, apply StrictHostKeyChecking and, when
 * the decision says so, append the new key to the first user file. In 'ask' mode the decision
 * carries `confirm`; after a yes the caller appends with {@link appendKnownHost} and
 * {@link formatKnownHostsLine} itself.
 */
export async function verifyHostKey(options: VerifyHostKeyOptions): Promise<VerifyHostKeyResult> {
  const userFiles = options.userKnownHostsFiles ?? defaultUserKnownHostsFiles();
  const globalFiles = options.globalKnownHostsFiles ?? DEFAULT_GLOBAL_KNOWN_HOSTS_FILES;
  const files = await loadKnownHosts([...userFiles, ...globalFiles]);
  const check = checkHostKey(files.entries, options);
  const target = userFiles[0];
  const decision = decideHostKey(check, options.strictHostKeyChecking, target !== undefined ? { userKnownHostsFile: target } : {});
  if (!decision.addToFile || target === undefined) return { check, decision, warnings: files.warnings };
  const line = options.hashKnownHosts
    ? formatKnownHostsLine(options.host, options.port, options.key, { hash: true, random: options.random ?? systemRandom })
    : formatKnownHostsLine(options.host, options.port, options.key);
  await appendKnownHost(target, line);
  return { check, decision, warnings: files.warnings, added: { path: target, line } };
}

// ---------------------------------------------------------------------------------------------
// Server files

/** Unsuffixed expiry-time values are server local time in sshd; this resolves them with the system zone. */
function localTime(t: CivilTime): number {
  const d = new Date(0);
  d.setFullYear(t.year, t.month - 1, t.day);
  d.setHours(t.hour, t.minute, t.second, 0);
  return Math.floor(d.getTime() / 1000);
}

async function permissionWarnings(path: string, what: string, secret: boolean): Promise<TrustFileWarning[]> {
  let mode: number;
  try {
    mode = (await stat(path)).mode & 0o777;
  } catch {
    return [];
  }
  const octal = mode.toString(8).padStart(4, '0');
  if (mode & 0o022) {
    return [trustWarning(path, 0, 'insecure-permissions', `the ${what} is writable by ${mode & 0o002 ? 'anyone' : 'its group'} (mode ${octal}), so others could add themselves; sshd's StrictModes refuses such a file — run: chmod go-w ${path}`)];
  }
  if (secret && mode & 0o044) {
    return [trustWarning(path, 0, 'insecure-permissions', `the ${what} is readable by ${mode & 0o004 ? 'anyone' : 'its group'} (mode ${octal}), who could then crack its hashes offline — run: chmod 600 ${path}`)];
  }
  return [];
}

/**
 * Read and parse an authorized_keys file. A file that is missing or unreadable throws
 * {@link TrustFileError} (code ENOENT, EACCES, …) so the server can say why publickey logins fail.
 * Unsuffixed `expiry-time` values are read in the system time zone, as sshd does.
 */
export async function loadAuthorizedKeys(path: string): Promise<AuthorizedKeysFile> {
  const text = await readText('authorized_keys file', path);
  const file = parseAuthorizedKeys(text, path, { localTime });
  return { entries: file.entries, warnings: [...(await permissionWarnings(path, 'authorized_keys file', false)), ...file.warnings] };
}

/**
 * Read and parse a password file (`user:hash` lines). Missing or unreadable files throw
 * {@link TrustFileError}; a file readable or writable by others is reported in `warnings` (line 0).
 */
export async function loadPasswordFile(path: string): Promise<PasswordFile> {
  const text = await readText('password file', path);
  const file = parsePasswordFile(text, path);
  const perms = (await permissionWarnings(path, 'password file', true)).map(({ source, line, message }) => ({ source, line, message }));
  return { users: file.users, warnings: [...perms, ...file.warnings] };
}

/**
 * A hash for a password file line (`user:` + this), from the system random source. Default
 * sha512-crypt, which crypt(3), `openssl passwd` and `mkpasswd` also read; see
 * core/auth/password-hash.ts for the schemes and their measured cost.
 */
export function hashPasswordForFile(password: string, options: HashPasswordOptions = {}): string {
  return hashPassword(password, systemRandom, options);
}
