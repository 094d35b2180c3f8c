/**
 * The Node pump: core/api's ConnectionDriver between one {@link SshEngine} and one `net.Socket`.
 * It owns no protocol knowledge (DESIGN.md section 3): socket data becomes `receive`, every flush of
 * `pollTransmit` becomes one `socket.write`, `pollTimeout` drives a single OS timer, and events go to
 * the embedder. Decisions may be answered asynchronously; the answer is fed back with `resolve`.
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { SshEngine } from '../../core/index.ts';
import { ConnectionDriver, type DriverOptions } from '../../core/api/index.ts';
import { dialSocket, nodeTimer, socketStream } from './node-runtime.ts';

export type { CloseReason } from '../../core/api/index.ts';
export { ConnectError } from '../../core/api/index.ts';

export interface ConnectionPumpOptions extends DriverOptions {
  /** Monotonic milliseconds; default `performance.now()`. */
  readonly clock?: () => number;
}

/** core/api's driver over a node:net socket (kept under its old name for io-node's callers). */
export class ConnectionPump extends ConnectionDriver {
  constructor(
    engine: SshEngine,
    readonly socket: Socket,
    options: ConnectionPumpOptions,
  ) {
    const now = options.clock ?? (() => performance.now());
    super(engine, socketStream(socket), { now, createTimer: (fire) => nodeTimer(now, fire) }, options);
  }
}

/** Open a TCP connection, failing with a ConnectError after `timeoutMs` (0: no limit). */
export function dialTcp(host: string, port: number, timeoutMs = 0): Promise<Socket> {
  return dialSocket({ host, port }, { timeoutMs });
}
