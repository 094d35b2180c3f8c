/**
 * The sans-IO agent client driven by scripted agent replies: one request on the wire at a time,
 * answers matched in order, signatures verified, refusals as AGENT_FAILURE with the key's
 * fingerprint, and every malformed or unsolicited reply an AGENT_PROTOCOL error that ends the
 * connection without a throw. (The same client against a real ssh-agent: io-node/trust/agent.test.ts.)
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pureCrypto } from '../crypto/pure.ts';
import { SshUsageError } from '../errors.ts';
import { parseOpenSshPrivateKey, type PrivateKey } from '../keys/private-key.ts';
import { sign } from '../keys/signature.ts';
import { SshReader } from '../wire/reader.ts';
import { SshWriter, concatBytes } from '../wire/writer.ts';
import { AgentClient, AgentError, type AgentResponse } from './client.ts';
import {
  encodeFailure,
  encodeIdentitiesAnswer,
  encodeQueryResponse,
  encodeSignResponse,
  encodeSuccess,
  frameAgentMessage,
} from './protocol.ts';

const fixtureText = (name: string) => readFileSync(new URL(`../../fixtures/keys/${name}`, import.meta.url), 'utf8');
const load = (name: string): PrivateKey => parseOpenSshPrivateKey(fixtureText(name))[0]!;
const ed25519 = load('ed25519');
const ecdsa = load('ecdsa-384');
const rsa = load('rsa-2048');
const fp = (name: string) => fixtureText(`${name}.fp-sha256`).split(' ')[1]!;
const text = (s: string) => new TextEncoder().encode(s);
const data = text('session id || userauth request');

/** Unframe what the client transmitted and return the message (type byte and contents). */
function sent(client: AgentClient): Uint8Array {
  const framed = client.pollTransmit();
  if (framed === null) throw new Error('the client sent nothing');
  const r = new SshReader(framed);
  const message = r.string();
  r.end();
  return message;
}

function responses(client: AgentClient): AgentResponse[] {
  const out: AgentResponse[] = [];
  for (let r = client.pollResponse(); r; r = client.pollResponse()) out.push(r);
  return out;
}

function only(client: AgentClient): AgentResponse {
  const all = responses(client);
  expect(all).toHaveLength(1);
  return all[0]!;
}

function errorOf(response: AgentResponse): AgentError {
  if (response.kind !== 'error') throw new Error(`expected an error, got ${response.kind}`);
  expect(response.error).toBeInstanceOf(AgentError);
  return response.error;
}

describe('request order', () => {
  it('puts one request on the wire at a time and answers them in order', () => {
    const client = new AgentClient();
    const list = client.requestIdentities();
    const removeAll = client.removeAllIdentities();
    expect(client.pendingCount).toBe(2);
    expect(sent(client)).toEqual(Uint8Array.of(11));
    expect(client.pollTransmit()).toBeNull(); // removeAll waits for the answer to the list
    client.receive(frameAgentMessage(encodeIdentitiesAnswer([{ blob: ed25519.publicKey.blob, comment: 'k' }])));
    const first = only(client);
    expect(first.id).toBe(list);
    expect(first.kind === 'identities' && first.identities.map((i) => i.fingerprint)).toEqual([fp('ed25519')]);
    expect(sent(client)).toEqual(Uint8Array.of(19));
    client.receive(frameAgentMessage(encodeSuccess()));
    expect(only(client)).toEqual({ id: removeAll, kind: 'success' });
    expect(client.pendingCount).toBe(0);
    expect(client.pollTransmit()).toBeNull();
  });

  it('any split of each reply gives the same responses', () => {
    const script: Array<[(c: AgentClient) => number, Uint8Array]> = [
      [(c) => c.requestIdentities(), encodeIdentitiesAnswer([ed25519, ecdsa, rsa].map((k) => ({ blob: k.publicKey.blob, comment: k.comment })))],
      [(c) => c.sign(rsa.publicKey, data, { algorithm: 'rsa-sha2-256' }), encodeSignResponse(sign(pureCrypto, rsa, 'rsa-sha2-256', data))],
      [(c) => c.addIdentity(ed25519), encodeFailure()],
      [(c) => c.queryExtensions(), encodeQueryResponse(['session-bind@openssh.com'])],
    ];
    const run = (split: (bytes: Uint8Array) => Uint8Array[]) => {
      const client = new AgentClient();
      for (const [request] of script) request(client);
      const out: AgentResponse[] = [];
      for (const [, reply] of script) {
        expect(client.pollTransmit()).not.toBeNull();
        for (const piece of split(frameAgentMessage(reply))) client.receive(piece);
        out.push(...responses(client));
      }
      return out;
    };
    const expected = run((b) => [b]);
    expect(expected.map((r) => r.kind)).toEqual(['identities', 'signature', 'error', 'extensions']);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 30 }), (sizes) => {
        const got = run((b) => {
          const pieces: Uint8Array[] = [];
          for (let o = 0, i = 0; o < b.length; i++) {
            const n = sizes[i % sizes.length]!;
            pieces.push(b.subarray(o, o + n));
            o += n;
          }
          return pieces;
        });
        expect(got).toEqual(expected);
      }),
      { numRuns: 100 },
    );
  });
});

