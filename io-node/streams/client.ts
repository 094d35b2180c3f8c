/**
 * The Node client: core/api's `connect` on the Node runtime, with Node stream views (DESIGN.md
 * section 3). Everything protocol-shaped — authentication, channels, flow control, run/spawn,
 * jump chains — is core/api, the same code Deno runs; this file only turns its credit-based
 * readers and writers into Readable / Writable / Duplex with backpressure both ways.
 *
 * - A Readable pulls from its channel reader only while it has room (`_read`), and the channel
 *   window reopens only for bytes it took, so a slow consumer stops the remote sender.
 * - A Writable's callback waits until the engine admitted the bytes below its high-water mark.
 */
import type { Socket } from 'node:net';
import { Duplex, Readable, Writable } from 'node:stream';
import {
  connect as connectApi,
  listenReverse as listenReverseApi,
  type Listener,
  type ReverseListenOptions,
  type ByteStream,
  type ChannelReader,
  type ChannelWriter,
  type ClientOptions,
  type ClientViews,
  ProcessView,
  type SshChannel,
  type SshConnection,
  type SshProcess as CoreProcess,
} from '../../core/api/index.ts';
import { nodeRuntime, socketStream } from '../runtime/node-runtime.ts';

export {
  AbortError,
  ChannelOpenError,
  ChannelRequestError,
  ConnectionClosedError,
  GlobalRequestError,
  ProcessError,
  TimeoutError,
  type ExitInfo,
  type ExitSignal,
  type LogRecord,
  type PtyOptions,
  type RunOptions,
  type RunResult,
  type SessionOptions,
} from '../../core/api/index.ts';

/** Buffering of the Node streams themselves; the channel window is the real buffer. */
const STREAM_HIGH_WATER = 64 * 1024;

export interface ConnectOptions extends Omit<ClientOptions, 'sock'> {
  /** Run SSH over this connected stream (a net.Socket, a Duplex) instead of dialing. */
  readonly sock?: Duplex | ByteStream;
}

export type SpawnOptions = Parameters<SshClient['spawn']>[1];
export type ExecOptions = Parameters<SshClient['exec']>[1];
export type ExecResult = Awaited<ReturnType<SshClient['exec']>>;

/** An authenticated connection whose processes and channels are Node streams. */
export type SshClient = SshConnection<SshProcess, Duplex>;

const nodeViews: ClientViews<SshProcess, Duplex> = {
  process: (proc) => new SshProcess(proc),
  channel: (channel) => channelDuplex(channel),
};

/**
 * Connect, verify the host key, authenticate. Resolves when the server accepted the user; rejects
 * with the engine's typed error (`HOST_KEY_REJECTED`, `AUTH_FAILED`, `PEER_DISCONNECTED`, …), the
 * host key policy's explanation, a ConnectError from the dial, a TimeoutError or an AbortError.
 */
export function connect(options: ConnectOptions): Promise<SshClient> {
  const { sock, ...rest } = options;
  const stream = sock === undefined ? undefined : isByteStream(sock) ? sock : socketStream(sock as Socket);
  return connectApi(nodeRuntime, { ...rest, ...(stream ? { sock: stream } : {}) }, nodeViews);
}

/** RFC 8071 reverse direction: listen, and log in to each SSH server that calls in (see core/api listenReverse). */
export function listenReverse(options: ReverseListenOptions<SshProcess, Duplex>): Promise<Listener> {
  return listenReverseApi(nodeRuntime, options, nodeViews);
}

function isByteStream(value: Duplex | ByteStream): value is ByteStream {
  return typeof (value as ByteStream).start === 'function' && !(value instanceof Duplex);
}

/**
 * A command, shell or subsystem with Node streams. `stdin` never emits 'error': writes the process
 * can no longer take are dropped, and `exit` says why. `stdout`/`stderr` end at the server's EOF
 * and fail with a ConnectionClosedError only when the connection is lost mid-stream.
 */
export class SshProcess extends ProcessView<Writable, Readable> {
  /** @internal Use the client's `spawn`, `shell` or `subsystem`. */
  constructor(core: CoreProcess) {
    super(core, writerWritable(core.stdin), new ReaderReadable(core.stdout), new ReaderReadable(core.stderr));
  }
}

/**
 * Moves chunks from a channel reader into a Node stream's `push` while the stream wants them.
 * Taking a chunk reopens the window, which may deliver more data synchronously: it loops, never recurses.
 */
class ReaderPull {
  private wanted = false;
  private pumping = false;

  constructor(
    private readonly reader: ChannelReader,
    private readonly stream: Readable,
  ) {
    reader.onReadable(() => this.pump());
  }

  want(): void {
    this.wanted = true;
    this.pump();
  }

  /** The consumer went away: the channel must not stall, so what comes is taken and dropped. */
  stop(): void {
    this.reader.onReadable(null);
    this.reader.discard();
  }

  pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.wanted && !this.stream.destroyed) {
        let chunk: Uint8Array | null | undefined;
        try {
          chunk = this.reader.take();
        } catch (error) {
          this.stream.destroy(error as Error);
          return;
        }
        if (chunk === undefined) return;
        if (chunk === null) {
          this.wanted = false;
          this.stream.push(null);
          return;
        }
        this.wanted = this.stream.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      }
    } finally {
      this.pumping = false;
    }
  }
}

/** A channel reader as a Readable that pulls only while it has room. */
class ReaderReadable extends Readable {
  private readonly pull: ReaderPull;

  constructor(reader: ChannelReader) {
    super({ highWaterMark: STREAM_HIGH_WATER });
    this.pull = new ReaderPull(reader, this);
  }

  override _read(): void {
    this.pull.want();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.pull.stop();
    callback(error);
  }
}

function writerWritable(writer: ChannelWriter): Writable {
  return new Writable({
    highWaterMark: STREAM_HIGH_WATER,
    write: (chunk: Buffer, _encoding, callback: () => void) => void writer.write(chunk).then(() => callback()),
    final: (callback: () => void) => void writer.end().then(() => callback()),
  });
}

/** A channel (direct-tcpip, streamlocal, …) as a Duplex: `end()` sends EOF, `destroy()` closes it. */
export function channelDuplex(channel: SshChannel): Duplex {
  channel.stderr.discard();
  let pull: ReaderPull | null = null;
  const duplex: Duplex = new Duplex({
    readableHighWaterMark: STREAM_HIGH_WATER,
    writableHighWaterMark: STREAM_HIGH_WATER,
    read: () => pull?.want(),
    write(chunk: Buffer, _encoding, callback) {
      void channel.writer.write(chunk).then(() => callback());
    },
    final(callback) {
      void channel.writer.end().then(() => callback());
    },
    destroy(error, callback) {
      pull?.stop();
      void channel.close();
      callback(error);
    },
  });
  pull = new ReaderPull(channel.reader, duplex);
  // Both directions done and the channel gone: the Duplex is finished too.
  void channel.closed.then(() => {
    pull.pump();
    if (!duplex.writableEnded) duplex.end();
  });
  return duplex;
}
