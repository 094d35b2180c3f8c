#!/usr/bin/env node
/**
 * The `hermit` command. Option spelling follows OpenSSH where it has one (`-p`, `-l`, `-o Name=value`
 * with ssh_config(5) names), so that what works with `ssh` works here. Exit codes: 0 success,
 * 1 the operation failed, 2 the command line is wrong (the message says what to change).
 */
import { existsSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyAlgorithmOption, formatFingerprintLine, SshUsageError, type AlgorithmPreferences } from '../core/index.ts';
import { formatProbeJson, formatProbeLines, probe, type AlgorithmOptions } from './probe.ts';
import { serve } from './serve.ts';
import { defaultStateDir, loadHostKeyFiles, loadOrCreateHostKeys } from './state-dir.ts';

class UsageError extends Error {}

const MAIN_HELP = `Usage: hermit <command> [options]

Commands:
  serve    run an SSH server (generates its host keys on first run)
  probe    connect to an SSH server and report what it negotiates

Options:
  -h, --help     show this help; 'hermit <command> --help' shows a command's options
  -V, --version  print the version

Exit status: 0 success, 1 failure, 2 invalid command line.
`;

const SERVE_HELP = `Usage: hermit serve [--listen ADDRESS] [--host-key FILE]... [--state-dir DIR] [-o Name=value]... [-q]

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

const PROBE_HELP = `Usage: hermit probe [-p PORT] [-l USER] [-o Name=value]... [--timeout SECONDS] [--json] [USER@]HOST

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

function version(): string {
  // dist/io-node/cli.js and io-node/cli.ts sit at different depths below package.json.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      const pkg = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'hermit-ssh' && pkg.version) return pkg.version;
    }
    dir = dirname(dir);
  }
  return 'unknown';
}

/** Splits argv into options and operands, accepting `-pVALUE`, `-p VALUE`, `--opt=VALUE` and `--opt VALUE`. */
function* tokens(args: readonly string[], withValue: ReadonlySet<string>): Generator<{ name: string | null; value: string }> {
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
function splitOption(text: string): { name: string; value: string } {
  const m = /^\s*([A-Za-z0-9]+)\s*(?:=\s*|\s+)(.*?)\s*$/.exec(text);
  if (!m || m[2] === '') throw new UsageError(`-o ${JSON.stringify(text)}: expected Name=value, e.g. -o Ciphers=aes128-ctr`);
  return { name: m[1]!, value: m[2]! };
}

const algorithmOptions: Record<string, keyof AlgorithmPreferences> = {
  kexalgorithms: 'kex',
  ciphers: 'cipher',
  macs: 'mac',
  hostkeyalgorithms: 'hostKey',
};

/** Validate now, so a typo is a usage error (exit 2) rather than a failed connection. */
function algorithmOption(algorithms: Record<string, string>, name: string, value: string): boolean {
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

function parsePort(text: string, what: string): number {
  if (!/^\d+$/.test(text) || Number(text) > 65535) throw new UsageError(`${what} ${JSON.stringify(text)} is not a port number (0-65535)`);
  return Number(text);
}

function parsePositiveSeconds(text: string, what: string): number {
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !(n > 0)) throw new UsageError(`${what} ${JSON.stringify(text)} is not a positive number of seconds`);
  return n * 1000;
}

function parseListen(text: string): { host: string; port: number } {
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(text);
  if (v6) return { host: v6[1]!, port: parsePort(v6[2]!, '--listen port') };
  if (/^\d+$/.test(text)) return { host: '127.0.0.1', port: parsePort(text, '--listen port') };
  const m = /^([^:\s]+):(\d+)$/.exec(text);
  if (!m) throw new UsageError(`--listen ${JSON.stringify(text)}: expected HOST:PORT, [IPV6]:PORT or PORT, e.g. --listen 127.0.0.1:2222`);
  return { host: m[1]!, port: parsePort(m[2]!, '--listen port') };
}

function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

// ---------------------------------------------------------------- serve

async function cmdServe(args: readonly string[]): Promise<number> {
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

// ---------------------------------------------------------------- probe

async function cmdProbe(args: readonly string[]): Promise<number> {
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

// ---------------------------------------------------------------- dispatch

const commands: Record<string, (args: readonly string[]) => Promise<number>> = { serve: cmdServe, probe: cmdProbe };

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help') {
    (command === undefined ? process.stderr : process.stdout).write(MAIN_HELP);
    return command === undefined ? 2 : 0;
  }
  if (command === '-V' || command === '--version') {
    process.stdout.write(`hermit ${version()}\n`);
    return 0;
  }
  if (command === 'help') {
    const topic = rest[0];
    if (topic === undefined) process.stdout.write(MAIN_HELP);
    else if (topic === 'serve') process.stdout.write(SERVE_HELP);
    else if (topic === 'probe') process.stdout.write(PROBE_HELP);
    else {
      process.stderr.write(`hermit: no help for unknown command ${JSON.stringify(topic)}; commands: serve, probe\n`);
      return 2;
    }
    return 0;
  }
  const run = commands[command];
  if (!run) {
    process.stderr.write(`hermit: unknown command ${JSON.stringify(command)}; commands: serve, probe (see 'hermit --help')\n`);
    return 2;
  }
  try {
    return await run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`hermit ${command}: ${err.message}\nTry 'hermit ${command} --help' for the options.\n`);
      return 2;
    }
    // Failures the user can act on (refused, timed out, no common algorithm) are one line, no stack.
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`hermit ${command}: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
