/**
 * Command-line plumbing shared by the `hermit` subcommands: argv tokenising in OpenSSH's spelling
 * (`-pVALUE`, `-p VALUE`, `-o Name=value`), value parsers, and the usage error that makes the
 * dispatcher print the problem and exit 2.
 */
import { applyAlgorithmOption, SshUsageError, type AlgorithmPreferences } from '../../core/index.ts';

/** A wrong command line: the dispatcher prints the message and exits with status 2. */
export class UsageError extends Error {}

/** Splits argv into options and operands, accepting `-pVALUE`, `-p VALUE`, `--opt=VALUE` and `--opt VALUE`. */
export function* tokens(args: readonly string[], withValue: ReadonlySet<string>): Generator<{ name: string | null; value: string }> {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      for (const rest of args.slice(i + 1)) yield { name: null, value: rest };
      return;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq === -1 ? arg : arg.slice(0, eq);
      if (!withValue.has(name)) {
        if (eq !== -1) throw new UsageError(`option ${name} takes no value`);
        yield { name, value: '' };
        continue;
      }
      if (eq !== -1) yield { name, value: arg.slice(eq + 1) };
      else if (i + 1 < args.length) yield { name, value: args[++i]! };
      else throw new UsageError(`option ${name} needs a value`);
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      const name = arg.slice(0, 2);
      if (!withValue.has(name)) {
        if (arg.length > 2) throw new UsageError(`unknown option ${arg}`);
        yield { name, value: '' };
        continue;
      }
      if (arg.length > 2) yield { name, value: arg.slice(2) };
      else if (i + 1 < args.length) yield { name, value: args[++i]! };
      else throw new UsageError(`option ${name} needs a value`);
      continue;
    }
    yield { name: null, value: arg };
  }
}

/** `Name=value` or `Name value`, as ssh -o accepts; names are case-insensitive. */
export function splitOption(text: string): { name: string; value: string } {
  const m = /^\s*([A-Za-z0-9]+)\s*(?:=\s*|\s+)(.*?)\s*$/.exec(text);
  if (!m || m[2] === '') throw new UsageError(`-o ${JSON.stringify(text)}: expected Name=value, e.g. -o Ciphers=aes128-ctr`);
  return { name: m[1]!, value: m[2]! };
}

export const algorithmOptions: Record<string, keyof AlgorithmPreferences> = {
  kexalgorithms: 'kex',
  ciphers: 'cipher',
  macs: 'mac',
  hostkeyalgorithms: 'hostKey',
};

/** Validate now, so a typo is a usage error (exit 2) rather than a failed connection. */
export function algorithmOption(algorithms: Record<string, string>, name: string, value: string): boolean {
  const kind = algorithmOptions[name.toLowerCase()];
  if (!kind) return false;
  try {
    applyAlgorithmOption(kind, value);
  } catch (err) {
    if (err instanceof SshUsageError) throw new UsageError(err.message);
    throw err;
  }
  algorithms[kind] = value;
  return true;
}

export function parsePort(text: string, what: string): number {
  if (!/^\d+$/.test(text) || Number(text) > 65535) throw new UsageError(`${what} ${JSON.stringify(text)} is not a port number (0-65535)`);
  return Number(text);
}

export function parsePositiveSeconds(text: string, what: string): number {
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !(n > 0)) throw new UsageError(`${what} ${JSON.stringify(text)} is not a positive number of seconds`);
  return n * 1000;
}

export function parseListen(text: string): { host: string; port: number } {
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(text);
  if (v6) return { host: v6[1]!, port: parsePort(v6[2]!, '--listen port') };
  if (/^\d+$/.test(text)) return { host: '127.0.0.1', port: parsePort(text, '--listen port') };
  const m = /^([^:\s]+):(\d+)$/.exec(text);
  if (!m) throw new UsageError(`--listen ${JSON.stringify(text)}: expected HOST:PORT, [IPV6]:PORT or PORT, e.g. --listen 127.0.0.1:2222`);
  return { host: m[1]!, port: parsePort(m[2]!, '--listen port') };
}

export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
