/**
 * The known_hosts policy for Node: core/api's HostKeyPolicy (OpenSSH's host key checking, written
 * once for every runtime) reading files through node:fs, its notes on process.stderr.
 */
import { HostKeyPolicy as CoreHostKeyPolicy } from '../../core/api/index.ts';
import { nodeDefaults } from '../runtime/bindings.ts';

export {
  DEFAULT_GLOBAL_KNOWN_HOSTS_FILES,
  DEFAULT_USER_KNOWN_HOSTS_FILES,
  HostKeyVerificationError,
  parseKnownHostsFileList,
  type HostKeyOutcome,
  type HostKeyPolicyOptions,
  type HostKeyVerdict,
  type HostKeyVerificationErrorCode,
} from '../../core/api/index.ts';

export class HostKeyPolicy extends CoreHostKeyPolicy {
  static override defaults = nodeDefaults;
}
