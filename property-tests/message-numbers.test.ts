/**
 * Every message number in every phase, in both roles (RFC 4253 11.4, RFC 4252 6, RFC 4254, strict
 * kex): a number we do not recognise gets SSH_MSG_UNIMPLEMENTED and the connection goes on; a
 * recognised number that is illegal in the phase (connection messages before authentication,
 * a server-only message from a client and the reverse, kex messages outside a key exchange) is
 * fatal with PROTOCOL_ERROR; the rest is handled by its layer. Inside a strict initial key
 * exchange every unexpected message is fatal.
 *
 * The expectation below is written from the RFCs' number tables, independently of the classifier.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyMessage, type MessageVerdict, type TransportPhase } from '../machines/transport.ts';
import { pureCrypto } from '../core/crypto/pure.ts';
import { DisconnectReason, SshProtocolError } from '../core/errors.ts';
import type { SshEngine } from '../core/engine.ts';
import { generatePrivateKey } from '../core/keys/private-key.ts';
import { seededRandom } from '../core/random.ts';
import { Pair } from '../core/testing/pair.ts';

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
/** RFC 4250 4.1.2 (and RFC 8308 EXT_INFO) as far as this implementation speaks them. */
const RECOGNISED = new Set([...range(1, 7), 20, 21, ...range(30, 34), ...range(50, 53), 60, 61, 80, 81, 82, ...range(90, 100)]);
const GENERIC = [1, 2, 3, 4];
/** Who may send what once the layer is running. */
const FROM_SERVER_AUTH = [51, 52, 53, 60, 7];
const FROM_CLIENT_AUTH = [50, 61];

function expected(phase: TransportPhase, role: 'client' | 'server', strict: boolean, msg: number): MessageVerdict {
  if (phase === 'identification' || phase === 'closed') return 'refuse';
  if (phase.startsWith('initialKex.')) {
    const step = phase.split('.')[1];
    const wanted = msg === 1 || (step === 'awaitingKexinit' ? msg === 20 : step === 'exchange' ? msg >= 30 && msg <= 34 : msg === 21);
    if (wanted) return 'accept';
    if (strict) return 'refuse';
    if (GENERIC.includes(msg)) return 'accept';
    return RECOGNISED.has(msg) ? 'refuse' : 'unimplemented';
  }
  const [, keys, layer] = phase.split('.');
  if (GENERIC.includes(msg)) return 'accept';
  if (!RECOGNISED.has(msg)) return 'unimplemented';
  if (keys === 'exchange') return msg >= 30 && msg <= 34 ? 'accept' : 'refuse';
  if (keys === 'awaitingNewkeys') return msg === 21 ? 'accept' : 'refuse';
  if (msg === 20) return 'accept';
  if (msg === 21 || (msg >= 30 && msg <= 34)) return 'refuse';
  const peerSends = role === 'client' ? 'server' : 'client';
  if (layer === 'service') return (peerSends === 'server' ? [6, 7] : [5, 7]).includes(msg) ? 'accept' : 'refuse';
  if (layer === 'userauth') return (peerSends === 'server' ? FROM_SERVER_AUTH : FROM_CLIENT_AUTH).includes(msg) ? 'accept' : 'refuse';
  if (msg >= 80) return 'accept';
  if (role === 'server' && msg === 50) return 'ignore'; // RFC 4252 5.1: requests after success
  if (role === 'client' && msg === 7) return 'accept'; // a second EXT_INFO after USERAUTH_SUCCESS (RFC 8308 2.4)
  return 'refuse';
}

const phases: TransportPhase[] = ['identification', 'initialKex.awaitingKexinit', 'initialKex.exchange', 'initialKex.awaitingNewkeys', 'closed'];
for (const keys of ['idle', 'awaitingKexinit', 'exchange', 'awaitingNewkeys'] as const) {
  for (const layer of ['service', 'userauth', 'connection'] as const) phases.push(`established.${keys}.${layer}`);
}