describe('signing', () => {
  it.each([
    ['ed25519', undefined, 'ssh-ed25519', 0],
    ['ecdsa-384', undefined, 'ecdsa-sha2-nistp384', 0],
    ['rsa-2048', undefined, 'rsa-sha2-512', 4],
    ['rsa-2048', 'rsa-sha2-512', 'rsa-sha2-512', 4],
    ['rsa-2048', 'rsa-sha2-256', 'rsa-sha2-256', 2],
  ] as const)('%s asked for %s signs as %s with flags %d and the signature is verified', (name, algorithm, expected, flags) => {
    const key = load(name);
    const client = new AgentClient();
    const id = client.sign(key.publicKey, data, algorithm ? { algorithm } : {});
    const r = new SshReader(sent(client));
    expect([r.byte(), r.string(), r.string(), r.uint32()]).toEqual([13, key.publicKey.blob, data, flags]);
    const blob = sign(pureCrypto, key, expected, data);
    client.receive(frameAgentMessage(encodeSignResponse(blob)));
    expect(only(client)).toEqual({ id, kind: 'signature', signature: { blob, algorithm: expected } });
  });

  it('reports the algorithm the agent really used when it ignores the RSA flags', () => {
    const client = new AgentClient();
    client.sign(rsa.publicKey, data, { algorithm: 'rsa-sha2-512' });
    sent(client);
    client.receive(frameAgentMessage(encodeSignResponse(sign(pureCrypto, rsa, 'ssh-rsa', data))));
    const response = only(client);
    expect(response.kind === 'signature' && response.signature.algorithm).toBe('ssh-rsa');
  });

  it('signs as a certificate: the request names it, the key verifies the signature', () => {
    const certificate = new SshWriter().string('ssh-ed25519-cert-v01@openssh.com').string(new Uint8Array(40)).finish().slice();
    const client = new AgentClient();
    const id = client.sign(ed25519.publicKey, data, { certificate });
    const r = new SshReader(sent(client));
    expect([r.byte(), r.string()]).toEqual([13, certificate]);
    const blob = sign(pureCrypto, ed25519, 'ssh-ed25519', data);
    client.receive(frameAgentMessage(encodeSignResponse(blob)));
    expect(only(client)).toEqual({ id, kind: 'signature', signature: { blob, algorithm: 'ssh-ed25519' } });

    client.sign(ed25519.publicKey, data, { certificate });
    sent(client);
    client.receive(frameAgentMessage(encodeFailure()));
    expect(errorOf(only(client)).message).toMatch(/refused to sign with certificate SHA256:\S+ for ssh-ed25519 key SHA256:/);
  });

  it('refuses to ask a key for an algorithm it cannot make', () => {
    const client = new AgentClient();
    expect(() => client.sign(ed25519.publicKey, data, { algorithm: 'rsa-sha2-256' })).toThrow(SshUsageError);
    expect(client.pendingCount).toBe(0);
  });

  it('a refusal is AGENT_FAILURE naming the key, and the connection stays usable', () => {
    const client = new AgentClient();
    client.sign(ed25519.publicKey, data);
    client.requestIdentities();
    sent(client);
    client.receive(frameAgentMessage(encodeFailure()));
    const error = errorOf(only(client));
    expect(error.code).toBe('AGENT_FAILURE');
    expect(error.message).toContain(`the agent refused to sign with ssh-ed25519 key ${fp('ed25519')}`);
    expect(client.error).toBeNull();
    expect(sent(client)).toEqual(Uint8Array.of(11));
  });

  it('a signature that does not verify is AGENT_PROTOCOL, however well-formed', () => {
    const client = new AgentClient();
    client.sign(ed25519.publicKey, data);
    const later = client.requestIdentities();
    sent(client);
    client.receive(frameAgentMessage(encodeSignResponse(sign(pureCrypto, ed25519, 'ssh-ed25519', text('other data')))));
    const [bad, next] = responses(client);
    expect(errorOf(bad!).code).toBe('AGENT_PROTOCOL');
    expect(errorOf(bad!).message).toMatch(/ssh-ed25519 signature that does not verify with ssh-ed25519 key SHA256:/);
    expect(next!.id).toBe(later);
    expect(errorOf(next!).message).toMatch(/no longer usable/);
  });

  it('a signature by another key, or of another key type, is AGENT_PROTOCOL', () => {
    const other = parseOpenSshPrivateKey(fixtureText('ecdsa-256'))[0]!;
    for (const [key, blob] of [
      [ed25519, sign(pureCrypto, other, 'ecdsa-sha2-nistp256', data)],
      [ecdsa, sign(pureCrypto, other, 'ecdsa-sha2-nistp256', data)],
      [rsa, sign(pureCrypto, load('rsa-3072'), 'rsa-sha2-512', data)],
    ] as const) {
      const client = new AgentClient();
      client.sign(key.publicKey, data);
      sent(client);
      client.receive(frameAgentMessage(encodeSignResponse(blob)));
      expect(errorOf(only(client)).code).toBe('AGENT_PROTOCOL');
    }
  });
});

