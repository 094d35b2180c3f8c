/**
 * Client credentials for Node the way OpenSSH's ssh gathers them (identity files and their
 * `-cert.pub`, the agent, passwords and keyboard-interactive answers): core/api's
 * ClientCredentials with node:fs, the agent socket and the terminal / SSH_ASKPASS prompter.
 */
import { ClientCredentials as CoreClientCredentials } from '../../core/api/index.ts';
import { nodeDefaults } from '../runtime/bindings.ts';

export {
  AgentUnavailableError,
  CredentialOptionError,
  DEFAULT_IDENTITY_FILES,
  IGNORED_METHODS,
  parsePreferredAuthentications,
  USABLE_METHODS,
  type ClientCredentialOptions,
  type Identity,
} from '../../core/api/index.ts';

export class ClientCredentials extends CoreClientCredentials {
  static override defaults = nodeDefaults;
}
