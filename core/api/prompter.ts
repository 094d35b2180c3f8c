/**
 * Questions for the user (a password, a key passphrase, a keyboard-interactive answer, the host
 * key yes/no): an interface, so that each runtime supplies its terminal or askpass prompter and
 * tests and embedders supply scripted answers.
 */
export interface PromptRequest {
  /** The text shown, e.g. `Enter passphrase for key '/home/me/.ssh/id_ed25519': `. */
  readonly prompt: string;
  /** Show what is typed (keyboard-interactive prompts with echo=true, confirmations). */
  readonly echo?: boolean;
  /** What is being asked for, in the note printed when nobody can be asked (e.g. `the password for alice@host`). */
  readonly what: string;
}

/** Asks questions. */
export interface Prompter {
  /** Whether {@link ask} can get an answer at all (false: it would only print a note and return null). */
  readonly available: boolean;
  /** The answer, or null when the user cancelled or nobody can be asked. */
  ask(request: PromptRequest): Promise<string | null>;
}

/** A prompter that never asks (BatchMode=yes). */
export const noPrompter: Prompter = { available: false, ask: async () => null };

/** Where warnings go, as ssh prints them on stderr. */
export interface TextSink {
  write(text: string): unknown;
}

/** Drops what it is given. */
export const nowhere: TextSink = { write: () => undefined };

/**
 * What an adapter fills in for the runtime-bound classes (HostKeyPolicy, ClientCredentials, the
 * agent client) when the caller leaves it out: set once as a static `defaults` on its subclass.
 */
export interface AdapterDefaults {
  readonly runtime?: import('./runtime.ts').Runtime;
  /** Where warnings go when the caller gives no `stderr`. */
  readonly stderr?: TextSink;
  /** The prompter for credentials when the caller gives none (the terminal / SSH_ASKPASS). */
  readonly prompter?: (options: { readonly env?: Readonly<Record<string, string | undefined>>; readonly stderr?: TextSink }) => Prompter;
}

/** How answers can be obtained in this environment (ssh(1) ENVIRONMENT, SSH_ASKPASS and SSH_ASKPASS_REQUIRE). */
export type PromptChannel = { readonly kind: 'askpass'; readonly program: string } | { readonly kind: 'tty' };

/**
 * Where a question goes, the way ssh decides it: `SSH_ASKPASS` with `SSH_ASKPASS_REQUIRE=force` or
 * `prefer`, or without a terminal when `DISPLAY` is set; otherwise the terminal when stdin is one
 * (and askpass is not forced); otherwise nowhere (null).
 */
export function choosePromptChannel(env: (name: string) => string | undefined, stdinIsTty: boolean): PromptChannel | null {
  const program = env('SSH_ASKPASS');
  const require = (env('SSH_ASKPASS_REQUIRE') ?? '').toLowerCase();
  if (program && require !== 'never') {
    if (require === 'force' || require === 'prefer') return { kind: 'askpass', program };
    if (!stdinIsTty && env('DISPLAY')) return { kind: 'askpass', program };
  }
  if (stdinIsTty && require !== 'force') return { kind: 'tty' };
  return null;
}

/** The note printed when a question cannot be asked, saying how to supply the answer. */
export function unanswerableNote(what: string, env: (name: string) => string | undefined): string {
  const forcedWithoutProgram = (env('SSH_ASKPASS_REQUIRE') ?? '').toLowerCase() === 'force' && !env('SSH_ASKPASS');
  return (
    `hermit: cannot ask for ${what}: ` +
    (forcedWithoutProgram
      ? 'SSH_ASKPASS_REQUIRE=force but SSH_ASKPASS is not set; set SSH_ASKPASS to a program that prints the answer.\n'
      : 'stdin is not a terminal and SSH_ASKPASS is not set; run from a terminal, or set SSH_ASKPASS to a program that prints the answer (with SSH_ASKPASS_REQUIRE=force).\n')
  );
}

/** ssh keeps what an askpass program printed before the first line end. */
export function askpassAnswer(output: string): string {
  return output.split(/\r?\n|\r/, 1)[0] ?? '';
}

/**
 * One line typed at a terminal in raw mode (raw mode is how echo goes off, and it also turns off
 * the terminal's own line editing): Enter ends it, backspace and ^U edit, ^D on an empty line
 * and ^C cancel. {@link feed} returns what to echo and, once the line is over, the outcome.
 */
export class RawLineReader {
  private answer = '';
  private outcome: { readonly answer: string | null; readonly interrupted: boolean } | null = null;

  constructor(private readonly echo: boolean) {}

  get done(): { readonly answer: string | null; readonly interrupted: boolean } | null {
    return this.outcome;
  }

  /** Characters typed; returns the text to write back to the terminal. */
  feed(text: string): string {
    let out = '';
    for (const ch of text) {
      if (this.outcome) break;
      if (ch === '\r' || ch === '\n') this.outcome = { answer: this.answer, interrupted: false };
      else if (ch === '\u0003') this.outcome = { answer: null, interrupted: true };
      else if (ch === '\u0004') {
        if (this.answer === '') this.outcome = { answer: null, interrupted: false };
      } else if (ch === '\u007f' || ch === '\b') {
        if (this.answer.length > 0) {
          this.answer = [...this.answer].slice(0, -1).join('');
          if (this.echo) out += '\b \b';
        }
      } else if (ch === '\u0015') {
        if (this.echo) out += '\b \b'.repeat([...this.answer].length);
        this.answer = '';
      } else if (ch >= ' ') {
        this.answer += ch;
        if (this.echo) out += ch;
      }
    }
    return out;
  }
}

/** `~` or `~/…` → the home directory (ssh_config(5) file names start this way). */
export function expandTilde(path: string, home: string): string {
  if (path === '~') return home;
  if (path.startsWith('~/')) return `${home.replace(/\/+$/, '')}/${path.slice(2)}`;
  return path;
}
