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
  SshConnection,
  type ClientOptions,
  type ClientViews,
  type CredentialSource,
  type HostKeyVerifier,
  type KeyboardInteractiveChallenge,
  type LogRecord,
  type RunOptions,
} from './client.ts';
