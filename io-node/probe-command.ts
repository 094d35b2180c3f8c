/**
 * `hermit probe`: connect, negotiate, and report what the server offers.
 */
import { userInfo } from 'node:os';
import { UsageError, algorithmOption, parsePort, parsePositiveSeconds, splitOption, tokens } from './cli-common.ts';
import { formatProbeJson, formatProbeLines, probe, type AlgorithmOptions } from './probe.ts';

export const PROBE_HELP = `Usage: hermit probe [-p PORT] [-l USER] [-o Name=value]... [--timeout SECONDS] [--json] [USER@]HOST

Connect, run the key exchange, ask which authentication methods the server accepts, disconnect,
and print one 'name: value' line each for: server-version, kex, host-key-algorithm,
host-key-fingerprint, cipher-c2s, cipher-s2c, mac-c2s, mac-s2c ('<implicit>' for AEAD ciphers),
strict-kex (yes/no), server-sig-algs (or '(none)'), auth-methods.
The probe never authenticates and never reads or writes known_hosts: it accepts the host key for
this one connection and reports its fingerprint.

Options:
  -p PORT            port to connect to (default 22).
  -l USER            user name for the 'none' authentication request (default: current user).
  -o Name=value      as in ssh_config(5): KexAlgorithms, Ciphers, MACs, HostKeyAlgorithms (full
                     list, +append, -remove, ^first), Port, User, ConnectTimeout (seconds);
                     StrictHostKeyChecking=no|accept-new, UserKnownHostsFile and BatchMode are
                     accepted and have no effect.
  --timeout SECONDS  give up if the probe has not finished this long after connecting (default 30).
  --json             print the report as one JSON object (lists as arrays, strict-kex as boolean).
  -h, --help         show this help.
`;

export async function cmdProbe(args: readonly string[]): Promise<number> {
  let port: number | null = null;
  let user: string | null = null;
  let json = false;
  let connectTimeoutMs: number | null = null;
  let timeoutMs: number | null = null;
  const operands: string[] = [];
  const algorithms: Record<string, string> = {};
  for (const t of tokens(args, new Set(['-p', '-l', '-o', '--timeout']))) {
    switch (t.name) {
      case '-h':
      case '--help':
        process.stdout.write(PROBE_HELP);
        return 0;
      case '-p':
        port = parsePort(t.value, '-p');
        break;
      case '-l':
        if (t.value === '') throw new UsageError('-l needs a user name');
        user = t.value;
        break;
      case '--json':
        json = true;
        break;
      case '--timeout':
        timeoutMs = parsePositiveSeconds(t.value, '--timeout');
        break;
      case '-o': {
        const { name, value } = splitOption(t.value);
        if (algorithmOption(algorithms, name, value)) break;
        switch (name.toLowerCase()) {
          case 'port':
            port ??= parsePort(value, '-o Port');
            break;
          case 'user':
            user ??= value;
            break;
          case 'connecttimeout':
            connectTimeoutMs = parsePositiveSeconds(value, '-o ConnectTimeout');
            break;
          case 'stricthostkeychecking':
            if (/^(no|off|accept-new)$/i.test(value)) break;
            if (/^(yes|ask)$/i.test(value)) {
              throw new UsageError(`StrictHostKeyChecking=${value}: hermit probe does not consult known_hosts; it reports the host key fingerprint instead (use StrictHostKeyChecking=no or leave it out)`);
            }
            throw new UsageError(`StrictHostKeyChecking=${value}: expected yes, no, ask, accept-new or off`);
          case 'userknownhostsfile':
            break;
          case 'batchmode':
            if (!/^(yes|no)$/i.test(value)) throw new UsageError(`BatchMode=${value}: expected yes or no`);
            break;
          default:
            throw new UsageError(
              `unsupported option -o ${name}; hermit probe supports KexAlgorithms, Ciphers, MACs, HostKeyAlgorithms, Port, User, ConnectTimeout, StrictHostKeyChecking, UserKnownHostsFile, BatchMode`,
            );
        }
        break;
      }
      case null:
        operands.push(t.value);
        break;
      default:
        throw new UsageError(`unknown option ${t.name}`);
    }
  }
  if (operands.length === 0) throw new UsageError('missing HOST, e.g. hermit probe -p 2222 127.0.0.1');
  if (operands.length > 1) throw new UsageError(`expected one HOST, got ${operands.length}: ${operands.join(' ')} (options go before HOST)`);
  let host = operands[0]!;
  const at = host.lastIndexOf('@');
  if (at !== -1) {
    user ??= host.slice(0, at);
    host = host.slice(at + 1);
  }
  if (host === '') throw new UsageError('HOST is empty');
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);

  const result = await probe({
    host,
    port: port ?? 22,
    username: user ?? defaultUser(),
    ...(Object.keys(algorithms).length > 0 ? { algorithms: algorithms as AlgorithmOptions } : {}),
    ...(connectTimeoutMs !== null ? { connectTimeoutMs } : {}),
    ...(timeoutMs !== null ? { timeoutMs } : {}),
  });
  process.stdout.write(json ? formatProbeJson(result) + '\n' : formatProbeLines(result).join('\n') + '\n');
  return 0;
}

function defaultUser(): string {
  const fromEnv = process.env['USER'] || process.env['LOGNAME'];
  if (fromEnv) return fromEnv;
  try {
    return userInfo().username;
  } catch {
    // No passwd entry (containers with arbitrary uids): any name gets the same method list.
    return 'hermit';
  }
}
