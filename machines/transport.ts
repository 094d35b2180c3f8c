/**
 * The SSH transport lifecycle (RFC 4253 sections 4-11, OpenSSH PROTOCOL "strict key exchange"),
 * as an xstate v5 machine. Every phase change of the transport happens here and only here; the
 * engine reports facts (a version line arrived, a KEXINIT was sent or received, NEWKEYS went out or
 * came in, the service was accepted, authentication succeeded) and the machine answers with effects
 * (`sendKexinit`, `kexComplete`) and a new phase.
 *
 * Phases:
 *   identification -> initialKex{awaitingKexinit -> exchange -> awaitingNewkeys}
 *     -> established (parallel){ keys: idle|awaitingKexinit|exchange|awaitingNewkeys,
 *                                layer: service|userauth|connection }
 *     -> closed
 *
 * Re-keying is the `keys` region of `established`: it runs beside whatever the layer region is doing,
 * which is what RFC 4253 section 9 asks for. The same four-step cycle serves the initial exchange,
 * where strict kex additionally forbids every message outside the exchange.
 *
 * {@link classifyMessage} is the single place that decides whether an incoming message number is
 * acceptable in the current phase. The engine consults it for every packet before decoding it.
 */
import { assign, emit, setup } from 'xstate';

export type TransportRole = 'client' | 'server';

export interface TransportContext {
  readonly role: TransportRole;
  /** Strict kex negotiated in the initial KEXINIT exchange. */
  strict: boolean;
  /** Completed key exchanges, the initial one included. */
  kexCount: number;
}

export type TransportEvent =
  | { type: 'PEER_VERSION' }
  | { type: 'KEXINIT_SENT' }
  | { type: 'KEXINIT_RECEIVED'; strict: boolean }
  | { type: 'NEWKEYS_SENT' }
  | { type: 'NEWKEYS_RECEIVED' }
  | { type: 'SERVICE_ACCEPTED' }
  | { type: 'AUTH_SUCCEEDED' }
  | { type: 'CLOSE' };

export type TransportEffect =
  /** The peer started a key exchange and ours has not been sent: send our KEXINIT now. */
  | { type: 'sendKexinit' }
  /** Both NEWKEYS are through: traffic may use the new keys in both directions. */
  | { type: 'kexComplete'; initial: boolean };

export const transportMachine = setup({
  types: {
    context: {} as TransportContext,
    events: {} as TransportEvent,
    input: {} as { role: TransportRole },
    emitted: {} as TransportEffect,
  },
}).createMachine({
  id: 'transport',
  context: ({ input }) => ({ role: input.role, strict: false, kexCount: 0 }),
  initial: 'identification',
  on: { CLOSE: '.closed' },
  states: {
    identification: {
      on: { PEER_VERSION: 'initialKex' },
    },
    initialKex: {
      initial: 'awaitingKexinit',
      states: {
        awaitingKexinit: {
          on: {
            KEXINIT_RECEIVED: {
              target: 'exchange',
              actions: assign({ strict: ({ event }) => event.strict }),
            },
          },
        },
        exchange: { on: { NEWKEYS_SENT: 'awaitingNewkeys' } },
        awaitingNewkeys: {
          on: {
            NEWKEYS_RECEIVED: {
              target: '#transport.established',
              actions: [
                assign({ kexCount: ({ context }) => context.kexCount + 1 }),
                emit({ type: 'kexComplete', initial: true } as const),
              ],
            },
          },
        },
      },
    },
    established: {
      type: 'parallel',
      states: {
        keys: {
          initial: 'idle',
          states: {
            idle: {
              on: {
                KEXINIT_SENT: 'awaitingKexinit',
                KEXINIT_RECEIVED: { target: 'exchange', actions: emit({ type: 'sendKexinit' } as const) },
              },
            },
            awaitingKexinit: { on: { KEXINIT_RECEIVED: 'exchange' } },
            exchange: { on: { NEWKEYS_SENT: 'awaitingNewkeys' } },
            awaitingNewkeys: {
              on: {
                NEWKEYS_RECEIVED: {
                  target: 'idle',
                  actions: [
                    assign({ kexCount: ({ context }) => context.kexCount + 1 }),
                    emit({ type: 'kexComplete', initial: false } as const),
                  ],
                },
              },
            },
          },
        },
        layer: {
          initial: 'service',
          states: {
            service: { on: { SERVICE_ACCEPTED: 'userauth' } },
            userauth: { on: { AUTH_SUCCEEDED: 'connection' } },
            connection: {},
          },
        },
      },
    },
    closed: { type: 'final' },
  },
});

/** A flattened name of the machine's state, cheap to compare on the per-packet path. */
export type TransportPhase =
  | 'identification'
  | 'initialKex.awaitingKexinit'
  | 'initialKex.exchange'
  | 'initialKex.awaitingNewkeys'
  | `established.${'idle' | 'awaitingKexinit' | 'exchange' | 'awaitingNewkeys'}.${'service' | 'userauth' | 'connection'}`
  | 'closed';

