/**
 * The client side of SSH user authentication (RFC 4252 sections 5-9, RFC 4256 for
 * keyboard-interactive, RFC 4252 section 8 for password change) as an xstate v5 machine.
 *
 * The machine knows what the client is waiting for; that is all it takes to give the shared
 * message numbers 60-79 their meaning (60 is PK_OK after a key query, PASSWD_CHANGEREQ after a
 * password, INFO_REQUEST during keyboard-interactive) and to refuse any reply that does not fit.
 * Which method to try next is decided by core (core/auth/client.ts); the machine only records what
 * was sent and what came back.
 */
import { setup } from 'xstate';

export type ClientAuthEvent =
  | { type: 'SENT_NONE' }
  | { type: 'SENT_KEY_QUERY' }
  | { type: 'ASK_SIGNATURE' }
  | { type: 'SENT_SIGNED' }
  | { type: 'ASK_PASSWORD' }
  | { type: 'SENT_PASSWORD' }
  | { type: 'ASK_PASSWORD_CHANGE' }
  | { type: 'SENT_KBD_START' }
  | { type: 'ASK_KBD_RESPONSES' }
  | { type: 'SENT_KBD_RESPONSES' }
  | { type: 'FAILURE' }
  | { type: 'SUCCESS' }
  | { type: 'GIVE_UP' };

export const clientAuthMachine = setup({
  types: { events: {} as ClientAuthEvent },
}).createMachine({
  id: 'clientAuth',
  initial: 'idle',
  states: {
    /** Nothing outstanding: the next method is being chosen. */
    idle: {
      on: {
        SENT_NONE: 'awaitingResult',
        SENT_KEY_QUERY: 'awaitingKeyAnswer',
        ASK_SIGNATURE: 'signing',
        ASK_PASSWORD: 'askingPassword',
        SENT_KBD_START: 'awaitingKbdInfo',
        GIVE_UP: 'failed',
      },
    },
    awaitingKeyAnswer: { on: { ASK_SIGNATURE: 'signing', FAILURE: 'idle' } },
    signing: { on: { SENT_SIGNED: 'awaitingResult', GIVE_UP: 'failed', FAILURE: 'idle' } },
    askingPassword: { on: { SENT_PASSWORD: 'awaitingPasswordResult', FAILURE: 'idle' } },
    awaitingPasswordResult: { on: { ASK_PASSWORD_CHANGE: 'askingPasswordChange', FAILURE: 'idle', SUCCESS: 'authenticated' } },
    askingPasswordChange: { on: { SENT_PASSWORD: 'awaitingPasswordResult', FAILURE: 'idle' } },
    awaitingKbdInfo: { on: { ASK_KBD_RESPONSES: 'answeringKbd', FAILURE: 'idle', SUCCESS: 'authenticated' } },
    answeringKbd: { on: { SENT_KBD_RESPONSES: 'awaitingKbdInfo', FAILURE: 'idle' } },
    awaitingResult: { on: { FAILURE: 'idle', SUCCESS: 'authenticated' } },
    authenticated: { type: 'final' },
    failed: { type: 'final' },
  },
});

export type ClientAuthState =
  | 'idle'
  | 'awaitingKeyAnswer'
  | 'signing'
  | 'askingPassword'
  | 'awaitingPasswordResult'
  | 'askingPasswordChange'
  | 'awaitingKbdInfo'
  | 'answeringKbd'
  | 'awaitingResult'
  | 'authenticated'
  | 'failed';

/** The meaning of an incoming authentication message in `state`, or null if it is not allowed. */
export type ClientAuthMessage = 'failure' | 'success' | 'banner' | 'pkOk' | 'passwordChangeRequest' | 'infoRequest';

const waitingForServer = new Set<ClientAuthState>(['awaitingKeyAnswer', 'awaitingResult', 'awaitingPasswordResult', 'awaitingKbdInfo']);

export function classifyClientAuthMessage(state: ClientAuthState, msg: number): ClientAuthMessage | null {
  if (state === 'authenticated' || state === 'failed') return null;
  // A banner may arrive at any time before success (RFC 4252 section 5.4).
  if (msg === 53) return 'banner';
  if (!waitingForServer.has(state)) return null;
  if (msg === 51) return 'failure';
  if (msg === 52) return state === 'awaitingKeyAnswer' ? null : 'success';
  if (msg === 60) {
    if (state === 'awaitingKeyAnswer') return 'pkOk';
    if (state === 'awaitingPasswordResult') return 'passwordChangeRequest';
    if (state === 'awaitingKbdInfo') return 'infoRequest';
  }
  return null;
}
