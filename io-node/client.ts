/**
 * The Node client API (DESIGN.md section 3): `connect()` runs one {@link SshEngine} over a TCP
 * socket through the {@link ConnectionPump} and resolves once the user is authenticated; the
 * returned {@link SshClient} runs commands on session channels (RFC 4254 section 6).
 *
 * - `exec()` collects a command's stdout, stderr and exit status (section 6.10);
 * - `spawn()` streams them: `stdin` is a Writable, `stdout`/`stderr` are Readables.
 *
 * Flow control is end to end. The engine reopens our receive window only when `consumed()` is
 * called (section 5.2), and this module calls it only once a Readable has room for the bytes —
 * when `push()` accepted them or when the consumer asks for more (`_read`). A slow reader therefore
 * stops the remote sender through the window instead of growing a buffer here. In the other
 * direction `stdin`'s write callback waits while the engine holds more than a high-water mark of
 * data the peer's window has not admitted yet, so a fast writer waits for the remote reader.
 *
 * Re-keying (RFC 4253 section 9) happens inside the engine and is invisible here.
 */
import type { Socket } from 'node:net';
import { Readable, Writable } from 'node:stream';
import { SshEngine, SshError, publicKeysEqual, sign, type CryptoProvider, type PrivateKey, type SshEngineOptions, type SshStatistics } from '../core/index.ts';
import type { ChannelRequest } from '../core/connection/messages.ts';
import type { TerminalModes } from '../core/connection/terminal-modes.ts';
import type { Decision, HostKeyDecision, NegotiatedAlgorithms, SshEvent } from '../core/events.ts';
import { ConnectionPump, dialTcp, type CloseReason } from './connection-pump.ts';
import { nodeCrypto } from './crypto-node.ts';

// ---------------------------------------------------------------- errors

/** RFC 4254 section 5.1 reason codes, by name, for messages. */
const OPEN_FAILURE_NAMES: Readonly<Record<number, string>> = {
  1: 'ADMINISTRATIVELY_PROHIBITED',
  2: 'CONNECT_FAILED',
  3: 'UNKNOWN_CHANNEL_TYPE',
  4: 'RESOURCE_SHORTAGE',
};

/** The server refused to open a channel (SSH_MSG_CHANNEL_OPEN_FAILURE). */
export class ChannelOpenError extends Error {
  readonly code = 'CHANNEL_OPEN_FAILED';
  /** The RFC 4254 section 5.1 reason code (sshd 9.2 answers a session beyond MaxSessions with 2, CONNECT_FAILED). */
  readonly reason: number;
  readonly description: string;
  constructor(reason: number, description: string) {
    super(`the server refused to open a channel: ${OPEN_FAILURE_NAMES[reason] ?? `reason ${reason}`}${description ? ` (${description})` : ''}`);
    this.name = 'ChannelOpenError';
    this.reason = reason;
    this.description = description;
  }
}

/** The server answered a channel request (exec, pty-req, subsystem, …) with SSH_MSG_CHANNEL_FAILURE. */
export class ChannelRequestError extends Error {
  readonly code = 'CHANNEL_REQUEST_FAILED';
  readonly request: string;
  constructor(request: string, detail: string) {
    super(`the server refused the "${request}" request${detail ? ` (${detail})` : ''}`);
    this.name = 'ChannelRequestError';
    this.request = request;
  }
}

/**
 * The connection ended while the operation needed it. `cause` is why (the engine's typed error or
 * the socket's); absent when this side closed it (`client.close()`).
 */
export class ConnectionClosedError extends Error {
  readonly code = 'CONNECTION_CLOSED';
  constructor(message: string, cause: Error | null) {
    super(message, cause === null ? undefined : { cause });
    this.name = 'ConnectionClosedError';
  }

  /** True when the connection was lost (peer, network, protocol error), false when we closed it. */
  get lost(): boolean {
    return this.cause !== undefined;
  }
}

// ---------------------------------------------------------------- options and results

