/**
 * An in-memory {@link Runtime} on virtual time (DESIGN.md section 3): the promise API runs on it
 * with no sockets and no clock, so core/api is tested here before any adapter (quinn's `Pair`).
 *
 * - {@link MemoryNetwork}: listeners by `host:port` or path; a dial to nothing is refused. Bytes
 *   written on one end reach the other end in order, in a later microtask, and stop while the
 *   reader is paused; `write` returns false past a high-water mark and `drain` follows.
 * - Time moves only when the test says so (`advance`); timers fire in deadline order.
 * - Files live in a map; errors carry POSIX codes like the real runtimes'.
 */
import type { CryptoProvider, RandomSource } from '../crypto/provider.ts';
import { pureCrypto } from '../crypto/pure.ts';
import { systemRandom } from '../random.ts';
import { connectError, type ByteStream, type ByteStreamHandlers, type DialOptions, type Listener, type Runtime, type RuntimeTimer } from '../api/runtime.ts';

const STREAM_HIGH_WATER = 256 * 1024;

type Accept = (stream: ByteStream) => void;

/** Listeners shared by the runtimes of one test. */
export class MemoryNetwork {
  readonly listeners = new Map<string, Accept>();
  private nextPort = 40_000;

  /** A free port for listeners that asked for 0. */
  allocatePort(): number {
    return this.nextPort++;
  }

  /** Connect two ends directly (for `sock:` tests): what one writes the other reads. */
  static pair(a: { address?: string; port?: number } = {}, b: { address?: string; port?: number } = {}): [MemoryStream, MemoryStream] {
    const left = new MemoryStream(a.address ?? '127.0.0.1', a.port ?? 50_000, b.address ?? '127.0.0.1', b.port ?? 22);
    const right = new MemoryStream(b.address ?? '127.0.0.1', b.port ?? 22, a.address ?? '127.0.0.1', a.port ?? 50_000);
    left.peer = right;
    right.peer = left;
    return [left, right];
  }
}

/** One end of an in-memory connection. */
export class MemoryStream implements ByteStream {
  /** @internal */
  peer: MemoryStream | null = null;
  /** Every byte this end wrote, for assertions. */
  written = 0;
  private handlers: ByteStreamHandlers | null = null;
  private readonly inbox: Array<Uint8Array | 'end'> = [];
  private inboxBytes = 0;
  private paused = false;
  private delivering = false;
  private closed = false;
  private ended = false;
  private writerWaiting = false;

  constructor(
    readonly localAddress: string,
    readonly localPort: number,
    readonly remoteAddress: string,
    readonly remotePort: number,
  ) {}

  start(handlers: ByteStreamHandlers): void {
    this.handlers = handlers;
    this.schedule();
  }

  write(bytes: Uint8Array): boolean {
    const peer = this.peer;
    if (this.closed || this.ended || !peer || peer.closed) return true;
    this.written += bytes.length;
    peer.inbox.push(bytes.slice());
    peer.inboxBytes += bytes.length;
    peer.schedule();
    if (peer.inboxBytes < STREAM_HIGH_WATER) return true;
    this.writerWaiting = true;
    return false;
  }

  end(): void {
    if (this.closed || this.ended) return;
    this.ended = true;
    const peer = this.peer;
    if (!peer || peer.closed) return;
    peer.inbox.push('end');
    peer.schedule();
  }

  destroy(): void {
    if (this.closed) return;
    this.closeBoth(null);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.schedule();
  }

  /** Drop the connection as a network failure would (both ends see `close` with an error). */
  reset(): void {
    this.closeBoth(new Error('connection reset by peer'));
  }

  private closeBoth(error: Error | null): void {
    const peer = this.peer;
    this.finish(error);
    if (peer && !peer.closed) queueMicrotask(() => peer.finish(error ?? null));
  }

  private finish(error: Error | null): void {
    if (this.closed) return;
    this.closed = true;
    this.inbox.length = 0;
    this.inboxBytes = 0;
    const handlers = this.handlers;
    if (handlers) queueMicrotask(() => handlers.close(error));
  }

  private schedule(): void {
    if (this.delivering || !this.handlers) return;
    this.delivering = true;
    queueMicrotask(() => this.deliver());
  }

  private deliver(): void {
    this.delivering = false;
    const handlers = this.handlers;
    if (!handlers || this.closed) return;
    let peerEnded = false;
    while (!this.paused && this.inbox.length > 0) {
      const item = this.inbox.shift()!;
      if (item === 'end') {
        peerEnded = true;
        handlers.end();
        continue;
      }
      this.inboxBytes -= item.length;
      handlers.data(item);
    }
    const writer = this.peer;
    if (writer?.writerWaiting && this.inboxBytes < STREAM_HIGH_WATER) {
      writer.writerWaiting = false;
      const h = writer.handlers;
      if (h) queueMicrotask(() => h.drain());
    }
    // Both halves closed: the connection is over, as a TCP socket would report.
    if (peerEnded && this.ended) this.closeBoth(null);
  }
}

export interface MemoryRuntimeOptions {
  readonly network?: MemoryNetwork;
  readonly crypto?: CryptoProvider;
  readonly random?: RandomSource;
  readonly homeDir?: string;
  readonly userName?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly files?: Readonly<Record<string, Uint8Array | string>>;
  /** Virtual start time (ms). */
  readonly startTime?: number;
  /** Wall-clock milliseconds at virtual time 0. */
  readonly wallStart?: number;
}

