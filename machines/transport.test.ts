import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { classifyMessage, phaseOf, transportMachine, type TransportEvent, type TransportPhase } from './transport.ts';

function run(events: TransportEvent[]): TransportPhase {
  const actor = createActor(transportMachine, { input: { role: 'client' } });
  actor.start();
  for (const e of events) actor.send(e);
  return phaseOf(actor.getSnapshot().value);
}

describe('transport machine', () => {
  it('walks identification -> initial kex -> established -> re-key', () => {
    const initial: TransportEvent[] = [{ type: 'KEXINIT_SENT' }, { type: 'PEER_VERSION' }, { type: 'KEXINIT_RECEIVED', strict: true }, { type: 'NEWKEYS_SENT' }, { type: 'NEWKEYS_RECEIVED' }];
    expect(run(initial)).toBe('established.idle.service');
    expect(run([...initial, { type: 'SERVICE_ACCEPTED' }, { type: 'AUTH_SUCCEEDED' }, { type: 'KEXINIT_RECEIVED', strict: false }])).toBe('established.exchange.connection');
    expect(run([...initial, { type: 'KEXINIT_SENT' }])).toBe('established.awaitingKexinit.service');
    expect(run([...initial, { type: 'CLOSE' }])).toBe('closed');
  });

  it('refuses everything but the exchange during strict initial kex (Terrapin)', () => {
    expect(classifyMessage('initialKex.awaitingKexinit', 'client', true, 20)).toBe('accept');
    expect(classifyMessage('initialKex.exchange', 'client', true, 2)).toBe('refuse');
    expect(classifyMessage('initialKex.exchange', 'client', false, 2)).toBe('accept');
    expect(classifyMessage('initialKex.exchange', 'client', true, 200)).toBe('refuse');
    expect(classifyMessage('initialKex.exchange', 'client', false, 200)).toBe('unimplemented');
    expect(classifyMessage('initialKex.awaitingNewkeys', 'server', true, 21)).toBe('accept');
  });

  it('routes by layer: no connection messages before authentication, no server-only messages from a client', () => {
    expect(classifyMessage('established.idle.userauth', 'server', true, 90)).toBe('refuse');
    expect(classifyMessage('established.idle.userauth', 'server', true, 52)).toBe('refuse');
    expect(classifyMessage('established.idle.userauth', 'client', true, 52)).toBe('accept');
    expect(classifyMessage('established.idle.service', 'client', true, 5)).toBe('refuse');
    expect(classifyMessage('established.idle.connection', 'server', true, 50)).toBe('ignore');
    expect(classifyMessage('established.exchange.connection', 'server', true, 94)).toBe('refuse');
    expect(classifyMessage('established.awaitingKexinit.connection', 'server', true, 94)).toBe('accept');
    expect(classifyMessage('established.idle.connection', 'server', true, 85)).toBe('unimplemented');
  });
});
