/**
 * `hermit serve`: an SSH server on a TCP address with host keys from files or the state directory.
 */
import { formatFingerprintLine, SshUsageError } from '../core/index.ts';
import type { AlgorithmOptions } from './probe.ts';
import { UsageError, algorithmOption, formatAddress, parseListen, splitOption, tokens } from './cli-common.ts';
import { serve } from './serve.ts';
import { defaultStateDir, loadHostKeyFiles, loadOrCreateHostKeys } from './state-dir.ts';

export const SERVE_HELP = `Usage: hermit serve [--listen ADDRESS] [--host-key FILE]... [--state-dir DIR] [-o Name=value]... [-q]

Run an SSH server. It completes the key exchange and answers authentication requests with the
methods that can continue; sessions are not offered yet.

Options:
  --listen ADDRESS   HOST:PORT, [IPV6]:PORT or PORT to listen on (default 127.0.0.1:2222);
                     port 0 picks a free one. The actual address is printed as
                     'listening on HOST:PORT'.
  --host-key FILE    an OpenSSH private key (unencrypted) to use as host key; repeat for more.
                     Without it, ed25519, ecdsa-p256 and rsa-3072 keys are created in the state
                     directory on first run and reused afterwards.
  --state-dir DIR    where generated host keys live (default $XDG_STATE_HOME/hermit,
                     or ~/.local/state/hermit).
  -o Name=value      KexAlgorithms, Ciphers, MACs or HostKeyAlgorithms, as in sshd_config(5):
                     a full list, or +list to append, -patterns to remove, ^list to put first.
  -q, --quiet        do not log connections on stderr.
  -h, --help         show this help.
`;

export async function cmdServe(args: readonly string[]): Promise<number> {
  let listen = { host: '127.0.0.1', port: 2222 };
  const hostKeyPaths: string[] = [];
  let stateDir: string | null = null;
  let quiet = false;
  const algorithms: Record<string, string> = {};
  for (const t of tokens(args, new Set(['--listen', '--host-key', '--state-dir', '-o']))) {
    switch (t.name) {
      case '-h':
      case '--help':
        process.stdout.write(SERVE_HELP);
        return 0;
      case '--listen':
        listen = parseListen(t.value);
        break;
      case '--host-key':
        hostKeyPaths.push(t.value);
        break;
      case '--state-dir':
        if (t.value === '') throw new UsageError('--state-dir needs a directory');
        stateDir = t.value;
        break;
      case '-q':
      case '--quiet':
        quiet = true;
        break;
      case '-o': {
        const { name, value } = splitOption(t.value);
        if (!algorithmOption(algorithms, name, value)) {
          throw new UsageError(`unsupported option -o ${name}; hermit serve supports KexAlgorithms, Ciphers, MACs and HostKeyAlgorithms`);
        }
        break;
      }
      case null:
        throw new UsageError(`unexpected argument ${JSON.stringify(t.value)}; hermit serve takes options only`);
      default:
        throw new UsageError(`unknown option ${t.name}`);
    }
  }
  if (hostKeyPaths.length > 0 && stateDir !== null) {
    throw new UsageError('--state-dir only says where generated host keys go; it has no effect with --host-key (use one or the other)');
  }

  const keys = hostKeyPaths.length > 0 ? await loadHostKeyFiles(hostKeyPaths) : await loadOrCreateHostKeys(stateDir ?? defaultStateDir());
  for (const k of keys) {
    if (k.created) process.stderr.write(`generated host key ${k.path}\n`);
    process.stdout.write(`${formatFingerprintLine(k.key.publicKey, k.path)}\n`);
  }
  const log = quiet ? undefined : (line: string) => process.stderr.write(`${line}\n`);
  let server;
  try {
    server = await serve({
      host: listen.host,
      port: listen.port,
      hostKeys: keys.map((k) => k.key),
      ...(Object.keys(algorithms).length > 0 ? { algorithms: algorithms as AlgorithmOptions } : {}),
      ...(log ? { log } : {}),
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (err instanceof SshUsageError) throw new UsageError(err.message);
    const why = e.code === 'EADDRINUSE' ? 'address already in use' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EADDRNOTAVAIL' ? 'address not available on this machine' : e.message;
    throw new Error(`cannot listen on ${formatAddress(listen.host, listen.port)}: ${why}`);
  }
  // Handlers first: whoever reads the line below may signal at once, and without a handler the
  // default action kills the process before the goodbyes go out.
  const stopped = new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void server.close().then(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  process.stdout.write(`listening on ${formatAddress(server.host, server.port)}\n`);
  await stopped;
  return 0;
}
