/**
 * An SSH channel as the promise API sees it (RFC 4254 section 5): a byte pipe each way with
 * explicit credit, plus the channel's requests.
 *
 * - {@link ChannelReader}: data is handed up in the order it came; the receive window reopens
 *   (SSH_MSG_CHANNEL_WINDOW_ADJUST, section 5.2) only for bytes a consumer has taken, so a slow
 *   reader stops the remote sender instead of growing a buffer here. The queue is bounded by the
 *   window we granted.
 * - {@link ChannelWriter}: `write` resolves once the engine holds less than a high-water mark of
 *   bytes the peer's window has not admitted yet, so a fast writer waits for the remote reader.
 *   Writes the peer can no longer receive (it closed, we sent EOF) are dropped: whoever needs to
 *   know awaits the channel's end (a process's `exit`).
 * - `close()` is idempotent and a no-op on a channel the peer already closed.
 *
 * Runtime-neutral: adapters wrap readers and writers in their native streams.
 */
import type { SshEngine } from '../engine.ts';
import type { ChannelInfo } from '../connection/connection.ts';
import type { ChannelRequest } from '../connection/messages.ts';
import type { SshEvent } from '../events.ts';
import { ChannelOpenError, ChannelRequestError, ConnectionClosedError } from './errors.ts';

/** Bytes queued in the engine beyond the peer's window above which `write` waits. */
export const WRITE_HIGH_WATER = 256 * 1024;

/** What a channel may do to its connection. */
export interface ChannelHost {
  /** Run engine commands and move their output; false when the connection is over. */
  command(fn: (engine: SshEngine, now: number) => void): boolean;
  info(id: number): ChannelInfo | null;
}

export type ChannelEvent = Extract<SshEvent, { channel: number }>;

const encoder = new TextEncoder();

/** One direction of incoming data (a channel's data, or its stderr). Async-iterable. */
export class ChannelReader implements AsyncIterable<Uint8Array> {
  private readonly queue: Uint8Array[] = [];
  private queued = 0;
  private ended = false;
  private error: Error | null = null;
  private discarding = false;
  private readonly waiters: Array<{ resolve: (chunk: Uint8Array | null) => void; reject: (error: Error) => void }> = [];
  private readableListener: (() => void) | null = null;

  /** @internal `credit(n)` reopens the window for n bytes. */
  constructor(private readonly credit: (n: number) => void) {}

  /** The next chunk, or null at the end. Rejects when the connection was lost mid-stream. */
  read(): Promise<Uint8Array | null> {
    const chunk = this.take();
    if (chunk !== undefined) return Promise.resolve(chunk);
    if (this.error) return Promise.reject(this.error);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /**
   * A chunk if one is here now (null at the end), undefined if none yet; for stream views that
   * pull synchronously. Throws when the connection was lost.
   */
  take(): Uint8Array | null | undefined {
    const chunk = this.queue.shift();
    if (chunk !== undefined) {
      this.queued -= chunk.length;
      this.credit(chunk.length);
      return chunk;
    }
    if (this.error) throw this.error;
    return this.ended ? null : undefined;
  }

  /** Called whenever `take` may return something new (data, the end, an error); one listener. */
  onReadable(listener: (() => void) | null): void {
    this.readableListener = listener;
  }

  /** Drop what is queued and everything that comes later (the window keeps reopening). */
  discard(): void {
    this.discarding = true;
    if (this.queued > 0) this.credit(this.queued);
    this.queue.length = 0;
    this.queued = 0;
    for (const w of this.waiters.splice(0)) w.resolve(null);
  }

  /** Bytes waiting for a consumer. */
  get bufferedAmount(): number {
    return this.queued;
  }

  get isEnded(): boolean {
    return this.ended && this.queue.length === 0;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    try {
      for (let chunk = await this.read(); chunk !== null; chunk = await this.read()) yield chunk;
    } finally {
      // A consumer that stops iterating early must not stall the channel.
      if (!this.ended) this.discard();
    }
  }

  /** @internal */
  push(data: Uint8Array): void {
    if (this.ended) return;
    if (this.discarding) return this.credit(data.length);
    const waiter = this.waiters.shift();
    if (waiter) {
      this.credit(data.length);
      waiter.resolve(data);
      return;
    }
    this.queue.push(data);
    this.queued += data.length;
    this.readableListener?.();
  }

  /** @internal The peer's EOF or CLOSE: what is queued can still be read. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.queue.length === 0) for (const w of this.waiters.splice(0)) w.resolve(null);
    this.readableListener?.();
  }

  /** @internal The connection was lost: queued data is still read first, then `error`. */
  fail(error: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.error = error;
    if (this.queue.length === 0) for (const w of this.waiters.splice(0)) w.reject(error);
    this.readableListener?.();
  }
}

/** Outgoing data of a channel (its data stream, or a server's stderr). */
export class ChannelWriter {
  private tail: Promise<void> = Promise.resolve();
  private ending = false;

