/**
 * Server side of port forwarding for `hermit serve`: RFC 4254 section 7 (direct-tcpip for
 * `ssh -L` and `ssh -W`, tcpip-forward / cancel-tcpip-forward and forwarded-tcpip for `ssh -R`)
 * and OpenSSH PROTOCOL section 2.4 (the streamlocal variants for Unix sockets).
 *
 * The engine has already applied the session policy (authorized_keys `restrict`,
 * `no-port-forwarding`, `permitopen`, `permitlisten`) before a decision reaches this module; here
 * the sockets are made real. Each channel is bridged to one socket with backpressure both ways:
 * channel data is reported consumed only once `socket.write` accepted it (or on 'drain'), and the
 * socket stops being read while the channel has more than {@link HIGH_WATER} bytes queued for
 * the peer (it resumes on `channelDrain`). EOF travels as a half-close in both directions; the
 * channel closes once the socket is fully closed.
 *
 * Listening follows OpenSSH's `GatewayPorts no` unless `gatewayPorts` is set: remote forwards are
 * bound to the loopback addresses whatever address the client asked for (an explicit 127.0.0.1
 * or ::1 binds just that one). With `gatewayPorts` the
 * client's address is used as RFC 4254 7.1 defines it ("" all addresses, "0.0.0.0" all IPv4,
 * "::" all IPv6, "localhost" loopback of every family). Unix-socket listeners get mode 0600 (sshd's
 * StreamLocalBindMask 0177) and an existing path is an error (StreamLocalBindUnlink no).
 *
 * While a direct-tcpip connect is in progress its decision is open; the Node pump stops reading
 * the SSH socket until it is answered, so a slow connect delays the whole connection (bounded by
 * {@link CONNECT_TIMEOUT_MS}).
 */
import { chmodSync } from 'node:fs';
import { connect, createServer, isIPv6, type Server, type Socket } from 'node:net';
import { OpenFailure, type ChannelOpenRequest, type Decision, type GlobalRequest, type SshEngine, type SshEvent } from '../../core/index.ts';

/** What the embedder gives the handlers of one connection. */
export interface ServerConnectionContext {
  /** Run engine commands and flush their output (`ConnectionPump.command`). */
  command(fn: (engine: SshEngine, now: number) => void): void;
  /** The authenticated user name. */
  readonly username: string;
  /** Both ends of the SSH connection, for SSH_CONNECTION / SSH_CLIENT and logs, where known. */
  readonly remoteAddress?: string;
  readonly remotePort?: number;
  readonly localAddress?: string;
  readonly localPort?: number;
}

export interface ForwardingOptions {
  /** Bind remote forwards where the client asks (OpenSSH GatewayPorts clientspecified). Default false: loopback only. */
  readonly gatewayPorts?: boolean;
  /** How long a direct-tcpip connect may take before the open fails (default {@link CONNECT_TIMEOUT_MS}). */
  readonly connectTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

export interface ConnectionHandler {
  /** An answer for the decision, or undefined when this handler does not deal with it. */
  onDecision(decision: Decision, ctx: ServerConnectionContext): unknown;
  onEvent(event: SshEvent, ctx: ServerConnectionContext): void;
  /** The connection is over: close every listener and socket. Idempotent. */
  close(): void;
}

/** Bytes queued towards the peer beyond which we stop reading a socket or a process. */
export const HIGH_WATER = 256 * 1024;
export const CONNECT_TIMEOUT_MS = 20_000;

/** strerror(3) wording, which is what ssh users see from sshd ("connect failed: Connection refused"). */
const ERRNO_TEXT: Record<string, string> = {
  ECONNREFUSED: 'Connection refused',
  ETIMEDOUT: 'Connection timed out',
  EHOSTUNREACH: 'No route to host',
  ENETUNREACH: 'Network is unreachable',
  ENOTFOUND: 'Name or service not known',
  EAI_AGAIN: 'Temporary failure in name resolution',
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EADDRINUSE: 'Address already in use',
  EADDRNOTAVAIL: 'Cannot assign requested address',
  ECONNRESET: 'Connection reset by peer',
  ENOTSOCK: 'Socket operation on non-socket',
};

export function errnoText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return (e?.code && ERRNO_TEXT[e.code]) ?? (e instanceof Error ? e.message : String(err));
}

