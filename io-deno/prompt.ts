/**
 * The terminal / SSH_ASKPASS prompter on Deno (ssh(1) ENVIRONMENT: SSH_ASKPASS,
 * SSH_ASKPASS_REQUIRE, DISPLAY): where a question goes and how a line is edited are core/api's
 * (choosePromptChannel, RawLineReader); this file only runs the askpass program with
 * `Deno.Command` and reads /dev/tty in raw mode.
 */
import { askpassAnswer, choosePromptChannel, unanswerableNote, RawLineReader, type Prompter, type PromptRequest, type TextSink } from '../core/api/index.ts';

export interface DenoPromptEnvironment {
  /** Default: Deno's environment. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Whether stdin is a terminal; default `Deno.stdin.isTerminal()`. */
  readonly stdinIsTty?: boolean;
  /** Where notes about unanswerable prompts go; default stderr. */
  readonly stderr?: TextSink;
  /** The terminal device; default /dev/tty. */
  readonly ttyPath?: string;
}

const encoder = new TextEncoder();
const stderrSink: TextSink = { write: (text: string) => Deno.stderr.writeSync(encoder.encode(text)) };

/** A prompter for the terminal / SSH_ASKPASS environment. */
export function systemPrompter(environment: DenoPromptEnvironment = {}): Prompter {
  const env = (name: string): string | undefined => (environment.env ? environment.env[name] : Deno.env.get(name));
  const channel = () => choosePromptChannel(env, environment.stdinIsTty ?? Deno.stdin.isTerminal());
  return {
    get available() {
      return channel() !== null;
    },
    async ask(request) {
      const stderr = environment.stderr ?? stderrSink;
      const how = channel();
      if (how === null) {
        stderr.write(unanswerableNote(request.what, env));
        return null;
      }
      if (how.kind === 'askpass') return askpass(how.program, request, stderr, environment.env);
      return readFromTty(request, environment.ttyPath ?? '/dev/tty', stderr);
    },
  };
}

async function askpass(program: string, request: PromptRequest, stderr: TextSink, env: DenoPromptEnvironment['env']): Promise<string | null> {
  try {
    // No shell: the prompt may hold quotes and the program path is taken literally, as ssh does.
    const command = new Deno.Command(program, {
      args: [request.prompt],
      stdin: 'null',
      stdout: 'piped',
      stderr: 'inherit',
      ...(env ? { env: Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined)), clearEnv: true } : {}),
    });
    const { code, stdout } = await command.output();
    return code === 0 ? askpassAnswer(new TextDecoder().decode(stdout)) : null;
  } catch (err) {
    stderr.write(`hermit: cannot run SSH_ASKPASS program ${program} to ask for ${request.what}: ${(err as Error).message}; check that SSH_ASKPASS names an executable file.\n`);
    return null;
  }
}

async function readFromTty(request: PromptRequest, path: string, stderr: TextSink): Promise<string | null> {
  let tty: Deno.FsFile;
  try {
    tty = await Deno.open(path, { read: true, write: true });
  } catch (err) {
    stderr.write(`hermit: cannot open ${path} to ask for ${request.what}: ${(err as Error).message}\n`);
    return null;
  }
  const line = new RawLineReader(request.echo === true);
  const decoder = new TextDecoder();
  const buffer = new Uint8Array(256);
  try {
    tty.setRaw(true);
    await tty.write(encoder.encode(request.prompt));
    while (!line.done) {
      const n = await tty.read(buffer);
      if (n === null) break;
      const echo = line.feed(decoder.decode(buffer.subarray(0, n), { stream: true }));
      if (echo) await tty.write(encoder.encode(echo));
    }
  } catch {
    // The terminal went away: nobody answered.
  } finally {
    try {
      tty.setRaw(false);
      await tty.write(encoder.encode('\n'));
    } catch {
      // already gone
    }
    tty.close();
  }
  const outcome = line.done;
  // ^C at ssh's prompt ends ssh; raise it once the terminal is back to normal.
  if (outcome?.interrupted) Deno.kill(Deno.pid, 'SIGINT');
  return outcome?.answer ?? null;
}

/** Ask once (see {@link systemPrompter} for where the question goes). */
export function prompt(request: PromptRequest, environment: DenoPromptEnvironment = {}): Promise<string | null> {
  return systemPrompter(environment).ask(request);
}
