/**
 * Where `hermit serve` keeps what must survive a restart (its host keys), and the load-or-create
 * logic for them. The directory follows the XDG Base Directory specification's state directory
 * (`$XDG_STATE_HOME`, default `~/.local/state`), since host keys are state, not configuration the
 * user edits. File names are those of OpenSSH's /etc/ssh so that the files are recognisable and can
 * be moved between the two.
 */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import { formatPublicKeyLine, type PrivateKey } from '../../core/index.ts';
import { generateHostKey, readPrivateKeyFile, writePrivateKeyFile } from './keys.ts';

export interface HostKeyFile {
  readonly path: string;
  readonly key: PrivateKey;
  /** True when this run created the file. */
  readonly created: boolean;
}

/** The host keys a fresh server gets, strongest-by-default first, as OpenSSH's `ssh-keygen -A` makes them. */
export const DEFAULT_HOST_KEYS = [
  { file: 'ssh_host_ed25519_key', type: 'ed25519' },
  { file: 'ssh_host_ecdsa_key', type: 'ecdsa-256' },
  { file: 'ssh_host_rsa_key', type: 'rsa', bits: 3072 },
] as const;

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  // The XDG spec says a relative $XDG_STATE_HOME is invalid and must be ignored.
  const xdg = env['XDG_STATE_HOME'];
  if (xdg && xdg.startsWith('/')) return join(xdg, 'hermit');
  return join(env['HOME'] || homedir(), '.local', 'state', 'hermit');
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/**
 * Load the default host keys from `dir`, generating any that are missing. The directory is created
 * private (0700) because it holds private keys; each key is 0600 with a 0644 `.pub` beside it
 * (io-node/trust/keys.ts writes both).
 */
export async function loadOrCreateHostKeys(dir: string): Promise<HostKeyFile[]> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const out: HostKeyFile[] = [];
  for (const spec of DEFAULT_HOST_KEYS) {
    const path = join(dir, spec.file);
    if (await exists(path)) {
      for (const key of await readPrivateKeyFile(path)) out.push({ path, key, created: false });
      // ssh-keyscan users compare against the .pub; restore it if someone deleted it.
      const loaded = out[out.length - 1];
      if (loaded && !(await exists(`${path}.pub`))) {
        await writeFile(`${path}.pub`, formatPublicKeyLine(loaded.key.publicKey, loaded.key.comment || undefined) + '\n', { mode: 0o644 });
      }
      continue;
    }
    const comment = `hermit@${hostname()}`;
    const key = 'bits' in spec ? generateHostKey(spec.type, spec.bits, comment) : generateHostKey(spec.type, undefined, comment);
    // A .pub left without its private key describes nothing; replacing it is safe.
    await writePrivateKeyFile(path, key, { overwrite: true });
    out.push({ path, key, created: true });
  }
  return out;
}

/** Host keys named on the command line: read as they are, never created. */
export async function loadHostKeyFiles(paths: readonly string[]): Promise<HostKeyFile[]> {
  const out: HostKeyFile[] = [];
  for (const path of paths) for (const key of await readPrivateKeyFile(path)) out.push({ path, key, created: false });
  return out;
}
