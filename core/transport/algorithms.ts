/**
 * Which algorithms the engine offers, in what order, and how a user's choice is applied.
 *
 * Defaults follow OpenSSH 9.x's order restricted to what we implement. SHA-1 based algorithms
 * (`hmac-sha1`, `hmac-sha1-etm@openssh.com`, the `ssh-rsa` signature) and nothing else are
 * "supported but off": a user must name them explicitly. A user list may be a full list, or use
 * OpenSSH's modifiers (ssh_config(5)): `+a,b` appends to the default, `-a,b` removes (wildcards
 * allowed), `^a,b` puts them first.
 */
import { SshUsageError } from '../errors.ts';
import { defaultKexAlgorithms } from '../kex/index.ts';
import { CERTIFICATE_ALGORITHMS } from '../keys/certificate.ts';
import { SIGNATURE_ALGORITHMS } from '../keys/signature.ts';

export interface AlgorithmPreferences {
  readonly kex: readonly string[];
  readonly hostKey: readonly string[];
  readonly cipher: readonly string[];
  readonly mac: readonly string[];
  readonly compression: readonly string[];
}

/** Everything core/kex implements, in OpenSSH's preference order. */
export const supportedKex: readonly string[] = defaultKexAlgorithms;

/** Certificates first, as OpenSSH offers them, then plain keys (the SHA-1 ones are kept out of the defaults). */
export const supportedHostKey: readonly string[] = [...CERTIFICATE_ALGORITHMS, ...SIGNATURE_ALGORITHMS];

export const supportedCipher = [
  'chacha20-poly1305@openssh.com',
  'aes128-ctr',
  'aes192-ctr',
  'aes256-ctr',
  'aes128-gcm@openssh.com',
  'aes256-gcm@openssh.com',
] as const;

export const supportedMac = [
  'hmac-sha2-256-etm@openssh.com',
  'hmac-sha2-512-etm@openssh.com',
  'hmac-sha1-etm@openssh.com',
  'hmac-sha2-256',
  'hmac-sha2-512',
  'hmac-sha1',
] as const;

export const supportedCompression = ['none'] as const;

const SHA1_ONLY = new Set(['ssh-rsa', 'ssh-rsa-cert-v01@openssh.com', 'hmac-sha1', 'hmac-sha1-etm@openssh.com']);

export const defaultAlgorithms: AlgorithmPreferences = {
  kex: [...supportedKex],
  hostKey: supportedHostKey.filter((a) => !SHA1_ONLY.has(a)),
  cipher: [...supportedCipher],
  mac: supportedMac.filter((a) => !SHA1_ONLY.has(a)),
  compression: ['none'],
};

const supported: Record<keyof AlgorithmPreferences, readonly string[]> = {
  kex: supportedKex,
  hostKey: supportedHostKey,
  cipher: supportedCipher,
  mac: supportedMac,
  compression: supportedCompression,
};

const optionNames: Record<keyof AlgorithmPreferences, string> = {
  kex: 'KexAlgorithms',
  hostKey: 'HostKeyAlgorithms',
  cipher: 'Ciphers',
  mac: 'MACs',
  compression: 'Compression',
};

function wildcardToRegExp(pattern: string): RegExp {
  return new RegExp('^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
}

/**
 * Apply a user's value (a comma list, optionally with a leading `+`, `-` or `^`) to the default
 * list for `kind`. Unknown names are a usage error naming the supported ones.
 */
export function applyAlgorithmOption(kind: keyof AlgorithmPreferences, value: string | readonly string[], base?: readonly string[]): string[] {
  const current = [...(base ?? defaultAlgorithms[kind])];
  const text = typeof value === 'string' ? value.trim() : value.join(',');
  const mode = text[0] === '+' || text[0] === '-' || text[0] === '^' ? text[0] : '';
  const names = (mode ? text.slice(1) : text).split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 0) throw new SshUsageError(`${optionNames[kind]}: empty algorithm list`);
  if (mode === '-') {
    const patterns = names.map(wildcardToRegExp);
    const result = current.filter((a) => !patterns.some((p) => p.test(a)));
    if (result.length === 0) throw new SshUsageError(`${optionNames[kind]}=${text} removes every algorithm`);
    return result;
  }
  for (const name of names) {
    if (!supported[kind].includes(name)) {
      throw new SshUsageError(`${optionNames[kind]}: unsupported algorithm "${name}"; supported: ${supported[kind].join(',')}`);
    }
  }
  if (mode === '+') return [...current, ...names.filter((n) => !current.includes(n))];
  if (mode === '^') return [...names, ...current.filter((n) => !names.includes(n))];
  return [...new Set(names)];
}

export function resolveAlgorithms(user: Partial<Record<keyof AlgorithmPreferences, string | readonly string[]>> | undefined): AlgorithmPreferences {
  const out: Record<string, readonly string[]> = {};
  for (const kind of Object.keys(defaultAlgorithms) as Array<keyof AlgorithmPreferences>) {
    const v = user?.[kind];
    out[kind] = v === undefined ? defaultAlgorithms[kind] : applyAlgorithmOption(kind, v);
  }
  return out as unknown as AlgorithmPreferences;
}