  /** @internal */
  constructor(
    private readonly channel: SshChannel,
    private readonly dataType = 0,
  ) {}

  /**
   * Queue bytes (text is sent as UTF-8). Resolves when the engine admitted them below the high-water
   * mark; never rejects: bytes the peer can no longer take are dropped.
   */
  write(data: Uint8Array | string): Promise<void> {
    const bytes = typeof data === 'string' ? encoder.encode(data) : data;
    const done = this.tail.then(() => this.channel.writeData(bytes, this.dataType));
    this.tail = done;
    return done;
  }

  /** Send EOF after what is queued (RFC 4254 section 5.3). Idempotent. */
  end(): Promise<void> {
    if (this.ending) return this.tail;
    this.ending = true;
    const done = this.tail.then(() => this.channel.sendEof());
    this.tail = done;
    return done;
  }

  /** False once EOF was sent or the channel is closing or gone (before the open completes it is still true). */
  get writable(): boolean {
    return !this.ending && this.channel.active && !this.channel.isClosing;
  }
}

/**
 * A channel of any type. Sessions are wrapped by {@link SshProcess} (core/api/process.ts);
 * direct-tcpip and forwarded channels are handed out as they are.
 */
export class SshChannel {
  /** Data (type 0) from the peer. */
  readonly reader: ChannelReader;
  /** Extended data type 1 (stderr) from the peer; other types are taken and dropped. */
  readonly stderr: ChannelReader;
  /** Data to the peer. */
  readonly writer: ChannelWriter;
  /** Settles when the peer confirmed the open; rejects with ChannelOpenError or ConnectionClosedError. */
  readonly opened: Promise<void>;
  /** Settles when the channel is gone (both CLOSEs, or the connection ended). Never rejects. */
  readonly closed: Promise<void>;

  /** Requests the peer sent without want-reply (exit-status, exit-signal, window-change, …). */
  onRequest: ((request: ChannelRequest) => void) | null = null;
  /** Want-reply requests from the peer: answer true or false (default: refuse, as ssh does). */
  onRequestDecision: ((request: ChannelRequest) => boolean | Promise<boolean>) | null = null;

  private isOpen = false;
  private gone = false;
  private closing = false;
  private failure: Error | null = null;
  /** Data may flow once this settles true (after open; for a process, after its start request). */
  private ready: Promise<boolean>;
  private readonly replyWaiters: Array<{ request: string; settle: (ok: boolean) => void }> = [];
  private drainWaiters: Array<() => void> = [];
  private settleOpened!: { resolve: () => void; reject: (error: Error) => void };
  private resolveClosed!: () => void;

  /** @internal Created by the connection for a channel it opened or is accepting (`opened` settles once confirmed). */
  constructor(
    readonly id: number,
    readonly type: string,
    private readonly host: ChannelHost,
  ) {
    this.opened = new Promise<void>((resolve, reject) => (this.settleOpened = { resolve, reject }));
    // Callers that only use the streams must not get an unhandled rejection; awaiting still throws.
    this.opened.catch(() => {});
    this.closed = new Promise<void>((resolve) => (this.resolveClosed = resolve));
    const credit = (n: number): void => {
      if (n > 0 && !this.gone) this.host.command((engine, now) => engine.consumed(this.id, n, now));
    };
    this.reader = new ChannelReader(credit);
    this.stderr = new ChannelReader(credit);
    this.writer = new ChannelWriter(this, 0);
    this.ready = this.opened.then(
      () => true,
      () => false,
    );
  }

  /** Send a request (RFC 4254 section 5.4); with `wantReply`, resolves with the peer's answer. */
  request(request: ChannelRequest, wantReply: boolean): Promise<boolean> {
    return this.opened.then(() => {
      if (this.gone || this.closing) return false;
      if (!wantReply) {
        this.host.command((engine, now) => engine.channelRequest(this.id, request, false, now));
        return true;
      }
      return new Promise<boolean>((resolve) => {
        this.replyWaiters.push({ request: request.type, settle: resolve });
        if (!this.host.command((engine, now) => engine.channelRequest(this.id, request, true, now))) this.replyWaiters.pop()?.settle(false);
      });
    });
  }

