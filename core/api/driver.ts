/**
 * The connection driver: moves bytes, time and events between one {@link SshEngine} and one
 * {@link ByteStream}, written once for every runtime (DESIGN.md section 3; the engine's polling
 * order is documented on SshEngine). Stream data becomes `receive`, every flush of `pollTransmit`
 * one `write`, `pollTimeout` arms the connection's single timer, events go to the embedder, and
 * decisions may be answered later: the answer is fed back with `resolve`.
 *
 * Backpressure: reading pauses while the stream's send buffer is above its mark (a peer that does
 * not read us stops getting read) and while a blocking decision is open (the engine would only
 * buffer what we feed it).
 */
import type { SshEngine } from '../engine.ts';
import { DisconnectReason, type SshError } from '../errors.ts';
import type { Decision, SshEvent } from '../events.ts';
import type { ChannelHost } from './channel.ts';
import type { ByteStream, Runtime, RuntimeTimer } from './runtime.ts';

export interface DriverOptions {
  /**
   * Called for every decision; the returned value (or what the returned promise settles to) is the
   * answer for `engine.resolve`. A throw or rejection disconnects and becomes the close reason.
   */
  readonly onDecision: (decision: Decision) => unknown;
  /** Every other event, `closed` included. */
  readonly onEvent?: (event: SshEvent) => void;
  /** After the engine took an answer (e.g. a channel we confirmed is open from now on). */
  readonly onAnswered?: (decision: Decision, answer: unknown) => void;
}

/** Why the connection ended: the engine's error, the stream's, the application's, or null for a clean local goodbye. */
export type CloseReason = SshError | Error | null;

type Clock = Pick<Runtime, 'now' | 'createTimer'>;

/** After the engine closed and we ended the stream, how long the peer has to close before we drop it. */
export const CLOSE_LINGER_MS = 2000;

export class ConnectionDriver {
  /** Settles once the engine has closed and the stream is ending; never rejects. */
  readonly closed: Promise<CloseReason>;
  /** Settles once the stream itself is gone (the peer closed, or the linger after our goodbye ran out). */
  readonly streamClosed: Promise<void>;

  private readonly timer: RuntimeTimer;
  private timerDeadline: number | null = null;
  private pendingDecisions = 0;
  private writeBlocked = false;
  private paused = false;
  private streamError: Error | null = null;
  private localError: Error | null = null;
  private engineError: SshError | null = null;
  private streamGone = false;
  private finished = false;
  private pumping = false;
  private resolveClosed!: (reason: CloseReason) => void;
  private resolveStreamClosed!: () => void;

  constructor(
    readonly engine: SshEngine,
    readonly stream: ByteStream,
    private readonly clock: Clock,
    private readonly options: DriverOptions,
  ) {
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.streamClosed = new Promise((resolve) => (this.resolveStreamClosed = resolve));
    this.timer = clock.createTimer(() => this.onTimer());
    stream.start({
      data: (bytes) => this.input(() => engine.receive(bytes, clock.now())),
      end: () => this.input(() => engine.receiveEof(clock.now())),
      close: (error) => {
        this.streamError ??= error;
        this.streamGone = true;
        this.resolveStreamClosed();
        if (this.finished) this.timer.arm(null);
        this.input(() => engine.receiveEof(clock.now()));
        this.finish();
      },
      drain: () => {
        this.writeBlocked = false;
        this.updateReading();
      },
    });
    // The engine queued its identification and KEXINIT at construction.
    this.pump();
  }

  /** Run engine commands (e.g. `(e, now) => e.rekey(now)`) and move their output. */
  command(fn: (engine: SshEngine, now: number) => void): void {
    if (this.finished) return;
    fn(this.engine, this.clock.now());
    this.pump();
  }

  /** Send DISCONNECT (BY_APPLICATION) and end the stream once it is flushed. Idempotent. */
  disconnect(description = 'disconnected by application'): void {
    if (this.engine.isClosed) return;
    this.command((engine, now) => engine.disconnect(DisconnectReason.BY_APPLICATION, description, now));
  }