export interface ConnectOptions {
  readonly host: string;
  /** Default 22. */
  readonly port?: number;
  readonly username: string;
  /** Keys offered for `publickey` authentication, in order (RFC 4252 section 7). */
  readonly privateKeys?: readonly PrivateKey[];
  /** Tried once for `password` authentication (RFC 4252 section 8) after the keys. */
  readonly password?: string;
  /**
   * Decides whether the server's host key is the right one. Required: there is no silent trust;
   * `false` (or a rejection) ends the connection before any credential is sent.
   */
  readonly hostKey: (decision: HostKeyDecision) => boolean | Promise<boolean>;
  /** Algorithm lists, full or with OpenSSH's `+`/`-`/`^` modifiers. */
  readonly algorithms?: SshEngineOptions['algorithms'];
  /** Default: the node:crypto (OpenSSL) provider. */
  readonly crypto?: CryptoProvider;
  /** Re-key after this many bytes in either direction (default 1 GiB, lower for small-block ciphers). */
  readonly rekeyBytes?: number;
  /** Receive window granted per channel (default 2 MiB) and largest data packet accepted (default 32 KiB). */
  readonly channelWindow?: number;
  readonly channelMaxPacket?: number;
  /** Like ssh's ServerAliveInterval / ServerAliveCountMax (milliseconds; 0 disables, the default). */
  readonly keepaliveIntervalMs?: number;
  readonly keepaliveCountMax?: number;
  /** Give up the TCP connect after this long (default 30 s; 0: no limit). */
  readonly connectTimeoutMs?: number;
}

export interface PtyOptions {
  /** TERM for the remote side (default `xterm`). */
  readonly term?: string;
  /** Size in characters (default 80 × 24). */
  readonly cols?: number;
  readonly rows?: number;
  /** Terminal modes (RFC 4254 section 8); default none, i.e. the server's defaults. */
  readonly modes?: TerminalModes;
}

export interface SessionOptions {
  /** Environment variables, sent as `env` requests without want-reply, as ssh does: sshd silently drops names its AcceptEnv does not list. */
  readonly env?: Readonly<Record<string, string>>;
  /** Ask for a pseudo-terminal (`true`: xterm, 80 × 24). */
  readonly pty?: PtyOptions | boolean;
}

export interface SpawnOptions extends SessionOptions {
  /** `command` names a subsystem (like `ssh -s`), not a command line. */
  readonly subsystem?: boolean;
}

export interface ExecOptions extends SessionOptions {
  /** What the command reads; without it, EOF is sent at once so commands reading stdin finish. */
  readonly stdin?: Uint8Array | Readable;
}

export interface ExitSignal {
  /** The signal name without `SIG` (RFC 4254 section 6.10), e.g. `TERM`. */
  readonly signal: string;
  readonly coreDumped: boolean;
  readonly message: string;
}

export interface ExitInfo {
  /** The exit status, or null when the server sent none (killed by a signal, or the channel was closed first). */
  readonly exitStatus: number | null;
  readonly exitSignal: ExitSignal | null;
}

export interface ExecResult extends ExitInfo {
  readonly stdout: Uint8Array;
  readonly stderr: Uint8Array;
}

/** Engine-side bytes queued beyond the peer's window above which `stdin` stops accepting writes. */
const STDIN_HIGH_WATER = 256 * 1024;
/** Buffering of the Node streams themselves; the channel window is the real buffer. */
const STREAM_HIGH_WATER = 64 * 1024;

// ---------------------------------------------------------------- connect

/**
 * Connect, verify the host key, authenticate. Resolves when the server accepted the user;
 * rejects with the engine's typed error (an `SshError` with a `code`: `HOST_KEY_REJECTED`,
 * `AUTH_FAILED`, `PEER_DISCONNECTED`, …), the socket's error, or a `ConnectError` from the dial.
 */
export async function connect(options: ConnectOptions): Promise<SshClient> {
  const port = options.port ?? 22;
  const socket = await dialTcp(options.host, port, options.connectTimeoutMs ?? 30_000);
  const keys = options.privateKeys ?? [];
  const methods: Array<'publickey' | 'password'> = [];
  if (keys.length > 0) methods.push('publickey');
  if (options.password !== undefined) methods.push('password');
  const engine = new SshEngine({
    role: 'client',
    now: performance.now(),
    crypto: options.crypto ?? nodeCrypto,
    username: options.username,
    clientAuth: { methods, publicKeys: keys.map((k) => ({ key: k.publicKey, ...(k.comment ? { comment: k.comment } : {}) })) },
    ...(options.algorithms !== undefined ? { algorithms: options.algorithms } : {}),
    ...(options.rekeyBytes !== undefined ? { rekeyBytes: options.rekeyBytes } : {}),
    ...(options.channelWindow !== undefined ? { channelWindow: options.channelWindow } : {}),
    ...(options.channelMaxPacket !== undefined ? { channelMaxPacket: options.channelMaxPacket } : {}),
    ...(options.keepaliveIntervalMs !== undefined ? { keepaliveIntervalMs: options.keepaliveIntervalMs } : {}),
    ...(options.keepaliveCountMax !== undefined ? { keepaliveCountMax: options.keepaliveCountMax } : {}),
  });
  const client = new SshClient(engine, socket, options);
  await client.authenticated;
  return client;
}

