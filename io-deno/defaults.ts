/**
 * What core/api's runtime-bound classes get on Deno when the caller leaves it out: the Deno
 * runtime and warnings on stderr. There is no terminal prompter here: passphrases, passwords and
 * keyboard-interactive answers come from the options' callbacks.
 */
import type { AdapterDefaults } from '../core/api/index.ts';
import { denoRuntime } from './runtime.ts';

const encoder = new TextEncoder();

export const denoDefaults: AdapterDefaults = {
  runtime: denoRuntime,
  stderr: { write: (text: string) => Deno.stderr.writeSync(encoder.encode(text)) },
};
