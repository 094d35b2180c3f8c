/**
 * The agent codec against the message layouts of draft-ietf-sshm-ssh-agent (RFC 9987): requests
 * are taken apart field by field, the add-identity key encodings are compared with the private
 * section ssh-keygen wrote into the fixture files (OpenSSH PROTOCOL.key uses the same encoding),
 * and replies — valid, malformed and random — decode or fail with AGENT_PROTOCOL only.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pureCrypto } from '../crypto/pure.ts';
import { SshUsageError } from '../errors.ts';
import { decodeBase64 } from '../keys/base64.ts';
import { fingerprintSha256 } from '../keys/format.ts';
import { parseOpenSshPrivateKey, type PrivateKey } from '../keys/private-key.ts';
import { sign } from '../keys/signature.ts';
import { SshReader } from '../wire/reader.ts';
import { SshWriter, concatBytes } from '../wire/writer.ts';
import {
  AgentError,
  AgentFrameDecoder,
  MAX_AGENT_IDENTITIES,
  MAX_AGENT_MESSAGE_LENGTH,
  decodeAgentReply,
  decodeQueryContents,
  encodeAddIdentity,
  encodeExtensionRequest,
  encodeFailure,
  encodeIdentitiesAnswer,
  encodeQueryResponse,
  encodeRemoveAllIdentities,
  encodeRemoveIdentity,
  encodeRequestIdentities,
  encodeSignRequest,
  encodeSignResponse,
  encodeSuccess,
  frameAgentMessage,
  signFlagsFor,
} from './protocol.ts';

const NAMES = ['ed25519', 'ecdsa-256', 'ecdsa-384', 'ecdsa-521', 'rsa-2048'] as const;
const fixtureText = (name: string) => readFileSync(new URL(`../../fixtures/keys/${name}`, import.meta.url), 'utf8');
const KEYS = Object.fromEntries(NAMES.map((n) => [n, parseOpenSshPrivateKey(fixtureText(n))[0]!])) as Record<(typeof NAMES)[number], PrivateKey>;
const ed25519 = KEYS['ed25519'];
const rsa = KEYS['rsa-2048'];
if (ed25519.type !== 'ssh-ed25519' || rsa.type !== 'ssh-rsa') throw new Error('fixture keys have unexpected types');

const bytes = (...v: number[]) => Uint8Array.from(v);
const text = (s: string) => new TextEncoder().encode(s);

function expectProtocolError(fn: () => unknown, pattern?: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AgentError);
    expect((err as AgentError).code).toBe('AGENT_PROTOCOL');
    if (pattern) expect((err as AgentError).message).toMatch(pattern);
    return;
  }
  throw new Error('expected an AGENT_PROTOCOL error');
}

/** The private section of an openssh-key-v1 file: `uint32 check, uint32 check, key entries, padding`. */
function privateSectionOf(name: string): Uint8Array {
  const body = fixtureText(name).replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
  const r = new SshReader(decodeBase64(body));
  r.raw(15); // "openssh-key-v1\0"
  r.string(); // cipher
  r.string(); // kdf
  r.string(); // kdf options
  const n = r.uint32();
  for (let i = 0; i < n; i++) r.string();
  const section = r.string();
  return section.subarray(8);
}

