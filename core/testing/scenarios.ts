/**
 * Protocol scenarios on a {@link Pair}, written once and run by both vitest and `deno test` (which
 * is how the Deno suite proves the core is portable). Each throws an Error describing the first
 * thing that went wrong.
 */
import type { CryptoProvider } from '../crypto/provider.ts';
import type { SshEvent } from '../events.ts';
import type { PrivateKey } from '../keys/private-key.ts';
import { seededRandom } from '../random.ts';
import { Pair } from './pair.ts';

export interface HandshakeChoice {
  readonly kex: string;
  readonly hostKey: string;
  readonly cipher: string;
  /** Ignored (implicit) for AEAD ciphers. */
  readonly mac: string;
}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

function closedEvents(events: SshEvent[]): SshEvent[] {
  return events.filter((e) => e.type === 'closed');
}

/** A full handshake and a password login, with exactly the algorithms chosen. */
export function handshakeScenario(choice: HandshakeChoice, hostKeys: readonly PrivateKey[], crypto: CryptoProvider, seed = 'handshake'): Pair {
  const algorithms = { kex: [choice.kex], hostKey: [choice.hostKey], cipher: [choice.cipher], mac: [choice.mac] };
  const pair = new Pair({
    client: { crypto, random: seededRandom(`${seed}:client`), algorithms, username: 'alice' },
    server: { crypto, random: seededRandom(`${seed}:server`), algorithms, hostKeys },
    serverChains: [['publickey'], ['password']],
    users: { alice: { password: 'wonderland' } },
    clientPassword: 'wonderland',
  });
  pair.pump();
  for (const [side, events] of [['client', pair.clientEvents], ['server', pair.serverEvents]] as const) {
    const closed = closedEvents(events);
    check(closed.length === 0, `${side} closed: ${JSON.stringify(closed.map((e) => e.type === 'closed' && e.error?.message))}`);
    const done = events.find((e) => e.type === 'kexComplete');
    check(done !== undefined && done.type === 'kexComplete', `${side} did not complete the key exchange`);
    const a = done.algorithms;
    const aead = choice.cipher.includes('poly1305') || choice.cipher.includes('gcm');
    check(a.kex === choice.kex && a.hostKey === choice.hostKey, `${side} negotiated ${a.kex}/${a.hostKey}`);
    check(a.cipherClientToServer === choice.cipher && a.cipherServerToClient === choice.cipher, `${side} negotiated cipher ${a.cipherClientToServer}`);
    check(a.macClientToServer === (aead ? null : choice.mac), `${side} negotiated mac ${a.macClientToServer}`);
    check(a.strictKex, `${side} did not negotiate strict kex`);
  }
  const failure = pair.clientEvents.find((e) => e.type === 'authFailure');
  check(failure !== undefined && failure.type === 'authFailure' && failure.methods.join(',') === 'publickey,password', 'client did not learn the auth methods');
  const success = pair.clientEvents.find((e) => e.type === 'authSuccess');
  check(success !== undefined && success.type === 'authSuccess' && success.method === 'password', 'client did not log in with the password');
  check(pair.serverEvents.some((e) => e.type === 'authSuccess' && e.username === 'alice'), 'server did not report the login');
  const sid = pair.client.sessionId;
  check(sid !== null && pair.server.sessionId !== null && sid.join() === pair.server.sessionId.join(), 'session ids differ');
  return pair;
}

/**
 * Re-key `times` times, alternating which side starts, with IGNORE traffic and global requests
 * interleaved; the requests' replies must all arrive, in order, none lost while traffic was held.
 */
