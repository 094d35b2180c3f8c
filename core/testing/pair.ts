/**
 * Two engines joined in memory on virtual time: the quickest way to run the whole protocol with no
 * sockets. Used by the pair tests, the property tests and the Deno suite, so it must stay pure.
 *
 * `pump()` moves bytes both ways until neither side has anything to send, answering decisions
 * (through `decide`, or the defaults below), and records every event and every byte.
 *
 * Default answers: the client trusts the host key (`trustHostKey`), signs with `clientKeys`,
 * answers password prompts with `clientPassword` (null when unset); the server offers
 * `serverChains` (default publickey | password | keyboard-interactive) and accepts the
 * passwords and keys in `users`; keyboard-interactive asks one "Password:" prompt checked
 * against the same password.
 */
import type { CryptoProvider } from '../crypto/provider.ts';
import { SshEngine, type SshEngineOptions } from '../engine.ts';
import type { Decision, SshEvent } from '../events.ts';
import type { PrivateKey } from '../keys/private-key.ts';
import type { PublicKey } from '../keys/public-key.ts';
import { sign } from '../keys/signature.ts';
import { pureCrypto } from '../crypto/pure.ts';

export interface PairUser {
  readonly password?: string;
  readonly keys?: readonly PublicKey[];
}

export interface PairOptions {
  readonly client?: Partial<SshEngineOptions>;
  readonly server: Partial<SshEngineOptions> & Pick<SshEngineOptions, 'hostKeys'>;
  /** Answer to the client's host key decision (default true). */
  readonly trustHostKey?: boolean;
  readonly clientKeys?: readonly PrivateKey[];
  readonly clientPassword?: string;
  readonly serverChains?: ReadonlyArray<readonly string[]>;
  readonly users?: Readonly<Record<string, PairUser>>;
  /** Override any answer: return undefined to fall back to the default. */
  readonly decide?: (side: 'client' | 'server', decision: Decision, pair: Pair) => unknown;
  /** Report channel data consumed as soon as it arrives (default true). */
  readonly autoConsume?: boolean;
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
  /** Decisions left unanswered because `decide` returned the string 'defer'. */
  readonly deferred: Array<{ side: 'client' | 'server'; decision: Decision }> = [];
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
    for (const [side, engine, log] of [['client', this.client, this.clientEvents], ['server', this.server, this.serverEvents]] as const) {
      for (let e = engine.pollEvent(); e; e = engine.pollEvent()) {
        any = true;
        log.push(e);
        if (e.type === 'channelData' && (this.options.autoConsume ?? true) && !engine.isClosed) engine.consumed(e.channel, e.data.length, this.now);
        if (e.type !== 'decision') continue;
        const custom = this.options.decide?.(side, e.decision, this);
        if (custom === 'defer') {
          this.deferred.push({ side, decision: e.decision });
          continue;
        }
        engine.resolve(e.decision.id, custom !== undefined ? custom : this.defaultAnswer(e.decision), this.now);
      }
    }
    return any;
  }

  private defaultAnswer(d: Decision): unknown {
    const crypto: CryptoProvider = (this.options.client?.crypto ?? pureCrypto);
    const user = (name: string) => this.options.users?.[name];
    switch (d.kind) {
      case 'hostKey':
        return this.options.trustHostKey ?? true;
      case 'sign': {
        const key = this.options.clientKeys?.find((k) => equal(k.publicKey.blob, d.key.blob));
        return key ? sign(crypto, key, d.algorithm, d.data) : null;
      }
      case 'password':
        return this.options.clientPassword ?? null;
      case 'passwordChange':
        return null;
      case 'keyboardInteractive':
        return this.options.clientPassword === undefined ? null : d.prompts.map(() => this.options.clientPassword!);
      case 'authMethods':
        return this.options.serverChains ?? [['publickey'], ['password'], ['keyboard-interactive']];
      case 'authPassword':
        return user(d.username)?.password !== undefined && user(d.username)!.password === d.password;
      case 'authPublicKey':
        return (user(d.username)?.keys ?? []).some((k) => equal(k.blob, d.key.blob));
      case 'authKeyboardInteractive':
        if (d.responses === null) return { instruction: '', prompts: [{ prompt: 'Password: ', echo: false }] };
        return user(d.username)?.password !== undefined && d.responses[0] === user(d.username)!.password;
      case 'authHostbased':
        return false;
      case 'channelOpen':
        return true;
      case 'channelRequest':
        return true;
      case 'globalRequest':
        return false;
    }
  }

  eventsOf(side: 'client' | 'server', type: SshEvent['type']): SshEvent[] {
    return (side === 'client' ? this.clientEvents : this.serverEvents).filter((e) => e.type === type);
  }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