describe('adding and removing', () => {
  it('add, remove and remove-all answer success or a failure naming the key', () => {
    const client = new AgentClient();
    const add = client.addIdentity(rsa, { lifetimeSeconds: 60, confirm: true, comment: 'x' });
    expect(sent(client)[0]).toBe(25);
    client.receive(frameAgentMessage(encodeSuccess()));
    expect(only(client)).toEqual({ id: add, kind: 'success' });

    client.addIdentity(ed25519);
    expect(sent(client)[0]).toBe(17);
    client.receive(frameAgentMessage(encodeFailure()));
    expect(errorOf(only(client)).message).toContain(`the agent refused to add ssh-ed25519 key ${fp('ed25519')}`);

    client.removeIdentity(ecdsa.publicKey);
    expect(sent(client)[0]).toBe(18);
    client.receive(frameAgentMessage(encodeFailure()));
    const removed = errorOf(only(client));
    expect(removed.code).toBe('AGENT_FAILURE');
    expect(removed.message).toContain(`the agent refused to remove ecdsa-sha2-nistp384 key ${fp('ecdsa-384')}: it does not hold that key`);

    client.removeIdentity(ecdsa.publicKey.blob);
    expect(sent(client).subarray(5)).toEqual(ecdsa.publicKey.blob);
    client.receive(frameAgentMessage(encodeSuccess()));
    expect(only(client).kind).toBe('success');
  });

  it('SUCCESS with contents to a plain request is AGENT_PROTOCOL', () => {
    const client = new AgentClient();
    client.removeAllIdentities();
    sent(client);
    client.receive(frameAgentMessage(Uint8Array.of(6, 1, 2)));
    expect(errorOf(only(client)).message).toMatch(/remove all keys with SSH_AGENT_SUCCESS with 2 unexpected bytes/);
  });
});

describe('the query extension', () => {
  it('lists the extensions, or null when the agent does not know "query"', () => {
    const client = new AgentClient();
    const a = client.queryExtensions();
    const r = new SshReader(sent(client));
    expect([r.byte(), r.ascii()]).toEqual([27, 'query']);
    client.receive(frameAgentMessage(encodeQueryResponse(['session-bind@openssh.com'])));
    expect(only(client)).toEqual({ id: a, kind: 'extensions', names: ['session-bind@openssh.com'] });
    const b = client.queryExtensions();
    sent(client);
    client.receive(frameAgentMessage(encodeFailure()));
    expect(only(client)).toEqual({ id: b, kind: 'extensions', names: null });
    const c = client.queryExtensions();
    sent(client);
    client.receive(frameAgentMessage(Uint8Array.of(28)));
    expect(only(client)).toEqual({ id: c, kind: 'extensions', names: null });
  });
});

