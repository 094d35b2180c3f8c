/**
 * An SSH agent client for Node: core/api's runtime-neutral agent client over node:net Unix
 * sockets (SSH_AUTH_SOCK by default). While no request is outstanding the socket is unref'd, so
 * an agent client that is never closed does not keep the process alive; every signature the
 * agent returns is verified before it is handed out.
 */
import { RuntimeAgent as CoreSshAgent } from '../../core/api/index.ts';
import { nodeDefaults } from '../runtime/bindings.ts';

export { AgentError, type AgentAddOptions, type AgentErrorCode, type AgentIdentity, type AgentRsaAlgorithm, type AgentSignature } from '../../core/index.ts';
export type { AgentOptions as SshAgentOptions } from '../../core/api/index.ts';
export type { AgentSignOptions as SshAgentSignOptions } from '../../core/index.ts';

export class SshAgent extends CoreSshAgent {
  static override defaults = nodeDefaults;
}
