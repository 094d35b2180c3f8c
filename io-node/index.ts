/**
 * hermit-ssh for Node (`hermit-ssh/node`): the promise API of core/api on the Node runtime — the
 * client (connect, listenReverse) with Node stream views, the server (listen, handleConnection,
 * connectReverse) — plus the socket pump for embedders, the node:crypto provider, and the
 * serve/probe helpers the `hermit` command is built from.
 */
export { ConnectError, ConnectionPump, dialTcp, type CloseReason, type ConnectionPumpOptions } from './runtime/connection-pump.ts';
export { nodeCrypto } from './runtime/crypto-node.ts';
export { formatProbeJson, formatProbeLines, probe, ProbeError, type AlgorithmOptions, type ProbeOptions, type ProbeResult } from './cli/probe.ts';
export { serve, type RunningServer, type ServeOptions } from './server-host/serve.ts';
export { connectReverse, handleConnection, listen } from './server-host/server.ts';
export {
  LineEditor,
  ServerConnection,
  ServerSession,
  type ListenOptions,
  type PublicKeyAttempt,
  type ReverseConnectOptions,
  type ServerAuthHandlers,
  type ServerForwardingPolicy,
  type ServerOptions,
  type ServerPeer,
  type ServerPty,
  type SshServer,
} from '../core/api/index.ts';
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