/** Run engine commands for a channel that may have closed meanwhile: a usage error then is expected, not a crash. */
export function channelCommand(ctx: ServerConnectionContext, fn: (engine: SshEngine, now: number) => void, log?: (line: string) => void): void {
  ctx.command((engine, now) => {
    try {
      fn(engine, now);
    } catch (err) {
      if (!engine.isClosed) log?.(`channel command failed: ${(err as Error).message}`);
    }
  });
}

/** Bytes the engine still holds for the peer on `channel` (0 once it is gone). */
export function queuedFor(ctx: ServerConnectionContext, channel: number): number {
  let queued = 0;
  ctx.command((engine) => {
    try {
      queued = engine.channelInfo(channel).bufferedAmount;
    } catch {
      queued = 0;
    }
  });
  return queued;
}

/** One channel joined to one socket. */
class Bridge {
  private pendingConsume = 0;
  private paused = false;
  private closed = false;

  constructor(
    private readonly ctx: ServerConnectionContext,
    readonly channel: number,
    readonly socket: Socket,
    private readonly log: (line: string) => void,
  ) {
    // Attached at once: an error between the connect and start() must not go unhandled.
    socket.on('error', (err) => this.log(`channel ${this.channel}: ${errnoText(err)}`));
  }

  start(): void {
    const { socket } = this;
    socket.on('data', (chunk: Buffer) => {
      channelCommand(this.ctx, (e, now) => e.write(this.channel, chunk, now), this.log);
      if (!this.paused && queuedFor(this.ctx, this.channel) > HIGH_WATER) {
        this.paused = true;
        socket.pause();
      }
    });
    socket.on('drain', () => this.release());
    socket.on('end', () => {
      if (!this.closed) channelCommand(this.ctx, (e, now) => e.eof(this.channel, now));
    });
    socket.on('close', () => {
      if (this.closed) return;
      this.closed = true;
      channelCommand(this.ctx, (e, now) => e.close(this.channel, now));
    });
    socket.resume();
  }

  private release(): void {
    if (this.pendingConsume === 0) return;
    const n = this.pendingConsume;
    this.pendingConsume = 0;
    channelCommand(this.ctx, (e, now) => e.consumed(this.channel, n, now));
  }

  onEvent(event: SshEvent): void {
    switch (event.type) {
      case 'channelData': {
        const n = event.data.length;
        if (!this.socket.writable) {
          // Nobody will read it: keep the window open so the peer is not stalled for nothing.
          channelCommand(this.ctx, (e, now) => e.consumed(this.channel, n, now));
          return;
        }
        if (this.socket.write(event.data) && this.pendingConsume === 0) channelCommand(this.ctx, (e, now) => e.consumed(this.channel, n, now));
        else this.pendingConsume += n;
        return;
      }
      case 'channelEof':
        if (!this.socket.destroyed) this.socket.end();
        return;
      case 'channelDrain':
        if (this.paused) {
          this.paused = false;
          this.socket.resume();
        }
        return;
      case 'channelClosed':
        this.closed = true;
        this.socket.destroy();
        return;
      default:
        return;
    }
  }

  destroy(): void {
    this.closed = true;
    this.socket.destroy();
  }
}

interface RemoteListener {
  readonly kind: 'tcp' | 'unix';
  /** What the client asked for; forwarded channels must name exactly this. */
  readonly address: string;
  readonly requestedPort: number;
  port: number;
  readonly servers: Server[];
}

/** Addresses to bind for a tcpip-forward `address` (RFC 4254 7.1). */
function bindAddresses(address: string, gatewayPorts: boolean): string[] {
  // As sshd: an explicit loopback address is honoured even without GatewayPorts (it picks the family).
  if (address === '127.0.0.1' || address === '::1') return [address];
  if (!gatewayPorts) return ['127.0.0.1', '::1'];
  if (address === '' || address === '*') return ['::'];
  if (address === 'localhost') return ['127.0.0.1', '::1'];
  return [address];
}

