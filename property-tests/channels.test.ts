/**
 * Model-based test of the connection layer (fast-check `commands`): random interleavings of opens,
 * writes, consumption, EOF, CLOSE and re-keys on a client/server pair in memory, with windows and
 * packets down to 1 byte. After every step: windows stay within [0, 2^32-1] and the granted window
 * never exceeds what was configured, nothing arrives after EOF or CLOSE, and what arrived is a
 * prefix of what was written (no loss, duplication or reordering). At the end, consuming everything
 * must deliver every byte exactly once and let every close handshake complete: no consumption
 * schedule can stall a channel.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pureCrypto } from '../core/crypto/pure.ts';
import type { SshEngine } from '../core/engine.ts';
import { generatePrivateKey } from '../core/keys/private-key.ts';
import { seededRandom } from '../core/random.ts';
import { Pair } from '../core/testing/pair.ts';

const hostKeys = [generatePrivateKey('ed25519', seededRandom('model host'), pureCrypto)];
type Side = 'client' | 'server';

interface ChannelModel {
  /** Channel id on each side (the server's is learned when the open arrives). */
  ids: Record<Side, number>;
  written: Record<Side, number[]>;
  eof: Record<Side, boolean>;
  closed: Record<Side, boolean>;
  /** Names of the client's want-reply requests, in the order sent. */
  requests: string[];
}

interface Model {
  channels: ChannelModel[];
}

class Real {
  readonly pair: Pair;
  /** Bytes received per (side, channel id), and the events after EOF/CLOSE we must never see. */
  readonly received = new Map<string, number[]>();
  readonly eofSeen = new Set<string>();
  readonly closedSeen = new Set<string>();
  private seenEvents: Record<Side, number> = { client: 0, server: 0 };
  readonly resolved = new Set<number>();
  readonly answers = new Map<number, boolean>();
  violations: string[] = [];

  constructor(window: number, maxPacket: number) {
    this.pair = new Pair({
      autoConsume: false,
      // Channel requests are answered late, in any order, by ResolveCmd.
      decide: (side, d) => (side === 'server' && d.kind === 'channelRequest' ? 'defer' : undefined),
      client: { crypto: pureCrypto, random: seededRandom('model c'), username: 'm', channelWindow: window, channelMaxPacket: maxPacket },
      server: { crypto: pureCrypto, random: seededRandom('model s'), hostKeys, acceptNoneAuthentication: true, channelWindow: window, channelMaxPacket: maxPacket },
    });
    this.pair.pump();
  }

  engine(side: Side): SshEngine {
    return side === 'client' ? this.pair.client : this.pair.server;
  }

  pump(): void {
    this.pair.pump();
    for (const side of ['client', 'server'] as const) {
      const events = side === 'client' ? this.pair.clientEvents : this.pair.serverEvents;
      for (; this.seenEvents[side] < events.length; this.seenEvents[side]++) {
        const e = events[this.seenEvents[side]]!;
        if (e.type === 'closed') this.violations.push(`${side} closed: ${e.error?.message}`);
        if (!('channel' in e)) continue;
        const key = `${side}:${e.channel}`;
        if (this.closedSeen.has(key) && e.type !== 'channelOpenConfirmed') this.violations.push(`${key}: ${e.type} after channelClosed`);
        if (e.type === 'channelData') {
          if (this.eofSeen.has(key)) this.violations.push(`${key}: data after EOF`);
          const list = this.received.get(key) ?? [];
          list.push(...e.data);
          this.received.set(key, list);
        }
        if (e.type === 'channelEof') this.eofSeen.add(key);
        if (e.type === 'channelClosed') this.closedSeen.add(key);
      }
    }
  }

  /** A reopened id starts a new channel: forget what the previous one received. */
  reset(side: Side, id: number): void {
    const key = `${side}:${id}`;
    this.received.delete(key);
    this.eofSeen.delete(key);
    this.closedSeen.delete(key);
  }

  checkInvariants(model: Model, window: number): void {
    expect(this.violations).toEqual([]);
    for (const ch of model.channels) {
      for (const side of ['client', 'server'] as const) {
        const other: Side = side === 'client' ? 'server' : 'client';
        const got = this.received.get(`${other}:${ch.ids[other]}`) ?? [];
        const sent = ch.written[side];
        expect(got.length).toBeLessThanOrEqual(sent.length);
        for (let i = 0; i < got.length; i++) if (got[i] !== sent[i]) throw new Error(`${side}→${other} byte ${i} differs`);
        if (ch.closed[side] || ch.closed[other]) continue;
        const info = this.engine(side).channelInfo(ch.ids[side]);
        expect(info.remoteWindow).toBeGreaterThanOrEqual(0);
        expect(info.remoteWindow).toBeLessThanOrEqual(0xffffffff);
        expect(info.localWindow).toBeGreaterThanOrEqual(0);
        expect(info.localWindow).toBeLessThanOrEqual(window);
      }
    }
  }
}

type Cmd = fc.Command<Model, Real>;

const liveChannel = (m: Model, i: number) => m.channels[i % Math.max(1, m.channels.length)];

