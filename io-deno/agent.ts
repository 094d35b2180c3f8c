/**
 * An SSH agent client for Deno: core/api's runtime-neutral agent client over
 * `Deno.connect({ transport: 'unix' })` (SSH_AUTH_SOCK by default; needs `--allow-env`, and
 * `--allow-read --allow-write` for the socket's path). Idle, it does not keep Deno running;
 * signatures are verified before they are returned.
 */
import { RuntimeAgent } from '../core/api/index.ts';
import { denoDefaults } from './defaults.ts';

export { AgentError, type AgentAddOptions, type AgentErrorCode, type AgentIdentity, type AgentRsaAlgorithm, type AgentSignature } from '../core/index.ts';
export type { AgentOptions as DenoSshAgentOptions } from '../core/api/index.ts';

export class SshAgent extends RuntimeAgent {
  static override defaults = denoDefaults;
}
