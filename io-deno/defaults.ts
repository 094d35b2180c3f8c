/**
 * What core/api's runtime-bound classes get on Deno when the caller leaves it out: the Deno
 * runtime, warnings on stderr, and the terminal / SSH_ASKPASS prompter (io-deno/prompt.ts) for
 * ClientCredentials' passphrases, passwords and keyboard-interactive answers.
 */
import type { AdapterDefaults } from '../core/api/index.ts';
import { systemPrompter } from './prompt.ts';
import { denoRuntime } from './runtime.ts';

const encoder = new TextEncoder();

export const denoDefaults: AdapterDefaults = {
  runtime: denoRuntime,
  stderr: { write: (text: string) => Deno.stderr.writeSync(encoder.encode(text)) },
  prompter: (options) => systemPrompter({ ...(options.env ? { env: options.env } : {}), ...(options.stderr ? { stderr: options.stderr } : {}) }),
};
