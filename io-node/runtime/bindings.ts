/**
 * What core/api's runtime-bound classes get on Node when the caller leaves it out: the Node
 * runtime, warnings on process.stderr, questions on the terminal or SSH_ASKPASS (io-node/trust/prompt.ts).
 */
import type { AdapterDefaults } from '../../core/api/index.ts';
import { systemPrompter } from '../trust/prompt.ts';
import { nodeRuntime } from './node-runtime.ts';

export const nodeDefaults: AdapterDefaults = {
  runtime: nodeRuntime,
  stderr: process.stderr,
  prompter: (options) => systemPrompter({ env: (options.env as NodeJS.ProcessEnv | undefined) ?? process.env, stderr: options.stderr ?? process.stderr }),
};