interface Timer {
  deadline: number | null;
  fire: () => void;
}

/** The in-memory runtime. Time moves with {@link advance}. */
export class MemoryRuntime implements Runtime {
  readonly network: MemoryNetwork;
  readonly crypto: CryptoProvider;
  readonly random: RandomSource;
  readonly files = new Map<string, Uint8Array>();
  private clock: number;
  private readonly timers = new Set<Timer>();
  private readonly options: MemoryRuntimeOptions;

  constructor(options: MemoryRuntimeOptions = {}) {
    this.options = options;
    this.network = options.network ?? new MemoryNetwork();
    this.crypto = options.crypto ?? pureCrypto;
    this.random = options.random ?? systemRandom;
    this.clock = options.startTime ?? 0;
    for (const [path, data] of Object.entries(options.files ?? {})) this.files.set(path, typeof data === 'string' ? new TextEncoder().encode(data) : data);
  }

  now(): number {
    return this.clock;
  }

  createTimer(fire: () => void): RuntimeTimer {
    const timer: Timer = { deadline: null, fire };
    this.timers.add(timer);
    return {
      arm: (deadline) => {
        timer.deadline = deadline;
      },
    };
  }

  /** Move virtual time forward by `ms`, firing due timers in deadline order (microtasks run between them). */
  async advance(ms: number): Promise<void> {
    const end = this.clock + ms;
    for (;;) {
      await settle();
      let next: Timer | null = null;
      for (const t of this.timers) if (t.deadline !== null && t.deadline <= end && (next === null || t.deadline < next.deadline!)) next = t;
      if (next === null) break;
      this.clock = Math.max(this.clock, next.deadline!);
      next.deadline = null;
      next.fire();
    }
    this.clock = end;
    await settle();
  }

  async connectTcp(host: string, port: number, options: DialOptions = {}): Promise<ByteStream> {
    return this.dial(`${host}:${port}`, `${host} port ${port}`, options);
  }

  async connectUnix(path: string, options: DialOptions = {}): Promise<ByteStream> {
    return this.dial(path, path, options);
  }

  async listenTcp(host: string, port: number, onConnection: (stream: ByteStream) => void): Promise<Listener> {
    const chosen = port === 0 ? this.network.allocatePort() : port;
    return this.listen(`${host}:${chosen}`, { host, port: chosen }, onConnection);
  }

  async listenUnix(path: string, onConnection: (stream: ByteStream) => void): Promise<Listener> {
    return this.listen(path, { path }, onConnection);
  }

  async readFile(path: string): Promise<Uint8Array> {
    const data = this.files.get(path);
    if (data === undefined) throw fileError('ENOENT', `no such file: ${path}`);
    return data.slice();
  }

  async writeFile(path: string, data: Uint8Array, options: { readonly mode?: number; readonly append?: boolean } = {}): Promise<void> {
    const before = options.append ? (this.files.get(path) ?? new Uint8Array(0)) : new Uint8Array(0);
    const all = new Uint8Array(before.length + data.length);
    all.set(before);
    all.set(data, before.length);
    this.files.set(path, all);
  }

  /** Directories made so far (files need none: the map has no tree). */
  readonly directories = new Set<string>();

  async listDirectory(path: string): Promise<string[]> {
    const prefix = path.endsWith('/') ? path : `${path}/`;
    const names = new Set<string>();
    for (const p of this.files.keys()) if (p.startsWith(prefix)) names.add(p.slice(prefix.length).split('/')[0]!);
    if (names.size === 0 && !this.directories.has(path)) throw fileError('ENOENT', `no such directory: ${path}`);
    return [...names].sort();
  }

  async makeDirectory(path: string): Promise<void> {
    this.directories.add(path);
  }

  /** Virtual wall clock: `wallStart` (default 2026-01-01) plus virtual time. */
  wallClock(): number {
    return (this.options.wallStart ?? Date.UTC(2026, 0, 1)) + this.clock;
  }

  env(name: string): string | undefined {
    return this.options.env?.[name];
  }

  homeDir(): string {
    return this.options.homeDir ?? '/home/user';
  }

  userName(): string {
    return this.options.userName ?? 'user';
  }

  private async dial(key: string, where: string, options: DialOptions): Promise<ByteStream> {
    if (options.signal?.aborted) throw connectError(where, 'ABORT_ERR', 'aborted');
    const accept = this.network.listeners.get(key);
    if (!accept) throw connectError(where, key.startsWith('/') ? 'ENOENT' : 'ECONNREFUSED', 'refused');
    const [client, server] = MemoryNetwork.pair({ port: this.network.allocatePort() }, { address: key.includes(':') ? key.slice(0, key.lastIndexOf(':')) : key, port: Number(key.split(':').pop()) || 0 });
    queueMicrotask(() => accept(server));
    return client;
  }

  private async listen(key: string, address: Listener['address'], onConnection: Accept): Promise<Listener> {
    if (this.network.listeners.has(key)) throw fileError('EADDRINUSE', `address in use: ${key}`);
    this.network.listeners.set(key, onConnection);
    return {
      address,
      close: async () => {
        if (this.network.listeners.get(key) === onConnection) this.network.listeners.delete(key);
      },
    };
  }
}

/** Let every queued microtask (and what they queue) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 64; i++) await Promise.resolve();
}

function fileError(code: string, message: string): Error & { code: string } {
  return Object.assign(new Error(message), { code });
}