class OpenCmd implements Cmd {
  check(m: Model) {
    return m.channels.filter((c) => !(c.closed.client && c.closed.server)).length < 4;
  }
  run(m: Model, r: Real) {
    const id = r.pair.client.openSession(r.pair.now);
    r.reset('client', id);
    r.pump();
    const open = [...r.pair.serverEvents].reverse().find((e) => e.type === 'decision' && e.decision.kind === 'channelOpen');
    const serverId = open?.type === 'decision' && open.decision.kind === 'channelOpen' ? open.decision.channel : -1;
    r.reset('server', serverId);
    m.channels = m.channels.filter((c) => !(c.ids.client === id && c.closed.client && c.closed.server));
    m.channels.push({ ids: { client: id, server: serverId }, written: { client: [], server: [] }, eof: { client: false, server: false }, closed: { client: false, server: false }, requests: [] });
  }
  toString() {
    return 'open';
  }
}

class WriteCmd implements Cmd {
  constructor(readonly side: Side, readonly index: number, readonly length: number, readonly seed: number) {}
  check(m: Model) {
    const ch = liveChannel(m, this.index);
    return !!ch && !ch.eof[this.side] && !ch.closed[this.side] && !ch.closed.client && !ch.closed.server;
  }
  run(m: Model, r: Real) {
    const ch = liveChannel(m, this.index)!;
    const data = Uint8Array.from({ length: this.length }, (_, i) => (this.seed + i * 7) & 0xff);
    r.engine(this.side).write(ch.ids[this.side], data, r.pair.now);
    ch.written[this.side].push(...data);
    r.pump();
  }
  toString() {
    return `write(${this.side}, ${this.index}, ${this.length})`;
  }
}

class ConsumeCmd implements Cmd {
  constructor(readonly side: Side, readonly index: number, readonly fraction: number) {}
  check(m: Model) {
    return !!liveChannel(m, this.index);
  }
  run(m: Model, r: Real) {
    const ch = liveChannel(m, this.index)!;
    const engine = r.engine(this.side);
    const id = ch.ids[this.side];
    if (ch.closed.client && ch.closed.server) return;
    let unconsumed = 0;
    try {
      unconsumed = engine.channelInfo(id).unconsumed;
    } catch {
      return; // the channel is gone on this side
    }
    const n = Math.floor(unconsumed * this.fraction);
    if (n > 0) engine.consumed(id, n, r.pair.now);
    r.pump();
  }
  toString() {
    return `consume(${this.side}, ${this.index}, ${this.fraction.toFixed(2)})`;
  }
}

class EofCmd implements Cmd {
  constructor(readonly side: Side, readonly index: number) {}
  check(m: Model) {
    const ch = liveChannel(m, this.index);
    return !!ch && !ch.eof[this.side] && !ch.closed.client && !ch.closed.server;
  }
  run(m: Model, r: Real) {
    const ch = liveChannel(m, this.index)!;
    r.engine(this.side).eof(ch.ids[this.side], r.pair.now);
    ch.eof[this.side] = true;
    r.pump();
  }
  toString() {
    return `eof(${this.side}, ${this.index})`;
  }
}

/** A graceful close: only after both sides said EOF and everything was consumed and delivered. */
class CloseCmd implements Cmd {
  constructor(readonly side: Side, readonly index: number) {}
  check(m: Model) {
    const ch = liveChannel(m, this.index);
    return !!ch && ch.eof.client && ch.eof.server && !ch.closed.client && !ch.closed.server;
  }
  run(m: Model, r: Real) {
    const ch = liveChannel(m, this.index)!;
    drain(r, m);
    r.engine(this.side).close(ch.ids[this.side], r.pair.now);
    ch.closed.client = ch.closed.server = true;
    r.pump();
  }
  toString() {
    return `close(${this.side}, ${this.index})`;
  }
}

/** The client asks something with want-reply; the server's answer comes whenever ResolveCmd says. */
class RequestCmd implements Cmd {
  constructor(readonly index: number, readonly n: number) {}
  check(m: Model) {
    const ch = liveChannel(m, this.index);
    return !!ch && !ch.closed.client && !ch.closed.server;
  }
  run(m: Model, r: Real) {
    const ch = liveChannel(m, this.index)!;
    r.pair.client.channelRequest(ch.ids.client, { type: 'env', name: `V${this.n}`, value: String(this.n) }, true, r.pair.now);
    ch.requests.push(`V${this.n}`);
    r.pump();
  }
  toString() {
    return `request(${this.index}, V${this.n})`;
  }
}

/** Answer one deferred request decision — any of them, not necessarily the oldest. */
class ResolveCmd implements Cmd {
  constructor(readonly pick: number, readonly answer: boolean) {}
  check() {
    return true;
  }
  run(_m: Model, r: Real) {
    const open = r.pair.deferred.filter((d) => !r.resolved.has(d.decision.id));
    if (open.length === 0) return;
    const d = open[this.pick % open.length]!;
    r.resolved.add(d.decision.id);
    if (r.pair.server.isClosed) return;
    r.answers.set(d.decision.id, this.answer);
    r.pair.server.resolve(d.decision.id, this.answer, r.pair.now);
    r.pump();
  }
  toString() {
    return `resolve(${this.pick}, ${this.answer})`;
  }
}

