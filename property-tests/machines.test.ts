/**
 * Every (machine state × incoming message) pair is either a legal transition or a protocol error:
 * the transport classifier is total and never lets a layer's messages through early, and the two
 * authentication layers, fed arbitrary message sequences with arbitrary bodies, only ever move
 * between their own states or throw SshProtocolError — a client can never authenticate itself.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyMessage, type TransportPhase } from '../machines/transport.ts';
import { classifyClientAuthMessage, type ClientAuthState } from '../machines/client-auth.ts';
import { classifyServerAuthMessage, type ServerAuthState } from '../machines/server-auth.ts';
import { channelAccepts, type ChannelMessage, type ChannelPhase } from '../machines/channel.ts';
import { ClientAuth } from '../core/auth/client.ts';
import type { AuthHost } from '../core/auth/host.ts';
import { ServerAuth } from '../core/auth/server.ts';
import { pureCrypto } from '../core/crypto/pure.ts';
import { SshProtocolError, SshUsageError } from '../core/errors.ts';
import type { DecisionBody } from '../core/events.ts';

const phases: TransportPhase[] = ['identification', 'initialKex.awaitingKexinit', 'initialKex.exchange', 'initialKex.awaitingNewkeys', 'closed'];
for (const keys of ['idle', 'awaitingKexinit', 'exchange', 'awaitingNewkeys'] as const) {
  for (const layer of ['service', 'userauth', 'connection'] as const) phases.push(`established.${keys}.${layer}`);
}

describe('transport classifier', () => {
  it('is total and keeps each layer closed until its time', () => {
    for (const phase of phases) {
      for (const role of ['client', 'server'] as const) {
        for (const strict of [true, false]) {
          for (let msg = 0; msg < 256; msg++) {
            const v = classifyMessage(phase, role, strict, msg);
            expect(['accept', 'refuse', 'unimplemented', 'ignore']).toContain(v);
            if (msg >= 80 && msg <= 127 && v === 'accept') expect(phase.endsWith('.connection')).toBe(true);
            if (msg >= 50 && msg <= 79 && v === 'accept') expect(phase.endsWith('.userauth')).toBe(true);
            if (role === 'server' && (msg === 51 || msg === 52 || msg === 53) ) expect(v).not.toBe('accept');
            if (role === 'client' && msg === 50) expect(v).not.toBe('accept');
            if (strict && phase.startsWith('initialKex') && v !== 'refuse') expect([1, 20, 21].includes(msg) || (msg >= 30 && msg <= 49)).toBe(true);
            if (phase === 'identification' || phase === 'closed') expect(v).toBe('refuse');
          }
        }
      }
    }
  });
});

describe('auth and channel classifiers', () => {
  const clientStates: ClientAuthState[] = ['idle', 'awaitingKeyAnswer', 'signing', 'askingPassword', 'awaitingPasswordResult', 'askingPasswordChange', 'awaitingKbdInfo', 'answeringKbd', 'awaitingResult', 'authenticated', 'failed'];
  const serverStates: ServerAuthState[] = ['awaitingRequest', 'deciding', 'awaitingKbdResponse', 'authenticated'];
  it('client: server replies only while waiting for one; nothing after the end', () => {
    for (const s of clientStates) {
      for (let msg = 0; msg < 256; msg++) {
        const m = classifyClientAuthMessage(s, msg);
        if (s === 'authenticated' || s === 'failed') expect(m).toBeNull();
        if (m === 'success') expect(['awaitingResult', 'awaitingPasswordResult', 'awaitingKbdInfo']).toContain(s);
        if (m !== null && m !== 'banner') expect([51, 52, 60]).toContain(msg);
      }
    }
  });
  it('server: only requests, and info responses while prompting', () => {
    for (const s of serverStates) {
      for (let msg = 0; msg < 256; msg++) {
        const m = classifyServerAuthMessage(s, msg);
        if (m === 'request') expect(msg).toBe(50);
        if (m === 'infoResponse') expect([msg, s]).toEqual([61, 'awaitingKbdResponse']);
        if (s === 'authenticated' || s === 'deciding') expect(m).toBeNull();
      }
    }
  });
  it('channel: nothing after the peer closed, no data after its EOF', () => {
    const messages: ChannelMessage[] = ['confirmation', 'failure', 'windowAdjust', 'data', 'eof', 'close', 'request', 'success', 'requestFailure'];
    const halves = ['open', 'eof', 'closed'] as const;
    // The phases channelPhaseOf can produce: both halves open while opening, both closed at the end.
    const reachable: ChannelPhase[] = [{ stage: 'opening', send: 'open', receive: 'open' }, { stage: 'failed', send: 'closed', receive: 'closed' }, { stage: 'closed', send: 'closed', receive: 'closed' }];
    for (const send of halves) for (const receive of halves) reachable.push({ stage: 'open', send, receive });
    for (const phase of reachable) {
      const { stage, receive } = phase;
      {
        {
          for (const m of messages) {
            for (const weOpened of [true, false]) {
              const ok = channelAccepts(phase, m, weOpened);
              if (receive === 'closed' || stage === 'closed' || stage === 'failed') expect(ok).toBe(false);
              if ((m === 'data' || m === 'eof') && receive !== 'open') expect(ok).toBe(false);
              if (stage === 'opening') expect(ok).toBe(weOpened && (m === 'confirmation' || m === 'failure'));
            }
          }
        }
      }
    }
  });
});

function fakeHost(answer: (d: DecisionBody) => unknown): AuthHost & { succeededCount: number } {
  const host = {
    succeededCount: 0,
    crypto: pureCrypto,
    sessionId: () => new Uint8Array(32).fill(7),
    serverSigAlgs: () => ['ssh-ed25519', 'rsa-sha2-512'],
    send: () => {},
    emit: () => {},
    ask: (d: DecisionBody, onAnswer: (a: unknown) => void) => onAnswer(answer(d)),
    succeeded: () => {
      host.succeededCount++;
    },
    setPolicy: () => {},
  };
  return host;
}

const message = fc.tuple(fc.constantFrom(50, 51, 52, 53, 60, 61, 62, 66, 79), fc.uint8Array({ maxLength: 120 }));

describe('authentication layers under arbitrary input', () => {
  it('server: random requests never throw anything but protocol errors, and never authenticate when every answer is no', () => {
    fc.assert(
      fc.property(fc.array(message, { maxLength: 20 }), (msgs) => {
        const host = fakeHost((d) => (d.kind === 'authMethods' ? [['publickey'], ['password'], ['keyboard-interactive']] : d.kind === 'authKeyboardInteractive' && d.responses === null ? { prompts: [{ prompt: 'p', echo: false }] } : false));
        const auth = new ServerAuth(host, { publicKeyAlgorithms: ['ssh-ed25519'] });
        for (const [msg, body] of msgs) {
          try {
            auth.handle(msg, Uint8Array.from([msg, ...body]));
          } catch (err) {
            expect(err).toBeInstanceOf(SshProtocolError);
            return;
          }
          expect(['awaitingRequest', 'deciding', 'awaitingKbdResponse']).toContain(auth.state);
        }
        expect(host.succeededCount).toBe(0);
      }),
      { numRuns: 400 },
    );
  });

  it('client: random server replies never throw anything but protocol errors', () => {
    fc.assert(
      fc.property(fc.array(message, { maxLength: 20 }), (msgs) => {
        const host = fakeHost((d) => (d.kind === 'password' ? 'pw' : d.kind === 'keyboardInteractive' ? d.prompts.map(() => 'x') : null));
        const auth = new ClientAuth(host, { username: 'u' });
        auth.start();
        for (const [msg, body] of msgs) {
          try {
            auth.handle(msg, Uint8Array.from([msg, ...body]));
          } catch (err) {
            expect(err).toBeInstanceOf(SshProtocolError);
            expect(err).not.toBeInstanceOf(SshUsageError);
            return;
          }
        }
      }),
      { numRuns: 400 },
    );
  });
});
