/**
 * Two engines joined in memory on virtual time: the quickest way to run the whole protocol with no
 * sockets. Used by the pair tests, the property tests and the Deno suite, so it must stay pure.
 *
 * `pump()` moves bytes both ways until neither side has anything to send, answering host-key
 * decisions as configured, and records every event and every byte (the transcript).
 */
import { SshEngine, type SshEngineOptions } from '../engine.ts';
import type { SshEvent } from '../events.ts';

export interface PairOptions {
  readonly client?: Partial<SshEngineOptions>;
  readonly server: Partial<SshEngineOptions> & Pick<SshEngineOptions, 'hostKeys'>;
  /** Answer to the client's host key decision (default true). */
  readonly trustHostKey?: boolean;
  /** Optionally split each flush into chunks before delivery (property tests vary this). */
  readonly split?: (bytes: Uint8Array) => Uint8Array[];
  readonly startTime?: number;
}

export class Pair {
  readonly client: SshEngine;
  readonly server: SshEngine;
  readonly clientEvents: SshEvent[] = [];
  readonly serverEvents: SshEvent[] = [];
  /** Every byte each side transmitted, in order. */
  readonly clientToServer: Uint8Array[] = [];
  readonly serverToClient: Uint8Array[] = [];
  now: number;

  constructor(private readonly options: PairOptions) {
    this.now = options.startTime ?? 0;
    this.client = new SshEngine({ role: 'client', now: this.now, ...options.client });
    this.server = new SshEngine({ role: 'server', now: this.now, ...options.server });
  }

  /** Move bytes until both sides are quiet. Returns the number of flushes delivered. */
  pump(maxRounds = 10_000): number {
    let delivered = 0;
    for (let round = 0; round < maxRounds; round++) {
      let moved = false;
      moved = this.drainEvents() || moved;
      const c = this.client.pollTransmit();
      if (c) {
        this.clientToServer.push(c);
        this.deliver(this.server, c);
        moved = true;
        delivered++;
      }
      const s = this.server.pollTransmit();
      if (s) {
        this.serverToClient.push(s);
        this.deliver(this.client, s);
        moved = true;
        delivered++;
      }
      moved = this.drainEvents() || moved;
      if (!moved) return delivered;
    }
    throw new Error('pair did not quiesce');
  }

  /** Advance virtual time, fire due timers on both sides, and pump. */
  advance(ms: number): void {
    this.now += ms;
    for (const e of [this.client, this.server]) {
      const t = e.pollTimeout();
      if (t !== null && t <= this.now) e.handleTimeout(this.now);
    }
    this.pump();
  }

  private deliver(to: SshEngine, bytes: Uint8Array): void {
    const chunks = this.options.split ? this.options.split(bytes) : [bytes];
    for (const chunk of chunks) to.receive(chunk, this.now);
  }

  private drainEvents(): boolean {
    let any = false;
    for (;;) {
      const e = this.client.pollEvent();
      if (!e) break;
      any = true;
      this.clientEvents.push(e);
      if (e.type === 'decision' && e.decision.kind === 'hostKey') {
        this.client.resolve(e.decision.id, this.options.trustHostKey ?? true, this.now);
      }
    }
    for (;;) {
      const e = this.server.pollEvent();
      if (!e) break;
      any = true;
      this.serverEvents.push(e);
    }
    return any;
  }

  eventsOf(side: 'client' | 'server', type: SshEvent['type']): SshEvent[] {
    return (side === 'client' ? this.clientEvents : this.serverEvents).filter((e) => e.type === type);
  }
}
