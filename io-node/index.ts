/**
 * hermit-ssh for Node (`hermit-ssh/node`): the socket pump that runs an SshEngine over a
 * `net.Socket`, the node:crypto provider, and the small connect/serve/probe helpers the `hermit`
 * command is built from. The full client and server API grows on top of these.
 */
export { ConnectError, ConnectionPump, dialTcp, type CloseReason, type ConnectionPumpOptions } from './runtime/connection-pump.ts';
export { nodeCrypto } from './runtime/crypto-node.ts';
export { formatProbeJson, formatProbeLines, probe, ProbeError, type AlgorithmOptions, type ProbeOptions, type ProbeResult } from './cli/probe.ts';
export { serve, type RunningServer, type ServeOptions } from './server-host/serve.ts';
export { DEFAULT_HOST_KEYS, defaultStateDir, loadHostKeyFiles, loadOrCreateHostKeys, type HostKeyFile } from './trust/state-dir.ts';
export { generateHostKey, KeyFileError, readPrivateKeyFile, writePrivateKeyFile, type HostKeyType } from './trust/keys.ts';
export { SshAgent, type SshAgentOptions, type SshAgentSignOptions } from './trust/agent.ts';
export { ClientCredentials, CredentialOptionError, AgentUnavailableError, DEFAULT_IDENTITY_FILES, type ClientCredentialOptions, type Identity } from './trust/client-credentials.ts';
export { HostKeyPolicy, HostKeyVerificationError, type HostKeyPolicyOptions, type HostKeyVerdict } from './trust/host-key-policy.ts';
export { ServerAuthPolicy, AuthConfigError, parseAuthMethods, type ServerAuthConfig } from './server-host/server-auth.ts';
export { prompt, systemPrompter, noPrompter, type Prompter, type PromptRequest } from './trust/prompt.ts';
export { TrustFileError, appendKnownHost, loadAuthorizedKeys, loadKnownHosts, loadPasswordFile, hashPasswordForFile, verifyHostKey } from './trust/trust-files.ts';
export { runKeygen } from './trust/keygen.ts';
export {
  AbortError,
  ChannelOpenError,
  ChannelRequestError,
  channelDuplex,
  connect,
  ConnectionClosedError,
  listenReverse,
  GlobalRequestError,
  ProcessError,
  SshProcess,
  TimeoutError,
  type ConnectOptions,
  type ExecOptions,
  type ExecResult,
  type ExitInfo,
  type ExitSignal,
  type LogRecord,
  type PtyOptions,
  type RunOptions,
  type RunResult,
  type SessionOptions,
  type SpawnOptions,
  type SshClient,
} from './streams/client.ts';
