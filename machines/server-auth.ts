/**
 * The server side of SSH user authentication (RFC 4252, RFC 4256) as an xstate v5 machine.
 *
 * A client can only ever send USERAUTH_REQUEST (50) and, during keyboard-interactive, INFO_RESPONSE
 * (61). Everything the server sends — FAILURE, SUCCESS, BANNER, PK_OK, INFO_REQUEST — is refused
 * when it comes from a client, so a client cannot move the server forward with server-only
 * messages. While a decision is out the client has no business sending anything.
 */
import { setup } from 'xstate';

export type ServerAuthEvent =
  | { type: 'REQUEST' }
  | { type: 'DECIDED_FAILURE' }
  | { type: 'DECIDED_SUCCESS' }
  | { type: 'KBD_PROMPTED' }
  | { type: 'KBD_RESPONSE' };

export const serverAuthMachine = setup({
  types: { events: {} as ServerAuthEvent },
}).createMachine({
  id: 'serverAuth',
  initial: 'awaitingRequest',
  states: {
    awaitingRequest: { on: { REQUEST: 'deciding' } },
    /** A decision about the current request is with the embedder. */
    deciding: { on: { DECIDED_FAILURE: 'awaitingRequest', DECIDED_SUCCESS: 'authenticated', KBD_PROMPTED: 'awaitingKbdResponse' } },
    awaitingKbdResponse: { on: { KBD_RESPONSE: 'deciding', REQUEST: 'deciding' } },
    authenticated: { type: 'final' },
  },
});

export type ServerAuthState = 'awaitingRequest' | 'deciding' | 'awaitingKbdResponse' | 'authenticated';

export type ServerAuthMessage = 'request' | 'infoResponse';

export function classifyServerAuthMessage(state: ServerAuthState, msg: number): ServerAuthMessage | null {
  if (msg === 50 && (state === 'awaitingRequest' || state === 'awaitingKbdResponse')) return 'request';
  if (msg === 61 && state === 'awaitingKbdResponse') return 'infoResponse';
  return null;
}
