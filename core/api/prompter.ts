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

/** `~` or `~/…` → the home directory (ssh_config(5) file names start this way). */
export function expandTilde(path: string, home: string): string {
  if (path === '~') return home;
  if (path.startsWith('~/')) return `${home.replace(/\/+$/, '')}/${path.slice(2)}`;
  return path;
}
