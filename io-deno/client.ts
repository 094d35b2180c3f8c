/**
 * The Deno client: core/api's `connect` on the Deno runtime, with Web stream views (DESIGN.md
 * section 3). Everything protocol-shaped is core/api, the same code Node runs; this file only
 * turns its credit-based readers and writers into ReadableStream / WritableStream.
 *
 * A ReadableStream here has a high-water mark of 0: it pulls a chunk only when its consumer reads,
 * and the channel window reopens only for bytes taken, so a slow consumer stops the remote sender.
 */
import {
  connect as connectApi,
  listenReverse as listenReverseApi,
  type Listener,
  type ReverseListenOptions,
  ProcessView,
  type ByteStream,
  type ChannelReader,
  type ChannelWriter,
  type ClientOptions,
  type ClientViews,
  type SshChannel,
  type SshConnection,
  type SshProcess as CoreProcess,
} from '../core/api/index.ts';
import { connStream, denoRuntime } from './runtime.ts';

export interface ConnectOptions extends Omit<ClientOptions, 'sock'> {
  /** Run SSH over this connection (a `Deno.Conn`, or any ByteStream) instead of dialing. */
  readonly sock?: Deno.Conn | ByteStream;
}

/** A channel (direct-tcpip, streamlocal, …) as a pair of Web streams. */
export interface ChannelStreams {
  readonly readable: ReadableStream<Uint8Array>;
  /** Closing it sends EOF. */
  readonly writable: WritableStream<Uint8Array>;
  /** Close the channel; idempotent. */
  close(): Promise<void>;
}

/** A command, shell or subsystem with Web streams. */
export class SshProcess extends ProcessView<WritableStream<Uint8Array>, ReadableStream<Uint8Array>> {
  /** @internal Use the client's `spawn`, `shell` or `subsystem`. */
  constructor(core: CoreProcess) {
    super(core, writerStream(core.stdin, core.channel), readerStream(core.stdout), readerStream(core.stderr));
  }
}

/** An authenticated connection whose processes and channels are Web streams. */
export type SshClient = SshConnection<SshProcess, ChannelStreams>;

const denoViews: ClientViews<SshProcess, ChannelStreams> = {
  process: (proc) => new SshProcess(proc),
  channel: (channel) => channelStreams(channel),
};

/**
 * Connect, verify the host key, authenticate. Resolves when the server accepted the user; rejects
 * with the engine's typed error (`HOST_KEY_REJECTED`, `AUTH_FAILED`, …), the host key policy's
 * explanation, a ConnectError from the dial, a TimeoutError or an AbortError.
 */
export function connect(options: ConnectOptions): Promise<SshClient> {
  const { sock, ...rest } = options;
  const stream = sock === undefined ? undefined : 'start' in sock ? sock : connStream(sock);
  return connectApi(denoRuntime, { ...rest, ...(stream ? { sock: stream } : {}) }, denoViews);
}

/** RFC 8071 reverse direction: listen, and log in to each SSH server that calls in (see core/api listenReverse). */
export function listenReverse(options: ReverseListenOptions<SshProcess, ChannelStreams>): Promise<Listener> {
  return listenReverseApi(denoRuntime, options, denoViews);
}

function readerStream(reader: ChannelReader): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const chunk = await reader.read();
          if (chunk === null) controller.close();
          else controller.enqueue(chunk);
        } catch (error) {
          controller.error(error);
        }
      },
      // A consumer that went away must not stall the channel: take what comes and drop it.
      cancel: () => reader.discard(),
    },
    { highWaterMark: 0 },
  );
}

function writerStream(writer: ChannelWriter, channel: SshChannel): WritableStream<Uint8Array> {
  return new WritableStream<Uint8Array>({
    write: (chunk) => writer.write(chunk),
    close: () => writer.end(),
    abort: () => channel.close(),
  });
}

export function channelStreams(channel: SshChannel): ChannelStreams {
  channel.stderr.discard();
  return { readable: readerStream(channel.reader), writable: writerStream(channel.writer, channel), close: () => channel.close() };
}