  /** End the connection because the application failed (the error becomes the close reason). */
  fail(error: Error): void {
    this.localError ??= error;
    if (!this.engine.isClosed) this.engine.disconnect(DisconnectReason.BY_APPLICATION, error.message, this.clock.now());
    this.pump();
  }

  /** What the API's channels may do to this connection: commands while it is open, and channel state. */
  channelHost(): ChannelHost {
    return {
      command: (fn) => {
        if (this.engine.isClosed) return false;
        this.command(fn);
        return true;
      },
      info: (id) => {
        if (this.engine.isClosed) return null;
        try {
          return this.engine.channelInfo(id);
        } catch {
          return null;
        }
      },
    };
  }

  get isFinished(): boolean {
    return this.finished;
  }

  /** Input from the stream; what arrives after the engine closed is drained and dropped. */
  private input(fn: () => void): void {
    if (this.engine.isClosed) return;
    fn();
    this.pump();
  }

  private onTimer(): void {
    this.timerDeadline = null;
    if (this.engine.isClosed) {
      // The linger after our goodbye ran out: a peer that never closes does not hold the socket.
      if (!this.streamGone) this.stream.destroy();
      return;
    }
    this.engine.handleTimeout(this.clock.now());
    this.pump();
  }

  /** The engine's order: transmit, timeout, events — until no event is left. */
  private pump(): void {
    // A handler may issue a command from inside an event; the outer loop picks its output up.
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
    if (this.engine.isClosed) this.endStream();
    this.updateReading();
  }

  private flushTransmit(): void {
    for (let bytes = this.engine.pollTransmit(); bytes !== null; bytes = this.engine.pollTransmit()) {
      if (this.streamGone) continue;
      if (!this.stream.write(bytes)) this.writeBlocked = true;
    }
  }

  private armTimer(): void {
    if (this.finished) return;
    const deadline = this.engine.isClosed ? null : this.engine.pollTimeout();
    if (deadline === this.timerDeadline) return;
    this.timerDeadline = deadline;
    this.timer.arm(deadline);
  }

  private dispatch(event: SshEvent): void {
    if (event.type !== 'decision') {
      if (event.type === 'closed') this.engineError = event.error;
      this.options.onEvent?.(event);
      return;
    }
    const decision = event.decision;
    let answer: unknown;
    try {
      answer = this.options.onDecision(decision);
    } catch (err) {
      this.fail(asError(err));
      return;
    }
    if (!isPromiseLike(answer)) {
      this.answer(decision, answer);
      return;
    }
    // Connection decisions (a slow forward connect) must not stall the other channels.
    if (decision.blocking) this.pendingDecisions++;
    this.updateReading();
    answer.then(
      (value) => {
        if (decision.blocking) this.pendingDecisions--;
        if (!this.engine.isClosed) this.answer(decision, value);
        this.pump();
      },
      (err: unknown) => {
        if (decision.blocking) this.pendingDecisions--;
        this.fail(asError(err));
      },
    );
  }

  /** An answer the engine refuses (the wrong type for the decision) is the handler's bug: end with it. */
  private answer(decision: Decision, value: unknown): void {
    try {
      this.engine.resolve(decision.id, value, this.clock.now());
    } catch (err) {
      this.fail(asError(err));
      return;
    }
    this.options.onAnswered?.(decision, value);
  }

  private updateReading(): void {
    if (this.streamGone) return;
    // After close we keep reading (and dropping) so the peer's close reaches us without a reset.
    const stop = !this.engine.isClosed && (this.writeBlocked || this.pendingDecisions > 0);
    if (stop && !this.paused) (this.paused = true, this.stream.pause());
    else if (!stop && this.paused) (this.paused = false, this.stream.resume());
  }

  private endStream(): void {
    if (!this.streamGone && !this.finished) this.stream.end();
    this.finish();
  }

  private finish(): void {
    if (this.finished || !this.engine.isClosed) return;
    this.finished = true;
    this.timerDeadline = null;
    this.timer.arm(this.streamGone ? null : this.clock.now() + CLOSE_LINGER_MS);
    // A reset says more than the engine's generic "connection lost".
    const engineError = this.engineError?.code === 'CONNECTION_LOST' && this.streamError ? null : this.engineError;
    this.resolveClosed(this.localError ?? engineError ?? this.streamError);
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
