/**
 * The Deno pump: moves bytes, time and events between one {@link SshEngine} and one `Deno.Conn`,
 * the same job io-node's ConnectionPump does for a `net.Socket` (DESIGN.md section 3). Socket reads
 * become `receive`, every flush of `pollTransmit` one awaited `conn.write` chain, `pollTimeout` one
 * timer, events go to the embedder; decisions may be answered asynchronously.
 */
import type { SshEngine } from '../core/engine.ts';
import { DisconnectReason, type SshError } from '../core/errors.ts';
import type { Decision, SshEvent } from '../core/events.ts';

export interface DenoPumpOptions {
  /** The answer for `engine.resolve`, or a promise of it. A throw or rejection disconnects. */
  readonly onDecision: (decision: Decision) => unknown;
  readonly onEvent?: (event: SshEvent) => void;
  readonly clock?: () => number;
}

export type DenoCloseReason = SshError | Error | null;

const READ_BUFFER = 64 * 1024;

export class DenoConnectionPump {
  readonly closed: Promise<DenoCloseReason>;
  private readonly clock: () => number;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private timerDeadline: number | null = null;
  private writing: Promise<void> = Promise.resolve();
  private pendingDecisions = 0;
  private resumeReading: (() => void) | null = null;
  private localError: Error | null = null;
  private engineError: SshError | null = null;
  private pumping = false;
  private finished = false;
  private resolveClosed!: (reason: DenoCloseReason) => void;

  constructor(readonly engine: SshEngine, readonly conn: Deno.Conn, private readonly options: DenoPumpOptions) {
    this.clock = options.clock ?? (() => performance.now());
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    // Nagle would add a round trip of delay to every small SSH packet.
    if ('setNoDelay' in conn) (conn as Deno.TcpConn).setNoDelay(true);
    this.pump();
    void this.readLoop();
  }

  command(fn: (engine: SshEngine, now: number) => void): void {
    if (this.finished) return;
    fn(this.engine, this.clock());
    this.pump();
  }

  disconnect(description = 'disconnected by application'): void {
    if (this.engine.isClosed) return;
    this.command((engine, now) => engine.disconnect(DisconnectReason.BY_APPLICATION, description, now));
  }

  private async readLoop(): Promise<void> {
    const buffer = new Uint8Array(READ_BUFFER);
    for (;;) {
      if (this.pendingDecisions > 0 && !this.engine.isClosed) await new Promise<void>((r) => (this.resumeReading = r));
      let n: number | null;
      try {
        n = await this.conn.read(buffer);
      } catch {
        n = null;
      }
      if (n === null) {
        if (!this.engine.isClosed) {
          this.engine.receiveEof(this.clock());
          this.pump();
        }
        this.finish();
        return;
      }
      if (this.engine.isClosed) continue;
      this.engine.receive(buffer.subarray(0, n), this.clock());
      this.pump();
      // Let queued writes reach the socket before reading more: backpressure on a slow peer.
      await this.writing;
    }
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (;;) {
        const bytes = this.engine.pollTransmit();
        if (bytes) this.write(bytes);
        this.armTimer();
        const event = this.engine.pollEvent();
        if (event === null) break;
        this.dispatch(event);
      }
    } finally {
      this.pumping = false;
    }
    if (this.engine.isClosed) void this.writing.then(() => this.closeConn());
  }

  private write(bytes: Uint8Array): void {
    const copy = bytes.slice();
    this.writing = this.writing.then(async () => {
      let off = 0;
      try {
        while (off < copy.length) off += await this.conn.write(copy.subarray(off));
      } catch {
        /* the read side reports the loss */
      }
    });
  }

  private armTimer(): void {
    const deadline = this.engine.isClosed ? null : this.engine.pollTimeout();
    if (deadline === this.timerDeadline) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.timerDeadline = deadline;
    if (deadline === null) return;
    const timer = setTimeout(() => {
      this.timer = null;
      this.timerDeadline = null;
      if (this.engine.isClosed) return;
      this.engine.handleTimeout(this.clock());
      this.pump();
    }, Math.min(Math.max(0, Math.ceil(deadline - this.clock())), 2 ** 31 - 1));
    Deno.unrefTimer(timer);
    this.timer = timer;
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
      return this.failLocally(err);
    }
    if (!(answer instanceof Promise)) return this.answer(decision, answer);
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
    answer.then(
      (value) => {
        this.pendingDecisions--;
        this.resumeReading?.();
        this.resumeReading = null;
        if (!this.engine.isClosed) this.answer(decision, value);
        this.pump();
      },
      (err: unknown) => {
        this.pendingDecisions--;
        this.resumeReading?.();
        this.resumeReading = null;
        this.failLocally(err);
      },
    );
  }

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

  private closeConn(): void {
    try {
      this.conn.close();
    } catch {
      /* already closed */
    }
    this.finish();
  }

  private finish(): void {
    if (this.finished || !this.engine.isClosed) return;
    this.finished = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.resolveClosed(this.localError ?? this.engineError);
  }
}
