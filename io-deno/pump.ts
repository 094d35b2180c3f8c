/**
 * The Deno pump: core/api's ConnectionDriver between one {@link SshEngine} and one `Deno.Conn`
 * (the same driver io-node's ConnectionPump runs over a `net.Socket`, DESIGN.md section 3).
 * Socket reads become `receive`, every flush of `pollTransmit` one write on the connection's
 * write chain, `pollTimeout` one timer; events go to the embedder and decisions may be answered
 * asynchronously.
 */
import type { SshEngine } from '../core/index.ts';
import { ConnectionDriver, type CloseReason, type DriverOptions } from '../core/api/index.ts';
import { connStream, denoTimer } from './runtime.ts';

export interface DenoPumpOptions extends DriverOptions {
  /** Monotonic milliseconds; default `performance.now()`. */
  readonly clock?: () => number;
}

export type DenoCloseReason = CloseReason;

export class DenoConnectionPump extends ConnectionDriver {
  constructor(
    engine: SshEngine,
    readonly conn: Deno.Conn,
    options: DenoPumpOptions,
  ) {
    const now = options.clock ?? (() => performance.now());
    super(engine, connStream(conn), { now, createTimer: (fire) => denoTimer(now, fire) }, options);
  }
}
