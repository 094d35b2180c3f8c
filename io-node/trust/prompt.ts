/**
 * Asking the user for a secret (password, key passphrase, keyboard-interactive answer) or a
 * typed answer such as the host key question's yes/no, the way OpenSSH's ssh does (its readpass.c behaviour, described in ssh(1)
 * ENVIRONMENT under SSH_ASKPASS and SSH_ASKPASS_REQUIRE):
 *
 * 1. `SSH_ASKPASS` names a program and either `SSH_ASKPASS_REQUIRE=force`, or `=prefer`, or there
 *    is no terminal (stdin is not a TTY) and `DISPLAY` is set: run the program with the prompt as
 *    its only argument and take the first line of its standard output (without the line end).
 *    A non-zero exit means the user cancelled. `SSH_ASKPASS_REQUIRE=never` forbids it.
 * 2. Otherwise, when stdin is a TTY: write the prompt to /dev/tty and read the answer from it with
 *    echo off (on for keyboard-interactive prompts the server marks as echoing).
 * 3. Otherwise nobody can be asked: answer null and say on stderr how to supply the answer.
 *
 * Deliberately "stdin is a TTY" rather than "a controlling terminal exists": a hermit started by
 * a script or a test runner from an interactive shell must not stop and wait on that shell's
 * terminal for input nobody is there to type.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { ReadStream, WriteStream } from 'node:tty';

export interface PromptEnvironment {
  /** Default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** Whether stdin is a terminal; default `process.stdin.isTTY`. */
  readonly stdinIsTty?: boolean;
  /** Where notes about unanswerable prompts go; default process.stderr. */
  readonly stderr?: { write(text: string): unknown };
  /** The terminal device; default /dev/tty. */
  readonly ttyPath?: string;
}

export interface PromptRequest {
  /** The text shown, e.g. `Enter passphrase for key '/home/me/.ssh/id_ed25519': `. */
  readonly prompt: string;
  /** Show what is typed (keyboard-interactive prompts with echo=true, confirmations). */
  readonly echo?: boolean;
  /** What is being asked for, in the note printed when nobody can be asked (e.g. `the password for alice@host`). */
  readonly what: string;
}

/** How answers can be obtained in this environment, or null when there is no way to ask. */
export type PromptChannel = { readonly kind: 'askpass'; readonly program: string } | { readonly kind: 'tty' };

/** The channel a prompt would use now (see the module comment for the rules). */
export function promptChannel(environment: PromptEnvironment = {}): PromptChannel | null {
  const env = environment.env ?? process.env;
  const tty = environment.stdinIsTty ?? process.stdin.isTTY === true;
  const program = env['SSH_ASKPASS'];
  const require = (env['SSH_ASKPASS_REQUIRE'] ?? '').toLowerCase();
  if (program && require !== 'never') {
    if (require === 'force' || require === 'prefer') return { kind: 'askpass', program };
    if (!tty && env['DISPLAY']) return { kind: 'askpass', program };
  }
  if (tty && require !== 'force') return { kind: 'tty' };
  return null;
}

/** Asks questions; an interface so that callers can be tested with scripted answers. */
export interface Prompter {
  /** Whether {@link ask} can get an answer at all (false: it would only print a note and return null). */
  readonly available: boolean;
  /** The answer, or null when the user cancelled or nobody can be asked. */
  ask(request: PromptRequest): Promise<string | null>;
}

/** A prompter for the terminal / SSH_ASKPASS environment described above. */
export function systemPrompter(environment: PromptEnvironment = {}): Prompter {
  return {
    get available() {
      return promptChannel(environment) !== null;
    },
    ask: (request) => prompt(request, environment),
  };
}

/** A prompter that never asks (BatchMode=yes). */
export const noPrompter: Prompter = { available: false, ask: async () => null };