// ---------------------------------------------------------------- the client

/** Receives the engine's events for one channel. */
interface ChannelListener {
  event(event: ChannelEvent): void;
  connectionClosed(error: Error): void;
}

type ChannelEvent = Extract<SshEvent, { channel: number }>;

export class SshClient {
  /** Settles when the connection is over, with why (null: we closed it). Never rejects. */
  readonly closed: Promise<CloseReason>;
  /** @internal Settles on authSuccess; `connect()` awaits it. */
  readonly authenticated: Promise<void>;

  private readonly pump: ConnectionPump;
  private readonly engine: SshEngine;
  private readonly channels = new Map<number, ChannelListener>();
  private closeError: Error | null = null;

  /** @internal Use {@link connect}. */
  constructor(engine: SshEngine, socket: Socket, private readonly options: ConnectOptions) {
    this.engine = engine;
    let authOk!: () => void;
    this.authenticated = new Promise<void>((resolve) => (authOk = resolve));
    this.pump = new ConnectionPump(engine, socket, {
      onDecision: (d) => this.decide(d),
      onEvent: (e) => {
        if (e.type === 'authSuccess') authOk();
        else this.route(e);
      },
    });
    this.closed = this.pump.closed;
    const ended = this.closed.then((reason) => {
      const error = new ConnectionClosedError(reason ? `the connection was closed: ${reason.message}` : 'the connection was closed', reason);
      this.closeError = error;
      for (const listener of [...this.channels.values()]) listener.connectionClosed(error);
      this.channels.clear();
      // Before authentication the caller wants the engine's own typed error, not a wrapper.
      throw reason ?? new SshError('LOCAL_DISCONNECT', 'the connection was closed before authentication finished');
    });
    this.authenticated = Promise.race([this.authenticated, ended]);
    // Once authenticated nobody awaits `ended`; its rejection is expected then.
    ended.catch(() => {});
  }

  /** Traffic counters, key exchanges included (the initial one counts). */
  get statistics(): SshStatistics {
    return this.engine.statistics;
  }

  /** The algorithms of the current keys. */
  get algorithms(): NegotiatedAlgorithms | null {
    return this.engine.algorithms;
  }

  /** Run a command and collect what it prints and how it ended. */
  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const proc = this.spawn(command, options);
    const stdout = collectStream(proc.stdout);
    const stderr = collectStream(proc.stderr);
    const input = options.stdin;
    let inputError: Error | null = null;
    if (input instanceof Uint8Array) proc.stdin.end(input);
    else if (input) {
      input.pipe(proc.stdin);
      // A failing source must not leave the command waiting for the rest of its input forever.
      input.once('error', (e: Error) => {
        inputError = e;
        proc.close();
      });
    } else proc.stdin.end();
    const [out, err, exit] = await Promise.all([stdout, stderr, proc.exit]);
    if (inputError) throw inputError;
    return { stdout: out, stderr: err, ...exit };
  }

  /** Start a command (or, with `subsystem: true`, a subsystem) with streaming stdin, stdout and stderr. */
  spawn(command: string, options: SpawnOptions = {}): SshProcess {
    if (this.closeError) throw this.closeError;
    const proc = new SshProcess(this.channelOps());
    let id = -1;
    if (!this.engine.isClosed) this.pump.command((engine, now) => (id = engine.openSession(now)));
    if (id < 0) throw this.closeError ?? new ConnectionClosedError('the connection was closed', null);
    proc.attach(id, { type: options.subsystem ? 'subsystem' : 'exec', command }, options);
    this.channels.set(id, proc.listener);
    return proc;
  }

  /** Say goodbye (SSH_MSG_DISCONNECT) and wait until the socket is closed. */
  async close(): Promise<void> {
    this.pump.disconnect('closed by the client');
    await this.closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---------------------------------------------------------------- internals

  /** What an {@link SshProcess} may do to the connection: engine commands, flushed by the pump. */
  private channelOps(): ChannelOps {
    return {
      run: (fn) => {
        if (this.engine.isClosed) return false;
        this.pump.command((engine, now) => fn(engine, now));
        return true;
      },
      info: (id) => (this.engine.isClosed ? null : safeInfo(this.engine, id)),
      forget: (id) => this.channels.delete(id),
    };
  }

  private route(event: SshEvent): void {
    if (!('channel' in event)) return;
    const listener = this.channels.get(event.channel);
    if (!listener) {
      // Data for a channel nobody listens to (never, in practice) must still reopen the window.
      if (event.type === 'channelData') this.engine.consumed(event.channel, event.data.length, performance.now());
      return;
    }
    listener.event(event);
    if (event.type === 'channelClosed') this.channels.delete(event.channel);
  }

  private decide(decision: Decision): unknown {
    switch (decision.kind) {
      case 'hostKey':
        return this.options.hostKey(decision);
      case 'sign': {
        const key = (this.options.privateKeys ?? []).find((k) => publicKeysEqual(k.publicKey, decision.key));
        return key ? sign(this.options.crypto ?? nodeCrypto, key, decision.algorithm, decision.data) : null;
      }
      case 'password':
        // One attempt, like a stored password: asking again would only repeat the same answer.
        return decision.attempt === 1 && this.options.password !== undefined ? this.options.password : null;
      // What this client never asked for is refused: server-initiated channels (forwarding, agent,
      // X11) and requests (e.g. keepalive@openssh.com, which ssh also answers with failure).
      case 'channelOpen':
      case 'channelRequest':
      case 'globalRequest':
        return false;
      default:
        return null;
    }
  }
}