describe('malformed and unexpected input', () => {
  it('a reply of the wrong type is AGENT_PROTOCOL and fails the queued requests too', () => {
    const client = new AgentClient();
    const list = client.requestIdentities();
    const sign2 = client.sign(ed25519.publicKey, data);
    sent(client);
    client.receive(frameAgentMessage(encodeSignResponse(sign(pureCrypto, ed25519, 'ssh-ed25519', data))));
    const [first, second] = responses(client);
    expect(first!.id).toBe(list);
    expect(errorOf(first!).message).toBe('the agent answered a request for its keys with SSH_AGENT_SIGN_RESPONSE');
    expect(second!.id).toBe(sign2);
    expect(errorOf(second!).code).toBe('AGENT_PROTOCOL');
    expect(client.error?.code).toBe('AGENT_PROTOCOL');
    // Sticky: later requests fail at once, later input is ignored, nothing more is sent.
    const late = client.requestIdentities();
    expect(only(client)).toMatchObject({ id: late, kind: 'error' });
    client.receive(frameAgentMessage(encodeSuccess()));
    expect(responses(client)).toEqual([]);
    expect(client.pollTransmit()).toBeNull();
  });

  it('an oversized length is AGENT_PROTOCOL as soon as the prefix arrives', () => {
    const client = new AgentClient();
    client.requestIdentities();
    sent(client);
    client.receive(Uint8Array.of(0x7f, 0xff));
    expect(responses(client)).toEqual([]);
    client.receive(Uint8Array.of(0xff, 0xff));
    expect(errorOf(only(client)).message).toMatch(/2147483647-byte message; the limit is 262144 bytes/);
  });

  it('a truncated reply followed by end of stream is AGENT_PROTOCOL; a plain close is AGENT_UNAVAILABLE', () => {
    const truncated = new AgentClient();
    truncated.requestIdentities();
    sent(truncated);
    truncated.receive(frameAgentMessage(encodeIdentitiesAnswer([{ blob: ed25519.publicKey.blob, comment: '' }])).subarray(0, 20));
    expect(responses(truncated)).toEqual([]);
    truncated.receiveEof();
    const t = errorOf(only(truncated));
    expect([t.code, t.message]).toEqual(['AGENT_PROTOCOL', 'the agent closed the connection in the middle of a reply before answering']);

    const closed = new AgentClient();
    closed.requestIdentities();
    sent(closed);
    closed.receiveEof();
    expect(errorOf(only(closed)).code).toBe('AGENT_UNAVAILABLE');
  });

  it('a truncated message inside a complete frame is AGENT_PROTOCOL', () => {
    const client = new AgentClient();
    client.requestIdentities();
    sent(client);
    client.receive(frameAgentMessage(Uint8Array.of(12, 0, 0, 0, 1, 0, 0)));
    expect(errorOf(only(client)).code).toBe('AGENT_PROTOCOL');
  });

  it('bytes nobody asked for are AGENT_PROTOCOL', () => {
    const idle = new AgentClient();
    idle.receive(frameAgentMessage(encodeSuccess()));
    expect(idle.error?.message).toMatch(/no request was waiting/);
    const partial = new AgentClient();
    partial.receive(Uint8Array.of(0));
    expect(partial.error?.code).toBe('AGENT_PROTOCOL');
    // A request queued but not yet sent cannot have an answer either.
    const queued = new AgentClient();
    const id = queued.requestIdentities();
    queued.receive(frameAgentMessage(encodeIdentitiesAnswer([])));
    expect(only(queued)).toMatchObject({ id, kind: 'error' });
    // Two answers to one request: the second is unsolicited.
    const twice = new AgentClient();
    twice.requestIdentities();
    sent(twice);
    twice.receive(concatBytes(frameAgentMessage(encodeIdentitiesAnswer([])), frameAgentMessage(encodeSuccess())));
    expect(responses(twice).map((r) => r.kind)).toEqual(['identities']);
    expect(twice.error?.code).toBe('AGENT_PROTOCOL');
  });

  it('abort fails every pending request with the given error', () => {
    const client = new AgentClient();
    const a = client.requestIdentities();
    const b = client.removeAllIdentities();
    sent(client);
    client.abort(new AgentError('AGENT_UNAVAILABLE', 'socket reset'));
    const [ra, rb] = responses(client);
    expect(ra).toMatchObject({ id: a, kind: 'error' });
    expect(errorOf(ra!).message).toBe('socket reset');
    expect(rb).toMatchObject({ id: b, kind: 'error' });
    expect(errorOf(rb!).code).toBe('AGENT_UNAVAILABLE');
  });

  it('random replies never throw and always end the request', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.boolean(), (garbage, eof) => {
        const client = new AgentClient();
        client.sign(ecdsa.publicKey, data);
        client.requestIdentities();
        sent(client);
        client.receive(garbage);
        if (eof) client.receiveEof();
        for (const r of responses(client)) {
          if (r.kind === 'error') expect(r.error).toBeInstanceOf(AgentError);
        }
        if (eof) expect(client.pendingCount).toBe(0);
      }),
      { numRuns: 1000 },
    );
  });

  it('random bytes framed as a reply to each request never throw', () => {
    const requests: Array<(c: AgentClient) => number> = [
      (c) => c.requestIdentities(),
      (c) => c.sign(rsa.publicKey, data),
      (c) => c.addIdentity(ecdsa),
      (c) => c.removeIdentity(ed25519.publicKey),
      (c) => c.queryExtensions(),
    ];
    fc.assert(
      fc.property(fc.constantFrom(...requests), fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 100 }), (request, type, body) => {
        const client = new AgentClient();
        const id = request(client);
        sent(client);
        client.receive(frameAgentMessage(concatBytes(Uint8Array.of(type), body)));
        const response = only(client);
        expect(response.id).toBe(id);
        if (response.kind === 'error') expect(['AGENT_FAILURE', 'AGENT_PROTOCOL']).toContain(response.error.code);
      }),
      { numRuns: 1000 },
    );
  });
});
