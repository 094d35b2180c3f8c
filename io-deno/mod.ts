/**
 * hermit-ssh for Deno (`hermit-ssh/deno`): the same promise API as `hermit-ssh/node` (core/api on
 * the Deno runtime) with Web streams, plus the engine and the raw pump for embedders. The pure
 * crypto provider is the default here; Deno's node:crypto is fast for chacha20-poly1305 but slow
 * for AES-GCM, so pick per workload (`crypto` option).
 */
export * from '../core/index.ts';
export {
  AbortError,
  ChannelOpenError,
  ChannelReader,
  ChannelRequestError,
  ChannelWriter,
  ConnectError,
  ConnectionClosedError,
  GlobalRequestError,
  ProcessError,
  SshChannel,
  TimeoutError,
  type ByteStream,
  type ClientOptions,
  type ExitInfo,
  type ExitSignal,
  type HostKeyVerifier,
  type LogRecord,
  type PtyOptions,
  type RunOptions,
  type RunResult,
  type Runtime,
  type SessionOptions,
} from '../core/api/index.ts';
export { channelStreams, connect, listenReverse, SshProcess, type ChannelStreams, type ConnectOptions, type SshClient } from './client.ts';
export { connStream, denoRuntime } from './runtime.ts';
export { DenoConnectionPump, type DenoCloseReason, type DenoPumpOptions } from './pump.ts';
export { connect as connectEngine, listen as listenEngine, type DenoConnectOptions, type DenoListenOptions, type DenoServer } from './net.ts';
export { connectReverse, handleConnection, listen } from './server.ts';
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
export { SshAgent, type DenoSshAgentOptions } from './agent.ts';
export { ClientCredentials, HostKeyPolicy, readPrivateKeyFile } from './trust.ts';
export { prompt, systemPrompter, type DenoPromptEnvironment } from './prompt.ts';
export { noPrompter, type Prompter, type PromptRequest } from '../core/api/index.ts';
export {
  AgentUnavailableError,
  CredentialOptionError,
  HostKeyVerificationError,
  KeyFileError,
  TrustFileError,
  resolveSshConfig,
  SshConfigError,
  type ClientCredentialOptions,
  type Forward,
  type HostKeyPolicyOptions,
  type HostKeyVerdict,
  type LocalForwardOptions,
  type RemoteForwardOptions,
  type DynamicForwardOptions,
  type ResolvedSshConfig,
} from '../core/api/index.ts';
