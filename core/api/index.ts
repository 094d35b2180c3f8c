/**
 * The promise API (DESIGN.md section 3), written once over a {@link Runtime}: io-node and io-deno
 * supply the runtime and native stream views; everything else is here.
 */
export * from './runtime.ts';
export { ConnectionDriver, type CloseReason, type DriverOptions } from './driver.ts';
export * from './errors.ts';
export { ChannelReader, ChannelWriter, SshChannel, WRITE_HIGH_WATER, type ChannelHost } from './channel.ts';
export { ProcessView, SshProcess, type PtyOptions, type SessionOptions, type SessionStart } from './process.ts';
export {
  channelByteStream,
  connect,
  listenReverse,
  SshConnection,
  type ClientOptions,
  type ClientViews,
  type CredentialSource,
  type HostKeyVerifier,
  type KeyboardInteractiveChallenge,
  type LogRecord,
  type ReverseListenOptions,
  type RunOptions,
} from './client.ts';
export { LineEditor, type LineEditorEvent, type LineEditorOptions } from './line-editor.ts';
export { DEFAULT_MAX_STARTUPS, parseMaxStartups, type MaxStartups } from './max-startups.ts';
export {
  ServerConnection,
  ServerSession,
  type ListenOptions,
  type PublicKeyAttempt,
  type ReverseConnectOptions,
  type ServerAuthHandlers,
  type ServerOptions,
  type ServerPeer,
  type ServerPty,
  type SessionHandler,
  type SshServer,
} from './server.ts';
export type { DirectAnswer, ServerForwardingPolicy } from './server-forwarding.ts';
export { connectReverse, handleConnection, listen, prepareServer, serverApi, serveStream, type ServerContext } from './server.ts';
export { formatMaxStartups, MaxStartupsError, refusesStartup, unitInterval } from './max-startups.ts';
export { ServerForwarding } from './server-forwarding.ts';
export { pipeChannel, type DynamicForwardOptions, type Forward, type LocalForwardOptions, type RemoteForwardOptions } from './forwarding.ts';
export { SocksHandshake, type SocksStep } from './socks.ts';
export { RuntimeAgent, type AgentOptions } from './agent.ts';
export {
  AgentUnavailableError,
  ClientCredentials,
  CredentialOptionError,
  DEFAULT_IDENTITY_FILES,
  IGNORED_METHODS,
  parsePreferredAuthentications,
  USABLE_METHODS,
  type ClientCredentialOptions,
  type Identity,
} from './credentials.ts';
export {
  DEFAULT_GLOBAL_KNOWN_HOSTS_FILES,
  DEFAULT_USER_KNOWN_HOSTS_FILES,
  HostKeyPolicy,
  HostKeyVerificationError,
  parseKnownHostsFileList,
  type HostKeyOutcome,
  type HostKeyPolicyOptions,
  type HostKeyVerdict,
  type HostKeyVerificationErrorCode,
} from './host-key-policy.ts';
export { KeyFileError, readPrivateKeyFile, readUserCertificate, type CertificateSource, type KeyFileErrorCode, type ReadKeyOptions } from './key-files.ts';
export { askpassAnswer, choosePromptChannel, expandTilde, noPrompter, nowhere, RawLineReader, unanswerableNote, type AdapterDefaults, type Prompter, type PromptChannel, type PromptRequest, type TextSink } from './prompter.ts';
export { appendKnownHost, errnoOf, loadKnownHosts, readError, TrustFileError } from './trust-files.ts';
export * from './ssh-config.ts';