function safeInfo(engine: SshEngine, id: number): ReturnType<SshEngine['channelInfo']> | null {
  try {
    return engine.channelInfo(id);
  } catch {
    return null;
  }
}

interface ChannelOps {
  /** Run engine commands and flush their output; false when the connection is already over. */
  run(fn: (engine: SshEngine, now: number) => void): boolean;
  info(id: number): ReturnType<SshEngine['channelInfo']> | null;
  forget(id: number): void;
}

async function collectStream(stream: Readable): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  const all = Buffer.concat(chunks);
  return new Uint8Array(all.buffer, all.byteOffset, all.byteLength);
}

// ---------------------------------------------------------------- a running command

/**
 * Data delivered by the engine for one direction (stdout or stderr). Bytes the Readable could not
 * take at once are "owed": `consumed()` for them waits until the consumer reads (`_read`).
 */
class ChannelReadable extends Readable {
  private owed = 0;
  constructor(private readonly onConsumed: (n: number) => void) {
    super({ highWaterMark: STREAM_HIGH_WATER });
  }

  deliver(data: Uint8Array): void {
    // A consumer that went away must not stall the channel: take the bytes and drop them.
    if (this.destroyed || this.readableEnded) return this.onConsumed(data.length);
    const accepted = this.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    if (accepted) this.onConsumed(data.length);
    else this.owed += data.length;
  }

  override _read(): void {
    if (this.owed === 0) return;
    const n = this.owed;
    this.owed = 0;
    this.onConsumed(n);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.owed > 0) {
      const n = this.owed;
      this.owed = 0;
      this.onConsumed(n);
    }
    callback(error);
  }
}

/** A command running on a session channel. */
export class SshProcess {
  /**
   * The command's standard input; `end()` sends EOF. It never emits 'error': writes the command can
   * no longer receive (it failed to start or the channel closed) are dropped, and `exit` says why.
   */
  readonly stdin: Writable;
  /**
   * The command's output. They end at the server's EOF; they fail with a
   * {@link ConnectionClosedError} only when the connection is lost mid-stream. Both share the
   * channel's window: read both (or destroy the one you do not want), or the command stalls.
   */
  readonly stdout: Readable;
  readonly stderr: Readable;
  /**
   * Settles when the channel is closed (after the output ended): with the exit status or signal,
   * or rejects with {@link ChannelOpenError}, {@link ChannelRequestError} or
   * {@link ConnectionClosedError}.
   */
  readonly exit: Promise<ExitInfo>;
  /** @internal */
  readonly listener: ChannelListener;