describe('framing', () => {
  it('prefixes a message with its uint32 length', () => {
    expect(frameAgentMessage(encodeRequestIdentities())).toEqual(bytes(0, 0, 0, 1, 11));
    expect(frameAgentMessage(bytes(6, 1, 2))).toEqual(bytes(0, 0, 0, 3, 6, 1, 2));
  });

  it('refuses to frame empty or oversized messages', () => {
    expect(() => frameAgentMessage(new Uint8Array(0))).toThrow(SshUsageError);
    expect(() => frameAgentMessage(new Uint8Array(MAX_AGENT_MESSAGE_LENGTH + 1))).toThrow(SshUsageError);
    expect(frameAgentMessage(new Uint8Array(MAX_AGENT_MESSAGE_LENGTH)).length).toBe(MAX_AGENT_MESSAGE_LENGTH + 4);
  });

  it('reassembles messages split anywhere (any split of a stream decodes identically)', () => {
    const messages = [
      encodeIdentitiesAnswer([
        { blob: ed25519.publicKey.blob, comment: 'one' },
        { blob: rsa.publicKey.blob, comment: 'two' },
      ]),
      encodeSuccess(),
      encodeSignResponse(sign(pureCrypto, ed25519, 'ssh-ed25519', text('data'))),
      encodeFailure(),
      encodeQueryResponse(['session-bind@openssh.com']),
    ];
    const stream = concatBytes(...messages.map(frameAgentMessage));
    const whole = new AgentFrameDecoder();
    whole.push(stream);
    const expected: Uint8Array[] = [];
    for (let m = whole.next(); m; m = whole.next()) expected.push(m);
    expect(expected).toEqual(messages);

    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 60 }), (cuts) => {
        const points = [0, ...[...cuts].sort((a, b) => a - b), stream.length];
        const decoder = new AgentFrameDecoder();
        const got: Uint8Array[] = [];
        for (let i = 1; i < points.length; i++) {
          decoder.push(stream.subarray(points[i - 1], points[i]));
          for (let m = decoder.next(); m; m = decoder.next()) got.push(m);
        }
        expect(got).toEqual(expected);
        expect(got.map(decodeAgentReply)).toEqual(expected.map(decodeAgentReply));
        expect(decoder.buffered).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it('rejects a zero or oversized length as soon as the prefix arrives', () => {
    const zero = new AgentFrameDecoder();
    zero.push(bytes(0, 0, 0, 0));
    expectProtocolError(() => zero.next(), /empty message/);

    const huge = new AgentFrameDecoder();
    huge.push(bytes(0x00, 0x04, 0x00, 0x01)); // 256 KiB + 1, body never sent
    expectProtocolError(() => huge.next(), /262145-byte message; the limit is 262144/);

    const max = new AgentFrameDecoder();
    max.push(bytes(0xff, 0xff, 0xff, 0xff));
    expectProtocolError(() => max.next());
  });

  it('returns copies, so later input cannot change a decoded message', () => {
    const d = new AgentFrameDecoder();
    const chunk = frameAgentMessage(bytes(6));
    d.push(chunk);
    const m = d.next()!;
    chunk[4] = 5;
    d.push(frameAgentMessage(bytes(5)));
    expect(m).toEqual(bytes(6));
    expect(d.next()).toEqual(bytes(5));
  });
});

describe('requests', () => {
  it('REQUEST_IDENTITIES and REMOVE_ALL_IDENTITIES are a bare type byte', () => {
    expect(encodeRequestIdentities()).toEqual(bytes(11));
    expect(encodeRemoveAllIdentities()).toEqual(bytes(19));
  });

  it('SIGN_REQUEST is byte 13, string key blob, string data, uint32 flags', () => {
    const data = text('to be signed');
    const r = new SshReader(encodeSignRequest(rsa.publicKey.blob, data, 4));
    expect(r.byte()).toBe(13);
    expect(r.string()).toEqual(rsa.publicKey.blob);
    expect(r.string()).toEqual(data);
    expect(r.uint32()).toBe(4);
    r.end();
  });

  it('chooses the sign flags of RFC 8332 algorithms for RSA keys only', () => {
    expect(signFlagsFor(rsa.publicKey, 'rsa-sha2-256')).toBe(2);
    expect(signFlagsFor(rsa.publicKey, 'rsa-sha2-512')).toBe(4);
    expect(signFlagsFor(rsa.publicKey, 'ssh-rsa')).toBe(0);
    expect(signFlagsFor(ed25519.publicKey, 'ssh-ed25519')).toBe(0);
    expect(signFlagsFor(KEYS['ecdsa-384'].publicKey, 'ecdsa-sha2-nistp384')).toBe(0);
    expect(() => signFlagsFor(ed25519.publicKey, 'rsa-sha2-256')).toThrow(SshUsageError);
    expect(() => signFlagsFor(rsa.publicKey, 'ssh-ed25519')).toThrow(SshUsageError);
    expect(() => signFlagsFor(KEYS['ecdsa-256'].publicKey, 'ecdsa-sha2-nistp384')).toThrow(SshUsageError);
  });

  it('refuses sign requests over the message limit', () => {
    expect(() => encodeSignRequest(ed25519.publicKey.blob, new Uint8Array(MAX_AGENT_MESSAGE_LENGTH), 0)).toThrow(/limited to 262144 bytes/);
    expect(() => encodeSignRequest(ed25519.publicKey.blob, new Uint8Array(1), -1)).toThrow(SshUsageError);
  });

  it.each(NAMES)('ADD_IDENTITY carries a %s key exactly as ssh-keygen stored it in its private section', (name) => {
    const key = KEYS[name];
    const message = encodeAddIdentity(key);
    expect(message[0]).toBe(17);
    // `string type || key fields || string comment` is the same in both formats; padding follows in the file.
    const body = message.subarray(1);
    const section = privateSectionOf(name);
    expect(section.subarray(0, body.length)).toEqual(body);
    expect(section.length - body.length).toBeLessThan(8);
  });

  it('ADD_IDENTITY fields per key type (sections 5.2.2 to 5.2.4)', () => {
    let r = new SshReader(encodeAddIdentity(ed25519, { comment: 'c' }));
    expect(r.byte()).toBe(17);
    expect(r.ascii()).toBe('ssh-ed25519');
    expect(r.string()).toEqual(ed25519.publicKey.key);
    expect(r.string()).toEqual(concatBytes(ed25519.seed, ed25519.publicKey.key));
    expect(r.ascii()).toBe('c');
    r.end();

    const ec = KEYS['ecdsa-521'];
    if (ec.type !== 'ecdsa-sha2-nistp521') throw new Error('fixture is not P-521');
    r = new SshReader(encodeAddIdentity(ec));
    expect(r.byte()).toBe(17);
    expect(r.ascii()).toBe('ecdsa-sha2-nistp521');
    expect(r.ascii()).toBe('nistp521');
    expect(r.string()).toEqual(ec.publicKey.point);
    expect(r.mpint()).toBe(BigInt('0x' + Buffer.from(ec.d).toString('hex')));
    expect(r.ascii()).toBe(ec.comment);
    r.end();

    r = new SshReader(encodeAddIdentity(rsa));
    expect(r.byte()).toBe(17);
    expect(r.ascii()).toBe('ssh-rsa');
    const { n, e, d, iqmp, p, q } = rsa.rsa;
    expect([r.mpint(), r.mpint(), r.mpint(), r.mpint(), r.mpint(), r.mpint()]).toEqual([n, e, d, iqmp, p, q]);
    expect(r.ascii()).toBe('hermit-fixture-rsa-2048');
    r.end();
  });

  it('ADD_ID_CONSTRAINED appends lifetime (1, uint32) and confirm (2) constraints', () => {
    const plain = encodeAddIdentity(ed25519);
    const life = encodeAddIdentity(ed25519, { lifetimeSeconds: 3600 });
    expect(life[0]).toBe(25);
    expect(life.subarray(1)).toEqual(concatBytes(plain.subarray(1), bytes(1, 0, 0, 0x0e, 0x10)));
    const confirm = encodeAddIdentity(ed25519, { confirm: true });
    expect(confirm[0]).toBe(25);
    expect(confirm.subarray(1)).toEqual(concatBytes(plain.subarray(1), bytes(2)));
    const both = encodeAddIdentity(ed25519, { lifetimeSeconds: 0xffffffff, confirm: true });
    expect(both.subarray(1)).toEqual(concatBytes(plain.subarray(1), bytes(1, 0xff, 0xff, 0xff, 0xff, 2)));
    expect(encodeAddIdentity(ed25519, { confirm: false })[0]).toBe(17);
  });

  it('refuses lifetimes that are not 1 to 2^32-1 whole seconds', () => {
    for (const lifetimeSeconds of [0, -1, 1.5, 2 ** 32, Number.NaN]) {
      expect(() => encodeAddIdentity(ed25519, { lifetimeSeconds })).toThrow(SshUsageError);
    }
  });

  it('REMOVE_IDENTITY is byte 18 and the key blob; EXTENSION is byte 27, the name and its contents', () => {
    expect(encodeRemoveIdentity(ed25519.publicKey.blob)).toEqual(concatBytes(bytes(18), new SshWriter().string(ed25519.publicKey.blob).finish()));
    expect(encodeExtensionRequest('query')).toEqual(concatBytes(bytes(27, 0, 0, 0, 5), text('query')));
    expect(encodeExtensionRequest('x@example.com', bytes(1, 2))).toEqual(concatBytes(bytes(27, 0, 0, 0, 13), text('x@example.com'), bytes(1, 2)));
  });
});

describe('replies', () => {
  it('treats 5, 28, 30 and 102 as failure, 6 as success', () => {
    for (const t of [5, 28, 30, 102]) expect(decodeAgentReply(bytes(t))).toEqual({ type: 'failure', messageType: t });
    expect(decodeAgentReply(bytes(6))).toEqual({ type: 'success', contents: new Uint8Array(0) });
  });

  it('lists identities, parsing known key types and keeping the others as raw blobs', () => {
    const dss = new SshWriter().string('ssh-dss').mpint(23n).mpint(11n).mpint(2n).mpint(5n).finish().slice();
    const cert = new SshWriter().string('ssh-ed25519-cert-v01@openssh.com').string(new Uint8Array(32)).finish().slice();
    const brokenEd = new SshWriter().string('ssh-ed25519').string(new Uint8Array(31)).finish().slice();
    const answer = encodeIdentitiesAnswer([
      { blob: ed25519.publicKey.blob, comment: 'me@host' },
      { blob: dss, comment: 'old' },
      { blob: cert, comment: 'cert' },
      { blob: brokenEd, comment: '' },
      { blob: rsa.publicKey.blob, comment: 'rsa' },
    ]);
    const reply = decodeAgentReply(answer);
    if (reply.type !== 'identities') throw new Error(`got ${reply.type}`);
    const ids = reply.identities;
    expect(ids.map((i) => [i.keyType, i.comment, i.key?.type ?? null])).toEqual([
      ['ssh-ed25519', 'me@host', 'ssh-ed25519'],
      ['ssh-dss', 'old', null],
      ['ssh-ed25519-cert-v01@openssh.com', 'cert', null],
      ['ssh-ed25519', '', null],
      ['ssh-rsa', 'rsa', 'ssh-rsa'],
    ]);
    expect(ids[0]!.blob).toEqual(ed25519.publicKey.blob);
    expect(ids[1]!.blob).toEqual(dss);
    expect(ids[0]!.fingerprint).toBe(fixtureText('ed25519.fp-sha256').split(' ')[1]);
    expect(ids[2]!.fingerprint).toBe(fingerprintSha256(cert));
  });

  it('decodes comments that are not UTF-8 without failing', () => {
    const w = new SshWriter().byte(12).uint32(1).string(ed25519.publicKey.blob).string(bytes(0xff, 0x41));
    const reply = decodeAgentReply(w.finish());
    expect(reply.type === 'identities' && reply.identities[0]!.comment).toBe('\ufffdA');
  });

  it('an empty identities answer is a valid empty list', () => {
    expect(decodeAgentReply(bytes(12, 0, 0, 0, 0))).toEqual({ type: 'identities', identities: [] });
  });

  it('returns the signature blob and the algorithm named in it', () => {
    const sig = sign(pureCrypto, rsa, 'rsa-sha2-256', text('x'));
    expect(decodeAgentReply(encodeSignResponse(sig))).toEqual({ type: 'signature', blob: sig, algorithm: 'rsa-sha2-256' });
  });

  it('decodes the query extension answer', () => {
    const reply = decodeAgentReply(encodeQueryResponse(['session-bind@openssh.com', 'x@example.com']));
    if (reply.type !== 'extension') throw new Error(`got ${reply.type}`);
    expect(reply.name).toBe('query');
    expect(decodeQueryContents(reply.contents)).toEqual(['session-bind@openssh.com', 'x@example.com']);
    expect(decodeQueryContents(new Uint8Array(0))).toEqual([]);
    expectProtocolError(() => decodeQueryContents(bytes(0, 0, 0, 9, 0x61)));
    const many = new SshWriter();
    for (let i = 0; i < 257; i++) many.string('e');
    expectProtocolError(() => decodeQueryContents(many.finish()), /more than 256/);
  });

  describe('malformed replies are AGENT_PROTOCOL errors', () => {
    const good = encodeIdentitiesAnswer([{ blob: ed25519.publicKey.blob, comment: 'c' }]);
    it.each([
      ['an empty message', new Uint8Array(0), /empty/],
      ['an unknown message type', bytes(99), /message type 99/],
      ['a request type sent back', bytes(11), /message type 11/],
      ['a truncated identities answer', good.subarray(0, good.length - 1), /truncated/],
      ['an identities answer with trailing bytes', concatBytes(good, bytes(0)), /trailing/],
      ['an identities count over the limit', bytes(12, 0, 0, 0x08, 0x01), /2049 keys; at most 2048/],
      ['an identities count the message cannot hold', bytes(12, 0, 0, 0, 200, 0, 0, 0, 0), /200 keys but sent only/],
      ['a sign response without its string', bytes(14, 0, 0), /truncated/],
      ['a sign response with trailing bytes', concatBytes(encodeSignResponse(sign(pureCrypto, ed25519, 'ssh-ed25519', text('x'))), bytes(1)), /trailing/],
      ['a signature blob without its signature', encodeSignResponse(new SshWriter().string('ssh-ed25519').finish()), /truncated/],
      ['an extension response without a name', bytes(29, 0, 0), /truncated/],
    ])('%s', (_what, message, pattern) => {
      expectProtocolError(() => decodeAgentReply(message), pattern);
    });

    it('exactly MAX_AGENT_IDENTITIES is accepted', () => {
      const w = new SshWriter().byte(12).uint32(MAX_AGENT_IDENTITIES);
      for (let i = 0; i < MAX_AGENT_IDENTITIES; i++) w.string(ed25519.publicKey.blob).string('');
      const reply = decodeAgentReply(w.finish());
      expect(reply.type === 'identities' && reply.identities.length).toBe(MAX_AGENT_IDENTITIES);
    });
  });

  it('never throws anything but AGENT_PROTOCOL on random bytes', () => {
    fc.assert(
      fc.property(fc.constantFrom(5, 6, 11, 12, 14, 28, 29, 30, 99), fc.uint8Array({ maxLength: 200 }), (type, rest) => {
        try {
          decodeAgentReply(concatBytes(bytes(type), rest));
        } catch (err) {
          expect(err).toBeInstanceOf(AgentError);
          expect((err as AgentError).code).toBe('AGENT_PROTOCOL');
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws anything but AGENT_PROTOCOL on mutated or truncated valid replies', () => {
    const valid = [
      encodeIdentitiesAnswer(NAMES.map((n) => ({ blob: KEYS[n].publicKey.blob, comment: n }))),
      encodeSignResponse(sign(pureCrypto, KEYS['ecdsa-256'], 'ecdsa-sha2-nistp256', text('m'))),
      encodeQueryResponse(['a', 'b']),
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...valid),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.option(fc.nat()),
        (message, edits, cut) => {
          const m = message.slice(0, cut === null ? message.length : cut % (message.length + 1));
          for (const [at, value] of edits) if (m.length > 0) m[at % m.length] = value;
          try {
            decodeAgentReply(m);
          } catch (err) {
            expect(err).toBeInstanceOf(AgentError);
            expect((err as AgentError).code).toBe('AGENT_PROTOCOL');
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
