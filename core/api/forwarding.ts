/**
 * Port and socket forwarding for the client (RFC 4254 section 7; OpenSSH PROTOCOL section 2.4 for
 * streamlocal), runtime-neutral: listeners and dials come from the {@link Runtime}, bytes move
 * between a {@link ByteStream} and an {@link SshChannel} with backpressure both ways.
 *
 * - local (`ssh -L`): a local listener; each connection opens direct-tcpip (or
 *   direct-streamlocal@openssh.com) to the target as the server sees it.
 * - remote (`ssh -R`): tcpip-forward (port 0: the server picks, and says which); the server's
 *   forwarded-tcpip channels are accepted only for a forward we asked for, and connected to the
 *   local target (or handed to a handler).
 * - dynamic (`ssh -D`): a local SOCKS 4/4a/5 listener; each request opens direct-tcpip.
 * - remote dynamic (`ssh -R port` without a target, OpenSSH 7.6+): the server listens, and each
 *   forwarded connection speaks SOCKS to us; we connect to what it asks for from this side.
 */
import type { ChannelOpenRequest } from '../connection/messages.ts';
import type { SshChannel } from './channel.ts';
import type { ByteStream, ByteStreamHandlers, Listener, Runtime } from './runtime.ts';
import { SocksHandshake } from './socks.ts';

/** A running forward. */
export interface Forward {
  /** Where it listens: the local listener (local, dynamic), or the server's bound address (remote). */
  readonly address: { readonly host: string; readonly port: number } | { readonly path: string };
  /** Stop listening (remote: cancel-tcpip-forward); connections already forwarded go on. Idempotent. */
  close(): Promise<void>;
}

/** The part of a connection forwarding needs. */
export interface ForwardingHost {
  openChannel(request: ChannelOpenRequest): SshChannel;
  /** Settles when the connection is over: its local listeners close then (as ssh's do when it exits). */
  readonly closed?: Promise<unknown>;
}

/**
 * Move bytes both ways between a stream and a channel until both directions ended. The channel's
 * window reopens only as the stream takes the bytes (its write returned true, or drained); the
 * stream is paused while the channel holds more than its high-water mark.
 */
export function pipeChannel(stream: ByteStream, channel: SshChannel): void {
  stream.start(channelPipe(stream, channel));
}

/** The stream handlers of {@link pipeChannel}, for a stream that was started already (SOCKS). */
function channelPipe(stream: ByteStream, channel: SshChannel): ByteStreamHandlers {
  let blocked = false;
  let streamClosed = false;
  let inFlight = 0;
  const reader = channel.reader;
  channel.stderr.discard();
  const pump = (): void => {
    while (!blocked && !streamClosed) {
      let chunk: Uint8Array | null | undefined;
      try {
        chunk = reader.take();
      } catch {
        stream.destroy();
        return;
      }
      if (chunk === undefined) return;
      if (chunk === null) {
        reader.onReadable(null);
        stream.end();
        return;
      }
      if (!stream.write(chunk)) blocked = true;
    }
  };
  reader.onReadable(pump);
  void channel.opened.then(pump, () => stream.destroy());
  void channel.closed.then(() => {
    pump();
    if (!streamClosed) stream.end();
  });
  return {
    data: (bytes) => {
      inFlight++;
      if (inFlight === 1) stream.pause();
      // The runtime may reuse its buffer: copy before the write waits.
      void channel.writer.write(bytes.slice()).then(() => {
        if (--inFlight === 0) stream.resume();
      });
    },
    end: () => void channel.writer.end(),
    close: () => {
      streamClosed = true;
      reader.onReadable(null);
      void channel.close();
    },
    drain: () => {
      blocked = false;
      pump();
    },
  };
}

export interface LocalForwardOptions {
  /** Listen here (default 127.0.0.1; port 0 picks a free port, reported in `address`). */
  readonly bindHost?: string;
  readonly bindPort?: number;
  /** Or listen on a Unix socket. */
  readonly bindPath?: string;
  /** Where the server connects to: host and port, or a Unix socket path on the server. */
  readonly host?: string;
  readonly port?: number;
  readonly remotePath?: string;
}

export async function forwardLocal(runtime: Runtime, connection: ForwardingHost, options: LocalForwardOptions): Promise<Forward> {
  const target = forwardTarget(options);
  const accept = (stream: ByteStream): void => {
    let channel: SshChannel;
    try {
      channel = connection.openChannel(
        'path' in target
          ? { type: 'direct-streamlocal@openssh.com', socketPath: target.path }
          : { type: 'direct-tcpip', host: target.host, port: target.port, originatorAddress: stream.remoteAddress ?? '127.0.0.1', originatorPort: stream.remotePort ?? 0 },
      );
    } catch {
      // The connection is gone: nothing to forward to.
      stream.destroy();
      return;
    }
    pipeChannel(stream, channel);
  };
  const listener = options.bindPath !== undefined ? await runtime.listenUnix(options.bindPath, accept) : await runtime.listenTcp(options.bindHost ?? '127.0.0.1', options.bindPort ?? 0, accept);
  return listenerForward(listener, connection);
}

export interface DynamicForwardOptions {
  readonly bindHost?: string;
  readonly bindPort?: number;
}

