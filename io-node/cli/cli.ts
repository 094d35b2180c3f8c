#!/usr/bin/env node
/**
 * The `hermit` command. Option spelling follows OpenSSH where it has one (`-p`, `-l`, `-o Name=value`
 * with ssh_config(5) names), so that what works with `ssh` works here. Exit codes: 0 success,
 * 1 the operation failed, 2 the command line is wrong (the message says what to change).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from './cli-common.ts';

const MAIN_HELP = `Usage: hermit <command> [options]

Commands:
  serve          run an SSH server (generates its host keys on first run)
  probe          connect to an SSH server and report what it negotiates
  keygen         create a key pair (ssh-keygen's options; never overwrites)
  hash-password  print a password hash for hermit serve's --password-file

Options:
  -h, --help     show this help; 'hermit <command> --help' shows a command's options
  -V, --version  print the version

Exit status: 0 success, 1 failure, 2 invalid command line.
`;

function version(): string {
  // dist/io-node/cli/cli.js and io-node/cli/cli.ts sit at different depths below package.json.
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

// ---------------------------------------------------------------- dispatch

// Each command loads only its own modules: start-up time is most of a short command's run.
const commands: Record<string, (args: readonly string[]) => Promise<number>> = {
  serve: async (args) => (await import('./serve-command.ts')).cmdServe(args),
  probe: async (args) => (await import('./probe-command.ts')).cmdProbe(args),
  // keygen reports its own usage errors and failures through its io, so it only needs the streams.
  keygen: async (args) => (await import('../trust/keygen.ts')).runKeygen([...args], { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) }),
  'hash-password': async (args) => (await import('./serve-command.ts')).cmdHashPassword(args),
};
const helps: Record<string, () => Promise<string>> = {
  serve: async () => (await import('./serve-command.ts')).SERVE_HELP,
  probe: async () => (await import('./probe-command.ts')).PROBE_HELP,
  keygen: async () => (await import('../trust/keygen.ts')).KEYGEN_HELP,
  'hash-password': async () => (await import('./serve-command.ts')).HASH_PASSWORD_HELP,
};

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
    else if (helps[topic] !== undefined) process.stdout.write(await helps[topic]());
    else {
      process.stderr.write(`hermit: no help for unknown command ${JSON.stringify(topic)}; commands: ${Object.keys(commands).join(', ')}\n`);
      return 2;
    }
    return 0;
  }
  const run = commands[command];
  if (!run) {
    process.stderr.write(`hermit: unknown command ${JSON.stringify(command)}; commands: ${Object.keys(commands).join(', ')} (see 'hermit --help')\n`);
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