  private readonly ops: ChannelOps;
  private readonly out: ChannelReadable;
  private readonly err: ChannelReadable;
  private id = -1;
  /** Set once the command runs (its request succeeded): stdin may flow from then on. */
  private started = false;
  private startWaiters: Array<() => void> = [];
  /** close() was called: no more data or requests from us. */
  private closing = false;
  private failure: Error | null = null;
  private channelGone = false;
  private readonly replyWaiters: Array<{ request: string; settle: (ok: boolean) => void }> = [];
  private drainWaiters: Array<() => void> = [];
  private exitStatus: number | null = null;
  private exitSignal: ExitSignal | null = null;
  private settleExit!: { resolve: (info: ExitInfo) => void; reject: (error: Error) => void };

  /** @internal Use {@link SshClient.spawn}. */
  constructor(ops: ChannelOps) {
    this.ops = ops;
    this.exit = new Promise<ExitInfo>((resolve, reject) => (this.settleExit = { resolve, reject }));
    // A caller that only uses the streams must not get an unhandled rejection; awaiting still throws.
    this.exit.catch(() => {});
    const consumed = (n: number) => {
      if (n > 0 && !this.channelGone) this.ops.run((engine, now) => engine.consumed(this.id, n, now));
    };
    this.out = new ChannelReadable(consumed);
    this.err = new ChannelReadable(consumed);
    this.stdout = this.out;
    this.stderr = this.err;
    this.stdin = new Writable({
      highWaterMark: STREAM_HIGH_WATER,
      write: (chunk: Buffer, _encoding, callback: () => void) => this.writeStdin(chunk, callback),
      final: (callback: () => void) => this.endStdin(callback),
    });
    this.listener = {
      event: (e) => this.onEvent(e),
      connectionClosed: (error) => this.fail(error),
    };
  }

  /**
   * Send a signal (RFC 4254 section 6.9) by name, `TERM`, `INT`, `KILL`, … (a `SIG` prefix is
   * dropped). sshd delivers it to the command's process group; it ignores it for subsystems.
   */
  signal(name: string): void {
    const signal = name.replace(/^SIG/, '');
    // Until the command runs there is nothing to signal: the request waits for the exec reply.
    this.whenStarted(() => {
      if (this.failure || this.channelGone || this.closing) return;
      this.ops.run((engine, now) => engine.channelRequest(this.id, { type: 'signal', signal }, false, now));
    });
  }

  /** Close the channel (after anything already written); `exit` settles once the server closed too. */
  close(): void {
    if (this.channelGone || this.closing || this.id < 0) return;
    this.closing = true;
    this.ops.run((engine, now) => engine.close(this.id, now));
  }

  /** @internal Called by the client right after the session was opened as channel `id`. */
  attach(id: number, start: { type: 'exec' | 'subsystem'; command: string }, options: SessionOptions): void {
    this.id = id;
    void this.setUp(start, options).then(
      () => {
        this.started = true;
        for (const w of this.startWaiters.splice(0)) w();
      },
      (error: Error) => {
        this.fail(error);
        // Close the channel if the server opened it; it answers with its own CLOSE, which ends us.
        if (!this.channelGone) this.ops.run((engine, now) => engine.close(this.id, now));
      },
    );
  }

  private opened!: { resolve: () => void; reject: (e: Error) => void };

  private async setUp(start: { type: 'exec' | 'subsystem'; command: string }, options: SessionOptions): Promise<void> {
    await new Promise<void>((resolve, reject) => (this.opened = { resolve, reject }));
    const requests: Array<{ request: ChannelRequest; wantReply: boolean }> = [];
    for (const [name, value] of Object.entries(options.env ?? {})) requests.push({ request: { type: 'env', name, value }, wantReply: false });
    if (options.pty) {
      const pty = options.pty === true ? {} : options.pty;
      requests.push({
        request: { type: 'pty-req', term: pty.term ?? 'xterm', cols: pty.cols ?? 80, rows: pty.rows ?? 24, widthPx: 0, heightPx: 0, modes: pty.modes ?? {} },
        wantReply: true,
      });
    }
    requests.push({
      request: start.type === 'exec' ? { type: 'exec', command: start.command } : { type: 'subsystem', name: start.command },
      wantReply: true,
    });
    // All requests go out at once; the replies come back in order (RFC 4254 section 5.4).
    const replies: Array<Promise<void>> = [];
    this.ops.run((engine, now) => {
      for (const { request, wantReply } of requests) {
        engine.channelRequest(this.id, request, wantReply, now);
        if (!wantReply) continue;
        const name = request.type;
        replies.push(
          new Promise<void>((resolve, reject) =>
            this.replyWaiters.push({
              request: name,
              settle: (ok) => (ok ? resolve() : reject(new ChannelRequestError(name, name === 'exec' || name === 'subsystem' ? start.command : ''))),
            }),
          ),
        );
      }
    });
    // Settle all before reporting, so no reply promise is left rejected and unobserved.
    const results = await Promise.allSettled(replies);
    const refused = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (refused) throw refused.reason as Error;
  }