/** A SOCKS 4/4a/5 listener (`ssh -D`); each CONNECT becomes a direct-tcpip channel. */
export async function forwardDynamic(runtime: Runtime, connection: ForwardingHost, options: DynamicForwardOptions = {}): Promise<Forward> {
  const accept = (stream: ByteStream): void => {
    const handshake = new SocksHandshake();
    let piped: ByteStreamHandlers | null = null;
    let done = false;
    // Bytes a client sent after its request, before the channel was open (paused streams may still deliver one chunk).
    const early: Uint8Array[] = [];
    const refuse = (bytes: Uint8Array | undefined): void => {
      done = true;
      if (bytes) stream.write(bytes);
      stream.end();
    };
    const connectTo = (host: string, port: number, rest: Uint8Array): void => {
      done = true;
      stream.pause();
      let channel: SshChannel;
      try {
        channel = connection.openChannel({ type: 'direct-tcpip', host, port, originatorAddress: stream.remoteAddress ?? '127.0.0.1', originatorPort: stream.remotePort ?? 0 });
      } catch {
        return refuse(handshake.failure(1));
      }
      channel.opened.then(
        () => {
          stream.write(handshake.success());
          if (rest.length > 0) void channel.writer.write(rest);
          piped = channelPipe(stream, channel);
          for (const bytes of early.splice(0)) piped.data(bytes);
          stream.resume();
        },
        () => refuse(handshake.failure(5)),
      );
    };
    // One set of handlers for the stream's life: SOCKS first, then the channel pipe.
    stream.start({
      data: (bytes) => {
        if (piped) return piped.data(bytes);
        if (done) return void early.push(bytes.slice());
        const step = handshake.receive(bytes);
        if (step.kind === 'reply') stream.write(step.bytes);
        else if (step.kind === 'fail') refuse(step.bytes);
        else if (step.kind === 'connect') connectTo(step.host, step.port, step.rest);
      },
      end: () => (piped ? piped.end() : stream.end()),
      close: (error) => piped?.close(error),
      drain: () => piped?.drain(),
    });
  };
  const listener = await runtime.listenTcp(options.bindHost ?? '127.0.0.1', options.bindPort ?? 0, accept);
  return listenerForward(listener, connection);
}

export interface RemoteForwardOptions {
  /** The address the server listens on ('' = all, 'localhost' = loopback only; default 'localhost'). */
  readonly bindHost?: string;
  /** 0: the server picks one (reported in `address.port`). */
  readonly bindPort?: number;
  /** Or a Unix socket on the server (streamlocal-forward@openssh.com). */
  readonly bindPath?: string;
  /** Where our side connects each incoming connection to (TCP target or Unix socket path). */
  readonly host?: string;
  readonly port?: number;
  readonly localPath?: string;
  /**
   * Decide per incoming connection (originator address and port); false refuses it. With `onConnection`
   * the connection is handed over instead of being connected to a target.
   */
  readonly accept?: (origin: { readonly address: string; readonly port: number }) => boolean | Promise<boolean>;
  readonly onConnection?: (channel: SshChannel, origin: { readonly address: string; readonly port: number }) => void;
  /** No fixed target: each connection speaks SOCKS 4/4a/5 and we connect where it asks (`ssh -R port` alone). */
  readonly socks?: boolean;
}

/**
 * Serve a SOCKS 4/4a/5 handshake that arrives on a forwarded channel, then connect to the host it
 * names through `dial` and pipe the two. A refused or failed request gets its SOCKS failure reply
 * and the channel is closed.
 */
export function socksOverChannel(channel: SshChannel, dial: (host: string, port: number) => Promise<ByteStream>): void {
  const handshake = new SocksHandshake();
  const reader = channel.reader;
  channel.stderr.discard();
  const refuse = (bytes: Uint8Array | undefined): void => {
    reader.onReadable(null);
    void (bytes ? channel.writer.write(bytes) : Promise.resolve()).then(() => channel.writer.end()).then(() => channel.close());
  };
  const connectTo = (host: string, port: number, rest: Uint8Array): void => {
    reader.onReadable(null);
    dial(host, port).then(
      (stream) => {
        void channel.writer.write(handshake.success());
        // Before the pipe starts reading the channel, so the target sees the bytes in order.
        if (rest.length > 0) stream.write(rest);
        pipeChannel(stream, channel);
      },
      () => refuse(handshake.failure(5)),
    );
  };
  const pump = (): void => {
    for (;;) {
      let chunk: Uint8Array | null | undefined;
      try {
        chunk = reader.take();
      } catch {
        return refuse(undefined);
      }
      if (chunk === undefined) return;
      if (chunk === null) return refuse(undefined);
      const step = handshake.receive(chunk);
      if (step.kind === 'reply') void channel.writer.write(step.bytes);
      else if (step.kind === 'fail') return refuse(step.bytes);
      else if (step.kind === 'connect') return connectTo(step.host, step.port, step.rest);
    }
  };
  reader.onReadable(pump);
  void channel.opened.then(pump, () => reader.onReadable(null));
}

function forwardTarget(options: { host?: string; port?: number; remotePath?: string; localPath?: string }): { host: string; port: number } | { path: string } {
  const path = options.remotePath ?? options.localPath;
  if (path !== undefined) return { path };
  if (options.host === undefined || options.port === undefined) throw new TypeError('a forward needs a target: host and port, or a socket path');
  if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) throw new TypeError(`the target port must be 1-65535, got ${options.port}`);
  return { host: options.host, port: options.port };
}

/**
 * A listener as a Forward. It must not outlive its connection: every connection it accepted then
 * would be dropped at once, and a listening socket keeps the process alive.
 */
function listenerForward(listener: Listener, connection: ForwardingHost): Forward {
  let closing: Promise<void> | null = null;
  const forward: Forward = { address: listener.address, close: () => (closing ??= listener.close()) };
  void connection.closed?.then(() => forward.close());
  return forward;
}