export function phaseOf(value: unknown): TransportPhase {
  if (typeof value === 'string') return value as TransportPhase;
  const v = value as Record<string, unknown>;
  if (v['initialKex'] !== undefined) return `initialKex.${v['initialKex'] as string}` as TransportPhase;
  const e = v['established'] as { keys: string; layer: string };
  return `established.${e.keys}.${e.layer}` as TransportPhase;
}

/**
 * What to do with an incoming message:
 * - `accept`: hand it to the layer that owns its number range;
 * - `unimplemented`: an unknown number, answer SSH_MSG_UNIMPLEMENTED (RFC 4253 section 11.4);
 * - `ignore`: silently drop (RFC 4252 section 5.1: auth requests after success);
 * - `refuse`: a protocol error — the message is not allowed in this phase.
 */
export type MessageVerdict = 'accept' | 'unimplemented' | 'ignore' | 'refuse';

const GENERIC = new Set([1, 2, 3, 4]); // DISCONNECT, IGNORE, UNIMPLEMENTED, DEBUG

/** 30-34: the key exchange method messages of RFC 4253 8, RFC 4419 5, RFC 5656 7 and RFC 8731. */
function isKexMethodMessage(msg: number): boolean {
  return msg >= 30 && msg <= 34;
}

/**
 * The numbers this implementation recognises (RFC 4250 4.1.2, RFC 8308 for EXT_INFO; 60/61 are
 * the method-specific replies of publickey, password and keyboard-interactive). Anything else,
 * unassigned ranges and numbers we do not implement alike (NEWCOMPRESS, GSSAPI, 35-49, 62-79,
 * 83-89, 101-255, 0), gets SSH_MSG_UNIMPLEMENTED in every phase (RFC 4253 11.4) except inside a
 * strict initial key exchange, where any unexpected message is fatal.
 */
export function isRecognisedMessage(msg: number): boolean {
  return (
    (msg >= 1 && msg <= 7) ||
    msg === 20 ||
    msg === 21 ||
    isKexMethodMessage(msg) ||
    (msg >= 50 && msg <= 53) ||
    msg === 60 ||
    msg === 61 ||
    (msg >= 80 && msg <= 82) ||
    (msg >= 90 && msg <= 100)
  );
}

/**
 * A recognised number after the key exchange: accepted only by the layer that owns it and only
 * from the side that may send it; otherwise fatal (connection messages before authentication,
 * server-only messages from a client and the reverse).
 */
function layerVerdict(role: TransportRole, layer: string, msg: number): MessageVerdict {
  if (layer === 'service') {
    if (role === 'client') return msg === 6 || msg === 7 ? 'accept' : 'refuse';
    return msg === 5 || msg === 7 ? 'accept' : 'refuse';
  }
  if (layer === 'userauth') {
    // 60 comes from the server (PK_OK, PASSWD_CHANGEREQ, INFO_REQUEST), 61 from the client (INFO_RESPONSE).
    if (role === 'client') return msg === 7 || (msg >= 51 && msg <= 53) || msg === 60 ? 'accept' : 'refuse';
    return msg === 50 || msg === 61 ? 'accept' : 'refuse';
  }
  // connection
  if (msg >= 80) return 'accept';
  if (role === 'server' && msg === 50) return 'ignore';
  if (role === 'client' && msg === 7) return 'accept'; // OpenSSH may send EXT_INFO again after USERAUTH_SUCCESS
  return 'refuse';
}

export function classifyMessage(phase: TransportPhase, role: TransportRole, strict: boolean, msg: number): MessageVerdict {
  if (phase === 'identification' || phase === 'closed') return 'refuse';
  const recognised = isRecognisedMessage(msg);
  if (phase.startsWith('initialKex.')) {
    if (msg === 1) return 'accept';
    const step = phase.slice('initialKex.'.length);
    const wanted = step === 'awaitingKexinit' ? msg === 20 : step === 'exchange' ? isKexMethodMessage(msg) : msg === 21;
    if (wanted) return 'accept';
    // Strict kex (the Terrapin countermeasure): nothing else at all during the initial exchange.
    // Strictness is only known after the peer's KEXINIT; before it the engine checks that the
    // KEXINIT arrived with sequence number 0.
    if (strict) return 'refuse';
    if (GENERIC.has(msg)) return 'accept';
    return recognised ? 'refuse' : 'unimplemented';
  }
  const [, keys, layer] = phase.split('.') as [string, string, string];
  if (GENERIC.has(msg)) return 'accept';
  if (!recognised) return 'unimplemented';
  if (keys === 'exchange') return isKexMethodMessage(msg) ? 'accept' : 'refuse';
  if (keys === 'awaitingNewkeys') return msg === 21 ? 'accept' : 'refuse';
  if (msg === 20) return 'accept';
  if (msg === 21 || isKexMethodMessage(msg)) return 'refuse';
  return layerVerdict(role, layer, msg);
}

/** True while outgoing non-kex traffic must be held (we sent KEXINIT, not yet NEWKEYS). */
export function holdsOutgoingTraffic(phase: TransportPhase): boolean {
  if (phase.startsWith('initialKex.') || phase === 'identification') return true;
  return phase.startsWith('established.awaitingKexinit') || phase.startsWith('established.exchange');
}
