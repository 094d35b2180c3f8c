/**
 * Trust and key files for Deno: core/api's HostKeyPolicy (known_hosts as OpenSSH checks it),
 * ClientCredentials (identity files, certificates, the agent) and key file reading, on the Deno
 * runtime.
 */
import { ClientCredentials as CoreCredentials, HostKeyPolicy as CorePolicy, readPrivateKeyFile as readKeyFile, type ReadKeyOptions } from '../core/api/index.ts';
import type { PrivateKey } from '../core/index.ts';
import { denoDefaults } from './defaults.ts';
import { denoRuntime } from './runtime.ts';

export class HostKeyPolicy extends CorePolicy {
  static override defaults = denoDefaults;
}

export class ClientCredentials extends CoreCredentials {
  static override defaults = denoDefaults;
}

/** Read a private key file (openssh-key-v1, PEM PKCS#1/#8, SEC1; encrypted ones with `passphrase`). */
export function readPrivateKeyFile(path: string, options: ReadKeyOptions = {}): Promise<PrivateKey[]> {
  return readKeyFile(denoRuntime, path, options);
}