export function rekeyScenario(hostKeys: readonly PrivateKey[], crypto: CryptoProvider, times: number, kex = 'curve25519-sha256'): Pair {
  const pair = new Pair({
    client: { crypto, random: seededRandom('rekey:client'), algorithms: { kex: [kex] }, username: 'anonymous' },
    server: { crypto, random: seededRandom('rekey:server'), algorithms: { kex: [kex] }, hostKeys, acceptNoneAuthentication: true },
  });
  pair.pump();
  check(pair.clientEvents.some((e) => e.type === 'authSuccess'), 'client did not authenticate with none');
  let requests = 0;
  for (let i = 0; i < times; i++) {
    const starter = i % 2 === 0 ? pair.client : pair.server;
    pair.client.globalRequest({ type: 'other', name: `before-${i}@test`, data: new Uint8Array(0) }, true, pair.now);
    requests++;
    starter.rekey(pair.now);
    // Sent while the key exchange runs: held by the starter until its NEWKEYS, then released in order.
    pair.client.globalRequest({ type: 'other', name: `during-${i}@test`, data: new Uint8Array(0) }, true, pair.now);
    requests++;
    pair.client.sendIgnore(new Uint8Array([i & 0xff]), pair.now);
    pair.server.sendIgnore(new Uint8Array(i % 64), pair.now);
    pair.pump();
  }
  const closed = [...closedEvents(pair.clientEvents), ...closedEvents(pair.serverEvents)];
  check(closed.length === 0, `connection closed during re-keys: ${JSON.stringify(closed)}`);
  const completed = pair.clientEvents.filter((e) => e.type === 'kexComplete').length;
  check(completed === times + 1, `client completed ${completed} key exchanges, expected ${times + 1}`);
  check(pair.server.statistics.keyExchanges === times + 1, `server completed ${pair.server.statistics.keyExchanges} key exchanges`);
  const replies = pair.clientEvents.filter((e) => e.type === 'globalReply').map((e) => (e.type === 'globalReply' ? e.name : ''));
  const expected: string[] = [];
  for (let i = 0; i < times; i++) expected.push(`before-${i}@test`, `during-${i}@test`);
  check(replies.length === requests && replies.join() === expected.join(), `global replies out of order or lost: got ${replies.length} of ${requests}`);
  return pair;
}

/**
 * A session channel end to end: exec, output on both streams with a 1 KiB window, exit-status,
 * EOF and CLOSE in OpenSSH's order; every byte must arrive once, in order.
 */
export function sessionScenario(hostKeys: readonly PrivateKey[], crypto: CryptoProvider, bytes = 64 * 1024): Pair {
  const pair = new Pair({
    client: { crypto, random: seededRandom('session:client'), username: 'anonymous', channelWindow: 1024, channelMaxPacket: 512 },
    server: { crypto, random: seededRandom('session:server'), hostKeys, acceptNoneAuthentication: true, channelWindow: 1024, channelMaxPacket: 512 },
  });
  pair.pump();
  const ch = pair.client.openSession(pair.now);
  pair.pump();
  pair.client.channelRequest(ch, { type: 'exec', command: 'produce' }, true, pair.now);
  pair.pump();
  const decision = pair.serverEvents.find((e) => e.type === 'decision' && e.decision.kind === 'channelRequest');
  check(decision?.type === 'decision' && decision.decision.kind === 'channelRequest', 'server saw no exec request');
  const sch = decision.decision.kind === 'channelRequest' ? decision.decision.channel : -1;
  const payload = Uint8Array.from({ length: bytes }, (_, i) => (i * 13 + 5) & 0xff);
  pair.server.write(sch, payload, pair.now);
  pair.server.write(sch, payload.subarray(0, 1000), pair.now, 1);
  pair.server.eof(sch, pair.now);
  pair.server.channelRequest(sch, { type: 'exit-status', status: 0 }, false, pair.now);
  pair.server.close(sch, pair.now);
  pair.pump();
  const got: number[] = [];
  const err: number[] = [];
  for (const e of pair.clientEvents) if (e.type === 'channelData' && e.channel === ch) (e.dataType === 1 ? err : got).push(...e.data);
  check(got.length === payload.length && got.every((b, i) => b === payload[i]), `stdout: got ${got.length} of ${payload.length} bytes or wrong order`);
  check(err.length === 1000, `stderr: got ${err.length} bytes`);
  check(pair.clientEvents.some((e) => e.type === 'channelRequest' && e.request.type === 'exit-status'), 'no exit-status');
  check(pair.clientEvents.some((e) => e.type === 'channelClosed' && e.channel === ch), 'channel did not close');
  return pair;
}
