/**
 * The Node pump: moves bytes, time and events between one {@link SshEngine} and one `net.Socket`.
 * It owns no protocol knowledge (DESIGN.md section 3): socket data becomes `receive`, every flush of
 * `pollTransmit` becomes one `socket.write`, `pollTimeout` drives a single OS timer, and events go to
 * the embedder. Decisions may be answered asynchronously; the answer is fed back with `resolve`.
 */
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { SshEngine } from '../core/engine.ts';
import { DisconnectReason, type SshError } from '../core/errors.ts';
import type { Decision, SshEvent } from '../core/events.ts';

/** Longest delay setTimeout accepts; later deadlines are re-armed when this one fires. */
const MAX_TIMER_DELAY = 2 ** 31 - 1;
/** After our DISCONNECT, how long we wait for the peer to close before dropping the socket. */
const LINGER_MS = 2000;

export interface ConnectionPumpOptions {
  /**
   * Called for every decision; the returned value (or what the returned promise settles to) is
   * the answer passed to `engine.resolve`. A throw or rejection disconnects the connection and
   * becomes the error of {@link ConnectionPump.closed}.
   */
  readonly onDecision: (decision: Decision) => unknown;
  /** Called for every other event, `closed` included. Exceptions here are the caller's bug and are rethrown. */
  readonly onEvent?: (event: SshEvent) => void;
  /** Monotonic milliseconds; default `performance.now()`. */
  readonly clock?: () => number;
}

/** Why the connection ended: the engine's error, a socket error, or null for a clean local goodbye. */
export type CloseReason = SshError | Error | null;

export class ConnectionPump {
  readonly engine: SshEngine;
  readonly socket: Socket;
  /** Settles once the engine has closed and the socket is ending; never rejects. */
  readonly closed: Promise<CloseReason>;

  private readonly options: ConnectionPumpOptions;
  private readonly clock: () => number;
  private timer: NodeJS.Timeout | null = null;
  private timerDeadline: number | null = null;
  private pendingDecisions = 0;
  private writeBlocked = false;
  private socketError: Error | null = null;
  private localError: Error | null = null;
  private engineError: SshError | null = null;
  private finished = false;
  private pumping = false;
  private resolveClosed!: (reason: CloseReason) => void;