describe('message numbers × phases × roles', () => {
  it('the classifier says UNIMPLEMENTED, fatal or handled exactly as the number tables do', () => {
    const mismatches: string[] = [];
    for (const phase of phases)
      for (const role of ['client', 'server'] as const)
        for (const strict of [true, false])
          for (let msg = 0; msg < 256; msg++) {
            const got = classifyMessage(phase, role, strict, msg);
            const want = expected(phase, role, strict, msg);
            if (got !== want) mismatches.push(`${phase} ${role} strict=${strict} ${msg}: ${got}, want ${want}`);
          }
    expect(mismatches).toEqual([]);
  });

  it('the reported cases: 120, 70 and 42 while a server awaits USERAUTH_REQUEST get UNIMPLEMENTED; CHANNEL_OPEN and USERAUTH_SUCCESS from a client stay fatal', () => {
    for (const msg of [120, 70, 42, 8, 62, 79, 200, 255]) expect(classifyMessage('established.idle.userauth', 'server', true, msg)).toBe('unimplemented');
    for (const msg of [90, 52, 60, 31]) expect(classifyMessage('established.idle.userauth', 'server', true, msg)).toBe('refuse');
    for (const msg of [61, 50]) expect(classifyMessage('established.idle.userauth', 'client', true, msg)).toBe('refuse');
  });
});

// ------------------------------------------------------------------ the engine, for real

const hostKeys = [generatePrivateKey('ed25519', seededRandom('numbers host'), pureCrypto)];
type Injectable = { sendPacket(payload: Uint8Array): void };
const inject = (from: SshEngine, payload: Uint8Array) => (from as unknown as Injectable).sendPacket(payload);
const sent = (e: SshEngine) => e.statistics.packetsSent;

/**
 * A pair parked in `layer`, with `receiver`'s peer free to send: in userauth the receiver's own
 * pending decision is what keeps the exchange from moving on.
 */
function parked(layer: 'userauth' | 'connection', receiver: 'client' | 'server'): Pair {
  const pair = new Pair({
    client: { crypto: pureCrypto, username: 'u', clientAuth: { methods: ['password'] } },
    server: { crypto: pureCrypto, hostKeys },
    serverChains: [['password']],
    users: { u: { password: 'pw' } },
    clientPassword: 'pw',
    decide: (side, d) => {
      if (layer !== 'userauth') return undefined;
      // The side that receives must be free to decode; the other one waits on its own decision.
      if (receiver === 'server' && side === 'client' && d.kind === 'password') return 'defer';
      if (receiver === 'client' && side === 'server' && d.kind === 'authPassword') return 'defer';
      return undefined;
    },
  });
  pair.pump();
  const phase = (receiver === 'client' ? pair.client : pair.server).phase;
  expect(phase).toBe(`established.idle.${layer}`);
  return pair;
}

describe('the engine answers every number as the table says', () => {
  for (const layer of ['userauth', 'connection'] as const)
    for (const receiver of ['server', 'client'] as const) {
      it(`${receiver} in ${layer}: unknown numbers get UNIMPLEMENTED and the connection goes on; illegal assigned ones are PROTOCOL_ERROR`, () => {
        fc.assert(
          fc.property(fc.uint8Array({ maxLength: 64 }), (body) => {
            let pair = parked(layer, receiver);
            for (let msg = 0; msg < 256; msg++) {
              const verdict = expected(`established.idle.${layer}`, receiver, true, msg);
              if (verdict === 'accept' || verdict === 'ignore') continue; // handled by its layer; the garbage body is the layer's business
              if (pair.client.isClosed || pair.server.isClosed) pair = parked(layer, receiver);
              const to = receiver === 'client' ? pair.client : pair.server;
              const from = receiver === 'client' ? pair.server : pair.client;
              const events = receiver === 'client' ? pair.clientEvents : pair.serverEvents;
              const before = sent(to);
              const closedBefore = events.filter((e) => e.type === 'closed').length;
              inject(from, Uint8Array.of(msg, ...body));
              pair.pump();
              const closed = events.filter((e) => e.type === 'closed').slice(closedBefore);
              if (verdict === 'unimplemented') {
                expect(closed, `message ${msg}`).toEqual([]);
                expect(sent(to) - before, `message ${msg}: one UNIMPLEMENTED`).toBe(1);
                if (layer === 'connection') {
                  const seen = (receiver === 'client' ? pair.serverEvents : pair.clientEvents).filter((e) => e.type === 'unimplemented');
                  expect(seen.length, `message ${msg}: the sender heard UNIMPLEMENTED`).toBeGreaterThan(0);
                }
              } else {
                expect(closed, `message ${msg}`).toHaveLength(1);
                const error = closed[0]!.type === 'closed' ? closed[0]!.error : null;
                expect(error).toBeInstanceOf(SshProtocolError);
                expect((error as SshProtocolError).reason).toBe(DisconnectReason.PROTOCOL_ERROR);
              }
            }
          }),
          { numRuns: 3 },
        );
      });
    }
});
