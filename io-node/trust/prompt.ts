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
 * Where a question goes, the note when nobody can be asked and the raw-mode line editing are
 * core/api's (prompter.ts), shared with Deno; this file runs the askpass program and reads /dev/tty.
 *
 * Deliberately "stdin is a TTY" rather than "a controlling terminal exists": a hermit started by
 * a script or a test runner from an interactive shell must not stop and wait on that shell's
 * terminal for input nobody is there to type.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { ReadStream, WriteStream } from 'node:tty';
import { askpassAnswer, choosePromptChannel, noPrompter, RawLineReader, unanswerableNote, type Prompter, type PromptChannel, type PromptRequest } from '../../core/api/index.ts';

export { noPrompter, type Prompter, type PromptChannel, type PromptRequest };

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

const envLookup = (environment: PromptEnvironment) => (name: string) => (environment.env ?? process.env)[name];

/** The channel a prompt would use now (see the module comment for the rules). */
export function promptChannel(environment: PromptEnvironment = {}): PromptChannel | null {
  return choosePromptChannel(envLookup(environment), environment.stdinIsTty ?? process.stdin.isTTY === true);
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

/** Ask once; see the module comment for where the question goes. */
export async function prompt(request: PromptRequest, environment: PromptEnvironment = {}): Promise<string | null> {
  const channel = promptChannel(environment);
  if (channel === null) {
    (environment.stderr ?? process.stderr).write(unanswerableNote(request.what, envLookup(environment)));
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
    child.on('close', (code) => resolve(code === 0 ? askpassAnswer(Buffer.concat(chunks).toString('utf8')) : null));
  });
}

/** Read one line from the terminal in raw mode (how Node turns echo off); RawLineReader edits it. */
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
  const line = new RawLineReader(request.echo === true);
  return new Promise((resolve) => {
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
      const echo = line.feed(chunk.toString('utf8'));
      if (echo) output.write(echo);
      const outcome = line.done;
      if (outcome) finish(outcome.answer, outcome.interrupted);
    };
    input.setRawMode(true);
    input.on('data', onData);
    input.on('error', () => finish(null));
    output.write(request.prompt);
  });
}