  constructor(engine: SshEngine, socket: Socket, options: ConnectionPumpOptions) {
    this.engine = engine;
    this.socket = socket;
    this.options = options;
    this.clock = options.clock ?? (() => performance.now());
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));

    // SSH is a request/response protocol of small packets: Nagle would add a round trip of delay.
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.input(() => engine.receive(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength), this.clock())));
    socket.on('end', () => this.input(() => engine.receiveEof(this.clock())));
    socket.on('close', () => {
      this.input(() => engine.receiveEof(this.clock()));
      this.finish();
    });
    socket.on('error', (err) => {
      this.socketError ??= err;
    });
    socket.on('drain', () => {
      this.writeBlocked = false;
      this.updateReading();
    });
    // The engine queued its identification and KEXINIT at construction.
    this.pump();
  }

  /** Run a command against the engine (e.g. `e => e.rekey(now)`) and move its output. */
  command(fn: (engine: SshEngine, now: number) => void): void {
    if (this.finished) return;
    fn(this.engine, this.clock());
    this.pump();
  }

  /** Send DISCONNECT and close the socket once it is flushed. */
  disconnect(description = 'disconnected by application'): void {
    if (this.engine.isClosed) return;
    this.command((engine, now) => engine.disconnect(DisconnectReason.BY_APPLICATION, description, now));
  }

  /** Input from the socket. Bytes arriving after the engine closed are drained and dropped. */
  private input(fn: () => void): void {
    if (this.engine.isClosed) return;
    fn();
    this.pump();
  }

  /** Drain the engine's outputs in the order the engine documents: transmit, timeout, events. */
  private pump(): void {
    // A handler may issue a command from inside an event callback; the outer loop picks its output up.
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (;;) {
        this.flushTransmit();
        this.armTimer();
        const event = this.engine.pollEvent();
        if (event === null) break;
        this.dispatch(event);
      }
    } finally {
      this.pumping = false;
    }
    if (this.engine.isClosed) this.endSocket();
    this.updateReading();
  }

  private flushTransmit(): void {
    for (let bytes = this.engine.pollTransmit(); bytes !== null; bytes = this.engine.pollTransmit()) {
      if (this.socket.destroyed || !this.socket.writable) continue;
      if (!this.socket.write(bytes)) this.writeBlocked = true;
    }
  }

  private armTimer(): void {
    const deadline = this.engine.pollTimeout();
    if (deadline === this.timerDeadline) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerDeadline = deadline;
    if (deadline === null) return;
    const delay = Math.min(Math.max(0, Math.ceil(deadline - this.clock())), MAX_TIMER_DELAY);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerDeadline = null;
      if (this.engine.isClosed) return;
      this.engine.handleTimeout(this.clock());
      this.pump();
    }, delay);
    // The socket keeps the process alive while the connection matters; the timer alone must not.
    this.timer.unref();
  }

  private dispatch(event: SshEvent): void {
    if (event.type !== 'decision') {
      if (event.type === 'closed') {
        this.clearTimer();
        this.engineError = event.error;
      }
      this.options.onEvent?.(event);
      return;
    }
    const decision = event.decision;
    let answer: unknown;
    try {
      answer = this.options.onDecision(decision);
    } catch (err) {
      this.failLocally(err);
      return;
    }
    if (!isPromiseLike(answer)) {
      this.answer(decision, answer);
      return;
    }
    // Reading pauses while a blocking decision is open: the engine would only buffer what we feed
    // it. Connection decisions (a slow forward connect) must not stall the other channels.
    if (!decision.blocking) {
      answer.then(
        (value) => {
          if (!this.engine.isClosed) this.answer(decision, value);
          this.pump();
        },
        (err: unknown) => this.failLocally(err),
      );
      return;
    }
    this.pendingDecisions++;
    this.updateReading();
    answer.then(
      (value) => {
        this.pendingDecisions--;
        if (!this.engine.isClosed) this.answer(decision, value);
        this.pump();
      },
      (err: unknown) => {
        this.pendingDecisions--;
        this.failLocally(err);
      },
    );
  }

  /** An answer the engine refuses (wrong type for the decision) is the handler's bug: end the connection with it. */
  private answer(decision: Decision, value: unknown): void {
    try {
      this.engine.resolve(decision.id, value, this.clock());
    } catch (err) {
      this.failLocally(err);
    }
  }

  private failLocally(err: unknown): void {
    this.localError ??= err instanceof Error ? err : new Error(String(err));
    if (!this.engine.isClosed) this.engine.disconnect(DisconnectReason.BY_APPLICATION, this.localError.message, this.clock());
    this.pump();
  }

  private updateReading(): void {
    if (this.socket.destroyed) return;
    // After close we keep reading (and dropping) so the peer's close reaches us without a reset.
    const stop = !this.engine.isClosed && (this.writeBlocked || this.pendingDecisions > 0);
    if (stop && !this.socket.isPaused()) this.socket.pause();
    else if (!stop && this.socket.isPaused()) this.socket.resume();
  }

  private endSocket(): void {
    if (this.finished || this.socket.destroyed) return this.finish();
    if (!this.socket.writableEnded) {
      this.socket.end();
      setTimeout(() => this.socket.destroy(), LINGER_MS).unref();
    }
    this.finish();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerDeadline = null;
  }

  private finish(): void {
    if (this.finished || !this.engine.isClosed) return;
    this.finished = true;
    this.clearTimer();
    // A reset says more than the engine's generic "connection lost".
    const engineError = this.engineError?.code === 'CONNECTION_LOST' && this.socketError ? null : this.engineError;
    this.resolveClosed(this.localError ?? engineError ?? this.socketError);
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** A TCP connection failed before SSH started; `message` is one line fit for a user. */
export class ConnectError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause: unknown }) {
    super(message, options);
    this.name = 'ConnectError';
    this.code = code;
  }
}

const connectErrorText: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network is unreachable',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'temporary failure in name resolution',
  ECONNRESET: 'connection reset by peer',
};

/** Open a TCP connection, failing with a {@link ConnectError} after `timeoutMs` (0: no limit). */
export function dialTcp(host: string, port: number, timeoutMs = 0): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const where = `${host} port ${port}`;
    let timer: NodeJS.Timeout | null = null;
    const fail = (err: ConnectError) => {
      if (timer) clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? 'ECONNECT';
      fail(new ConnectError(code, `cannot connect to ${where}: ${connectErrorText[code] ?? err.message}`, { cause: err }));
    });
    socket.once('connect', () => {
      if (timer) clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    if (timeoutMs > 0) {
      timer = setTimeout(() => fail(new ConnectError('ETIMEDOUT', `cannot connect to ${where}: timed out after ${timeoutMs / 1000} s`)), timeoutMs);
    }
  });
}