function listenOn(server: Server, options: { port: number; host: string; ipv6Only?: boolean } | { path: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(options, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function closeServer(server: Server): void {
  try {
    server.close();
  } catch {
    /* not listening */
  }
}

function plainAddress(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/**
 * Forwarding for one connection. Create one per connection; call `close()` when it ends (the
 * `closed` event does that too).
 */
export function createForwardingHandler(options: ForwardingOptions = {}): ConnectionHandler {
  const log = options.log ?? (() => {});
  const gatewayPorts = options.gatewayPorts ?? false;
  const connectTimeout = options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
  const bridges = new Map<number, Bridge>();
  /** forwarded-* channels we opened and the peer has not answered yet. */
  const opening = new Map<number, Socket>();
  /** Outgoing connects in progress (direct-*), so that close() can abort them. */
  const connecting = new Set<Socket>();
  const listeners: RemoteListener[] = [];
  let ctx: ServerConnectionContext | null = null;
  let closed = false;

  const bridge = (channel: number, socket: Socket) => {
    const b = new Bridge(ctx!, channel, socket, log);
    bridges.set(channel, b);
    return b;
  };

  function directOpen(channel: number, request: ChannelOpenRequest & { type: 'direct-tcpip' | 'direct-streamlocal@openssh.com' }): Promise<unknown> {
    const where = request.type === 'direct-tcpip' ? `${request.host}:${request.port}` : request.socketPath;
    if (request.type === 'direct-tcpip' && (request.port < 1 || request.port > 65535)) {
      return Promise.resolve({ reason: OpenFailure.CONNECT_FAILED, description: `invalid port ${request.port}` });
    }
    return new Promise((resolve) => {
      const socket =
        request.type === 'direct-tcpip'
          ? connect({ host: request.host, port: request.port, allowHalfOpen: true })
          : connect({ path: request.socketPath, allowHalfOpen: true });
      connecting.add(socket);
      const timer = setTimeout(() => socket.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })), connectTimeout);
      socket.once('error', (err) => {
        clearTimeout(timer);
        connecting.delete(socket);
        log(`channel ${channel}: connect to ${where} failed: ${errnoText(err)}`);
        resolve({ reason: OpenFailure.CONNECT_FAILED, description: errnoText(err) });
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        connecting.delete(socket);
        socket.removeAllListeners('error');
        if (closed) {
          socket.destroy();
          resolve({ reason: OpenFailure.CONNECT_FAILED, description: 'connection closing' });
          return;
        }
        socket.pause();
        socket.setNoDelay(true);
        const b = bridge(channel, socket);
        resolve(true);
        // After the pump has fed our answer to the engine (a microtask away), the channel is open.
        setImmediate(() => b.start());
      });
    });
  }

  function accepted(listener: RemoteListener, socket: Socket): void {
    if (closed || !ctx) {
      socket.destroy();
      return;
    }
    const request: ChannelOpenRequest =
      listener.kind === 'tcp'
        ? { type: 'forwarded-tcpip', address: listener.address, port: listener.port, originatorAddress: plainAddress(socket.remoteAddress), originatorPort: socket.remotePort ?? 0 }
        : { type: 'forwarded-streamlocal@openssh.com', socketPath: listener.address };
    const opened: { channel?: number } = {};
    channelCommand(ctx, (e, now) => (opened.channel = e.openChannel(request, now)), log);
    if (opened.channel === undefined) {
      socket.destroy();
      return;
    }
    if (listener.kind === 'tcp') socket.setNoDelay(true);
    // Until the client answers, an error on the waiting socket only means it will be dropped.
    socket.on('error', () => {});
    opening.set(opened.channel, socket);
  }

  async function listenTcp(request: { address: string; port: number }): Promise<unknown> {
    if (request.port > 65535) return false;
    const listener: RemoteListener = { kind: 'tcp', address: request.address, requestedPort: request.port, port: request.port, servers: [] };
    const hosts = bindAddresses(request.address, gatewayPorts);
    let firstError: unknown = null;
    for (const host of hosts) {
      const server = createServer({ pauseOnConnect: true, allowHalfOpen: true }, (socket) => accepted(listener, socket));
      try {
        // Port 0: the first address picks the port, the others must share it (as sshd does).
        await listenOn(server, { host, port: listener.port, ...(isIPv6(host) ? { ipv6Only: host !== '::' } : {}) });
        const addr = server.address();
        if (listener.port === 0 && addr && typeof addr === 'object') listener.port = addr.port;
        listener.servers.push(server);
      } catch (err) {
        firstError ??= err;
        closeServer(server);
      }
    }
    if (listener.servers.length === 0 || closed) {
      for (const s of listener.servers) closeServer(s);
      log(`remote forward ${request.address}:${request.port} refused: ${errnoText(firstError)}`);
      return false;
    }
    listeners.push(listener);
    log(`remote forward listening on ${hosts.join(',')} port ${listener.port}`);
    return request.port === 0 ? { success: true, port: listener.port } : true;
  }

  async function listenUnix(path: string): Promise<unknown> {
    const listener: RemoteListener = { kind: 'unix', address: path, requestedPort: 0, port: 0, servers: [] };
    const server = createServer({ pauseOnConnect: true, allowHalfOpen: true }, (socket) => accepted(listener, socket));
    try {
      await listenOn(server, { path });
      chmodSync(path, 0o600);
    } catch (err) {
      closeServer(server);
      log(`remote forward ${path} refused: ${errnoText(err)}`);
      return false;
    }
    if (closed) {
      closeServer(server);
      return false;
    }
    listener.servers.push(server);
    listeners.push(listener);
    log(`remote forward listening on ${path}`);
    return true;
  }

  function cancel(match: (l: RemoteListener) => boolean): boolean {
    const i = listeners.findIndex(match);
    if (i < 0) return false;
    const [l] = listeners.splice(i, 1);
    // Like sshd: the listener goes, connections already forwarded stay.
    for (const s of l!.servers) closeServer(s);
    return true;
  }

  function global(request: GlobalRequest): unknown {
    switch (request.type) {
      case 'tcpip-forward':
        return listenTcp(request);
      case 'cancel-tcpip-forward':
        return cancel((l) => l.kind === 'tcp' && l.address === request.address && (l.port === request.port || l.requestedPort === request.port));
      case 'streamlocal-forward@openssh.com':
        return listenUnix(request.socketPath);
      case 'cancel-streamlocal-forward@openssh.com':
        return cancel((l) => l.kind === 'unix' && l.address === request.socketPath);
      default:
        return undefined;
    }
  }

  const handler: ConnectionHandler = {
    onDecision(decision, c) {
      ctx = c;
      if (closed) return undefined;
      if (decision.kind === 'channelOpen') {
        const r = decision.request;
        if (r.type === 'direct-tcpip' || r.type === 'direct-streamlocal@openssh.com') return directOpen(decision.channel, r);
        return undefined;
      }
      if (decision.kind === 'globalRequest') return global(decision.request);
      if (decision.kind === 'channelRequest' && bridges.has(decision.channel)) return false;
      return undefined;
    },

    onEvent(event, c) {
      ctx = c;
      if (event.type === 'closed') return handler.close();
      if (event.type === 'channelOpenConfirmed' || event.type === 'channelOpenFailed') {
        const socket = opening.get(event.channel);
        if (!socket) return;
        opening.delete(event.channel);
        if (event.type === 'channelOpenFailed') {
          log(`forwarded connection refused by the client: ${event.description}`);
          socket.destroy();
          return;
        }
        if (socket.destroyed) {
          channelCommand(c, (e, now) => e.close(event.channel, now), log);
          return;
        }
        bridge(event.channel, socket).start();
        return;
      }
      if (!('channel' in event)) return;
      const b = bridges.get(event.channel);
      if (!b) return;
      b.onEvent(event);
      if (event.type === 'channelClosed') bridges.delete(event.channel);
    },

    close() {
      if (closed) return;
      closed = true;
      for (const l of listeners.splice(0)) for (const s of l.servers) closeServer(s);
      for (const b of bridges.values()) b.destroy();
      bridges.clear();
      for (const s of opening.values()) s.destroy();
      opening.clear();
      for (const s of connecting) s.destroy();
      connecting.clear();
    },
  };
  return handler;
}

/** Whether this handler would take the decision (forwarding channel types and global requests). */
export function isForwardingDecision(decision: Decision): boolean {
  if (decision.kind === 'channelOpen') return decision.request.type === 'direct-tcpip' || decision.request.type === 'direct-streamlocal@openssh.com';
  if (decision.kind === 'globalRequest') {
    const t = decision.request.type;
    return t === 'tcpip-forward' || t === 'cancel-tcpip-forward' || t === 'streamlocal-forward@openssh.com' || t === 'cancel-streamlocal-forward@openssh.com';
  }
  return false;
}