  private onEvent(e: ChannelEvent): void {
    switch (e.type) {
      case 'channelOpenConfirmed':
        this.opened.resolve();
        return;
      case 'channelOpenFailed':
        this.channelGone = true;
        this.ops.forget(this.id);
        this.opened.reject(new ChannelOpenError(e.reason, e.description));
        return;
      case 'channelRequestReply': {
        const waiter = this.replyWaiters.shift();
        waiter?.settle(e.success);
        return;
      }
      case 'channelData':
        (e.dataType === 1 ? this.err : this.out).deliver(e.data);
        // Other extended types (none are defined besides stderr) are consumed and dropped.
        if (e.dataType !== 0 && e.dataType !== 1) this.ops.run((engine, now) => engine.consumed(this.id, e.data.length, now));
        return;
      case 'channelEof':
        this.endOutput();
        return;
      case 'channelRequest':
        if (e.request.type === 'exit-status') this.exitStatus = e.request.status;
        else if (e.request.type === 'exit-signal') this.exitSignal = { signal: e.request.signal, coreDumped: e.request.coreDumped, message: e.request.message };
        return;
      case 'channelDrain':
        for (const w of this.drainWaiters.splice(0)) w();
        return;
      case 'channelClosed':
        this.channelGone = true;
        this.endOutput();
        for (const w of this.drainWaiters.splice(0)) w();
        for (const w of this.replyWaiters.splice(0)) w.settle(false);
        if (this.failure) this.settleExit.reject(this.failure);
        else this.settleExit.resolve({ exitStatus: this.exitStatus, exitSignal: this.exitSignal });
        this.wakeStdin();
        return;
    }
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.opened?.reject(error);
    if (error instanceof ConnectionClosedError && error.lost) {
      // Output cut short by a lost connection is an error a reader must see. When we closed the
      // connection ourselves the streams just end, so callers that only await `exit` do not get
      // an unhandled 'error' event; a refused open or request produced no output at all.
      this.out.destroy(error);
      this.err.destroy(error);
    }
    if (this.channelGone || error instanceof ConnectionClosedError) {
      this.channelGone = true;
      this.endOutput();
      for (const w of this.replyWaiters.splice(0)) w.settle(false);
      this.settleExit.reject(error);
    }
    this.wakeStdin();
  }

  private endOutput(): void {
    for (const stream of [this.out, this.err]) if (!stream.destroyed && !stream.readableEnded) stream.push(null);
  }

  private wakeStdin(): void {
    for (const w of this.startWaiters.splice(0)) w();
    for (const w of this.drainWaiters.splice(0)) w();
  }

  private whenStarted(fn: () => void): void {
    if (this.started || this.failure || this.channelGone) fn();
    else this.startWaiters.push(fn);
  }

  /** May stdin data or EOF still go out? Not once the command failed, we closed or sent EOF, or the channel is gone. */
  private stdinOpen(): boolean {
    if (this.failure || this.channelGone || this.closing) return false;
    const info = this.ops.info(this.id);
    return info !== null && info.phase.stage === 'open' && info.phase.send === 'open';
  }

  /**
   * Writes never fail: when the command cannot take them any more (it failed to start, exited, or
   * the channel closed) they are dropped, as nobody would read them, and the real answer is `exit`.
   * An error event here would crash callers that only await `exit`.
   */
  private writeStdin(chunk: Buffer, callback: () => void): void {
    this.whenStarted(() => {
      if (!this.stdinOpen()) return callback();
      let buffered = 0;
      this.ops.run((engine, now) => {
        engine.write(this.id, chunk, now);
        buffered = this.ops.info(this.id)?.bufferedAmount ?? 0;
      });
      if (buffered < STDIN_HIGH_WATER) callback();
      else this.drainWaiters.push(callback);
    });
  }

  private endStdin(callback: () => void): void {
    this.whenStarted(() => {
      if (this.stdinOpen()) this.ops.run((engine, now) => engine.eof(this.id, now));
      callback();
    });
  }
}