class RekeyCmd implements Cmd {
  constructor(readonly side: Side) {}
  check() {
    return true;
  }
  run(_m: Model, r: Real) {
    const e = r.engine(this.side);
    if (e.phase.startsWith('established.idle.')) e.rekey(r.pair.now);
    r.pump();
  }
  toString() {
    return `rekey(${this.side})`;
  }
}

/** Consume everything on both sides until the pair is quiet. */
function drain(r: Real, m: Model): void {
  for (let round = 0; round < 10_000; round++) {
    let any = false;
    for (const ch of m.channels) {
      for (const side of ['client', 'server'] as const) {
        let info;
        try {
          info = r.engine(side).channelInfo(ch.ids[side]);
        } catch {
          continue;
        }
        if (info.unconsumed > 0) {
          r.engine(side).consumed(ch.ids[side], info.unconsumed, r.pair.now);
          any = true;
        }
      }
    }
    r.pump();
    if (!any) return;
  }
  throw new Error('drain did not finish: a channel stalls');
}

const side = fc.constantFrom<Side>('client', 'server');
const commands = [
  fc.constant(new OpenCmd()),
  fc.tuple(side, fc.nat(7), fc.integer({ min: 1, max: 6000 }), fc.nat(255)).map(([s, i, n, seed]) => new WriteCmd(s, i, n, seed)),
  fc.tuple(side, fc.nat(7), fc.double({ min: 0, max: 1, noNaN: true })).map(([s, i, f]) => new ConsumeCmd(s, i, f)),
  fc.tuple(side, fc.nat(7)).map(([s, i]) => new EofCmd(s, i)),
  fc.tuple(side, fc.nat(7)).map(([s, i]) => new CloseCmd(s, i)),
  side.map((s) => new RekeyCmd(s)),
  fc.tuple(fc.nat(7), fc.nat(1000)).map(([i, n]) => new RequestCmd(i, n)),
  fc.tuple(fc.nat(20), fc.boolean()).map(([p, a]) => new ResolveCmd(p, a)),
];

describe('channel model', () => {
  it('random operations keep windows sane, deliver every byte once and in order, and never stall', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8192 }), fc.integer({ min: 1, max: 4096 }), fc.commands(commands, { maxCommands: 40 }), (window, maxPacket, cmds) => {
        const real = new Real(window, Math.min(maxPacket, 32768));
        const model: Model = { channels: [] };
        fc.modelRun(() => ({ model, real }), cmds);
        real.checkInvariants(model, window);
        // Late answers for whatever is still pending, newest first (the worst order for the queue).
        for (const d of [...real.pair.deferred].reverse()) {
          if (real.resolved.has(d.decision.id)) continue;
          real.resolved.add(d.decision.id);
          real.answers.set(d.decision.id, d.decision.id % 2 === 0);
          real.pair.server.resolve(d.decision.id, d.decision.id % 2 === 0, real.pair.now);
        }
        real.pump();
        // Replies arrive in request order, each carrying the answer given to its own decision.
        for (const ch of model.channels) {
          if (ch.closed.client) continue;
          const replies = real.pair.clientEvents.filter((e) => e.type === 'channelRequestReply' && e.channel === ch.ids.client).map((e) => (e.type === 'channelRequestReply' ? e.success : null));
          const expected = real.pair.deferred
            .filter((d) => d.decision.kind === 'channelRequest' && d.decision.channel === ch.ids.server && d.decision.request.type === 'env' && ch.requests.includes(d.decision.request.name))
            .map((d) => real.answers.get(d.decision.id));
          expect(replies.slice(-expected.length || replies.length)).toEqual(expected);
          expect(expected.length).toBe(ch.requests.length);
        }
        // End: everyone says EOF, consumes everything, closes; then everything must have arrived.
        for (const ch of model.channels) {
          for (const s of ['client', 'server'] as const) {
            if (!ch.eof[s] && !ch.closed.client) {
              real.engine(s).eof(ch.ids[s], real.pair.now);
              ch.eof[s] = true;
            }
          }
        }
        real.pump();
        drain(real, model);
        for (const ch of model.channels) {
          for (const s of ['client', 'server'] as const) {
            const other: Side = s === 'client' ? 'server' : 'client';
            expect(real.received.get(`${other}:${ch.ids[other]}`) ?? []).toEqual(ch.written[s]);
          }
          if (!ch.closed.client) {
            real.engine('client').close(ch.ids.client, real.pair.now);
            ch.closed.client = ch.closed.server = true;
          }
        }
        real.pump();
        for (const ch of model.channels) {
          expect(real.closedSeen.has(`client:${ch.ids.client}`)).toBe(true);
          expect(real.closedSeen.has(`server:${ch.ids.server}`)).toBe(true);
        }
        expect(real.pair.client.statistics.keyExchanges).toBe(real.pair.server.statistics.keyExchanges);
        expect(real.violations).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });
});