  /** Like `request` with want-reply, but a refusal rejects with ChannelRequestError. */
  async requestOrFail(request: ChannelRequest, detail = ''): Promise<void> {
    if (!(await this.request(request, true))) throw this.failure ?? new ChannelRequestError(request.type, detail);
  }

  /** Send EOF on the data stream (after queued writes: prefer `writer.end()`). */
  eof(): Promise<void> {
    return this.writer.end();
  }

  /** Close the channel; resolves when it is gone. Idempotent; a no-op once the peer closed it. */
  close(): Promise<void> {
    if (!this.gone && !this.closing) {
      this.closing = true;
      this.host.command((engine, now) => engine.close(this.id, now));
    }
    return this.closed;
  }

  /** Why the channel ended without its own CLOSE: the connection went first (null otherwise). */
  get connectionError(): ConnectionClosedError | null {
    return this.failure instanceof ConnectionClosedError ? this.failure : null;
  }

  /** True until the channel is gone. */
  get active(): boolean {
    return !this.gone;
  }

  /** `close()` was called (or the start failed): no more data from us. */
  get isClosing(): boolean {
    return this.closing;
  }

  /** @internal Gate data behind a start request (exec/shell/subsystem): false drops it. */
  gate(ready: Promise<boolean>): void {
    this.ready = ready;
  }

  /** @internal */
  maySend(): boolean {
    if (this.gone || this.closing || this.failure) return false;
    const info = this.host.info(this.id);
    return info !== null && info.phase.stage === 'open' && info.phase.send === 'open';
  }

  /** @internal Serialised by ChannelWriter. */
  async writeData(bytes: Uint8Array, dataType: number): Promise<void> {
    if (bytes.length === 0 || !(await this.ready) || !this.maySend()) return;
    let buffered = 0;
    this.host.command((engine, now) => {
      engine.write(this.id, bytes, now, dataType);
      buffered = this.host.info(this.id)?.bufferedAmount ?? 0;
    });
    while (buffered >= WRITE_HIGH_WATER && this.maySend()) {
      await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
      buffered = this.host.info(this.id)?.bufferedAmount ?? 0;
    }
  }

  /** @internal Serialised by ChannelWriter. */
  async sendEof(): Promise<void> {
    if (!(await this.ready) || !this.maySend()) return;
    this.host.command((engine, now) => engine.eof(this.id, now));
  }

  /** @internal An engine event for this channel. */
  handle(event: ChannelEvent): void {
    switch (event.type) {
      case 'channelOpenConfirmed':
        this.confirmed();
        return;
      case 'channelOpenFailed':
        this.failure = new ChannelOpenError(event.reason, event.description, `a ${this.type} channel`);
        this.settleOpened.reject(this.failure);
        this.finish(null);
        return;
      case 'channelRequestReply':
        this.replyWaiters.shift()?.settle(event.success);
        return;
      case 'channelData':
        if (event.dataType === 0) this.reader.push(event.data);
        else if (event.dataType === 1) this.stderr.push(event.data);
        else this.host.command((engine, now) => engine.consumed(this.id, event.data.length, now));
        return;
      case 'channelEof':
        this.reader.end();
        this.stderr.end();
        return;
      case 'channelRequest':
        this.onRequest?.(event.request);
        return;
      case 'channelDrain':
        this.wakeWriters();
        return;
      case 'channelPeerClosed':
        return;
      case 'channelClosed':
        this.finish(null);
        return;
    }
  }

  /** @internal A want-reply request from the peer. */
  decide(request: ChannelRequest): boolean | Promise<boolean> {
    return this.onRequestDecision ? this.onRequestDecision(request) : false;
  }

  /** @internal The connection ended; `error` says how. */
  connectionClosed(error: ConnectionClosedError): void {
    if (this.gone) return;
    this.failure ??= error;
    this.settleOpened.reject(error);
    this.finish(error.lost ? error : null);
  }

  private confirmed(): void {
    this.isOpen = true;
    this.settleOpened.resolve();
  }

  private finish(lost: Error | null): void {
    if (this.gone) return;
    this.gone = true;
    for (const reader of [this.reader, this.stderr]) {
      // Output cut short by a lost connection is an error a reader must see; a clean end just ends.
      if (lost && this.isOpen) reader.fail(lost);
      else reader.end();
    }
    for (const w of this.replyWaiters.splice(0)) w.settle(false);
    this.wakeWriters();
    this.resolveClosed();
  }

  private wakeWriters(): void {
    for (const w of this.drainWaiters.splice(0)) w();
  }
}