/** Ask once; see the module comment for where the question goes. */
export async function prompt(request: PromptRequest, environment: PromptEnvironment = {}): Promise<string | null> {
  const channel = promptChannel(environment);
  const stderr = environment.stderr ?? process.stderr;
  if (channel === null) {
    const env = environment.env ?? process.env;
    const forcedWithoutProgram = (env['SSH_ASKPASS_REQUIRE'] ?? '').toLowerCase() === 'force' && !env['SSH_ASKPASS'];
    stderr.write(
      `hermit: cannot ask for ${request.what}: ` +
        (forcedWithoutProgram
          ? 'SSH_ASKPASS_REQUIRE=force but SSH_ASKPASS is not set; set SSH_ASKPASS to a program that prints the answer.\n'
          : 'stdin is not a terminal and SSH_ASKPASS is not set; run from a terminal, or set SSH_ASKPASS to a program that prints the answer (with SSH_ASKPASS_REQUIRE=force).\n'),
    );
    return null;
  }
  if (channel.kind === 'askpass') return askpass(channel.program, request, environment);
  return readFromTty(request, environment);
}

function askpass(program: string, request: PromptRequest, environment: PromptEnvironment): Promise<string | null> {
  const stderr = environment.stderr ?? process.stderr;
  const env = environment.env ?? process.env;
  return new Promise((resolve) => {
    // No shell: the prompt may contain quotes and the program path is taken literally, as ssh does.
    const child = spawn(program, [request.prompt], { stdio: ['ignore', 'pipe', 'inherit'], env });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('error', (err: NodeJS.ErrnoException) => {
      stderr.write(`hermit: cannot run SSH_ASKPASS program ${program} to ask for ${request.what}: ${err.code ?? err.message}; check that SSH_ASKPASS names an executable file.\n`);
      resolve(null);
    });
    child.on('close', (code) => {
      if (code !== 0) return resolve(null);
      const text = Buffer.concat(chunks).toString('utf8');
      // ssh keeps what comes before the first line end.
      resolve(text.split(/\r?\n|\r/, 1)[0] ?? '');
    });
  });
}

/**
 * Read one line from the terminal. Raw mode is what turns echo off in Node; it also turns off the
 * terminal's own line editing and signals, so backspace, ^U, ^C and ^D are handled here.
 */
function readFromTty(request: PromptRequest, environment: PromptEnvironment): Promise<string | null> {
  const path = environment.ttyPath ?? '/dev/tty';
  let readFd: number | null = null;
  let writeFd: number;
  try {
    readFd = openSync(path, 'r');
    writeFd = openSync(path, 'w');
  } catch (err) {
    if (readFd !== null) closeSync(readFd);
    (environment.stderr ?? process.stderr).write(`hermit: cannot open ${path} to ask for ${request.what}: ${(err as NodeJS.ErrnoException).code ?? String(err)}\n`);
    return Promise.resolve(null);
  }
  const input = new ReadStream(readFd);
  const output = new WriteStream(writeFd);
  return new Promise((resolve) => {
    let answer = '';
    let done = false;
    const finish = (value: string | null, interrupted = false) => {
      if (done) return;
      done = true;
      input.off('data', onData);
      input.setRawMode(false);
      output.write('\n');
      input.destroy();
      output.end();
      resolve(value);
      // ^C at ssh's prompt ends ssh; re-raise it once the terminal is back to normal.
      if (interrupted) process.kill(process.pid, 'SIGINT');
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return finish(answer);
        if (ch === '\u0003') return finish(null, true);
        if (ch === '\u0004') {
          if (answer === '') return finish(null);
          continue;
        }
        if (ch === '\u007f' || ch === '\b') {
          if (answer.length > 0) {
            answer = [...answer].slice(0, -1).join('');
            if (request.echo) output.write('\b \b');
          }
          continue;
        }
        if (ch === '\u0015') {
          if (request.echo) output.write('\b \b'.repeat([...answer].length));
          answer = '';
          continue;
        }
        if (ch < ' ') continue;
        answer += ch;
        if (request.echo) output.write(ch);
      }
    };
    input.setRawMode(true);
    input.on('data', onData);
    input.on('error', () => finish(null));
    output.write(request.prompt);
  });
}
