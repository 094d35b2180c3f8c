/**
 * One SSH channel (RFC 4254 section 5) as an xstate v5 machine: the open handshake, then two
 * half-duplex lifecycles — what we send (open → eof → closed) and what we receive (open → eof →
 * closed) — and the close handshake that ends both. The channel's id may be reused only once it
 * is `closed`, i.e. CLOSE went both ways (section 5.3).
 *
 * Every rule about what may be sent or received on a channel lives here: `channelAccepts` says
 * whether an incoming message is legal, `channelMaySend` whether the application may still send.
 * Window accounting and data are plain code in core (too hot for a machine), which consults these.
 */
import { setup } from 'xstate';

export type ChannelEvent =
  /** Either side's open was confirmed (ours by the peer, the peer's by our decision). */
  | { type: 'CONFIRMED' }
  | { type: 'OPEN_FAILED' }
  | { type: 'EOF_SENT' }
  | { type: 'EOF_RECEIVED' }
  | { type: 'CLOSE_SENT' }
  | { type: 'CLOSE_RECEIVED' };

export const channelMachine = setup({
  types: { events: {} as ChannelEvent, input: {} as { initiator: 'local' | 'remote' } },
}).createMachine({
  id: 'channel',
  initial: 'opening',
  states: {
    opening: { on: { CONFIRMED: 'open', OPEN_FAILED: 'failed' } },
    open: {
      type: 'parallel',
      states: {
        send: {
          initial: 'open',
          states: {
            open: { on: { EOF_SENT: 'eof', CLOSE_SENT: 'closed' } },
            eof: { on: { CLOSE_SENT: 'closed' } },
            closed: { type: 'final' },
          },
        },
        receive: {
          initial: 'open',
          states: {
            open: { on: { EOF_RECEIVED: 'eof', CLOSE_RECEIVED: 'closed' } },
            eof: { on: { CLOSE_RECEIVED: 'closed' } },
            closed: { type: 'final' },
          },
        },
      },
      // Both halves closed means CLOSE went both ways: the channel is done.
      onDone: 'closed',
    },
    failed: { type: 'final' },
    closed: { type: 'final' },
  },
});

export interface ChannelPhase {
  readonly stage: 'opening' | 'open' | 'failed' | 'closed';
  readonly send: 'open' | 'eof' | 'closed';
  readonly receive: 'open' | 'eof' | 'closed';
}

export function channelPhaseOf(value: unknown): ChannelPhase {
  if (typeof value === 'string') {
    const closed = value === 'closed' || value === 'failed';
    return { stage: value as ChannelPhase['stage'], send: closed ? 'closed' : 'open', receive: closed ? 'closed' : 'open' };
  }
  const open = (value as { open: { send: ChannelPhase['send']; receive: ChannelPhase['receive'] } }).open;
  return { stage: 'open', send: open.send, receive: open.receive };
}

/** Incoming channel messages by number (RFC 4250 4.1.2). */
export type ChannelMessage = 'confirmation' | 'failure' | 'windowAdjust' | 'data' | 'eof' | 'close' | 'request' | 'success' | 'requestFailure';

/**
 * May the peer send this on a channel in `phase`? `weOpened` tells whether the open confirmation /
 * failure is ours to expect. Nothing but CLOSE, window adjusts and replies may arrive after the
 * peer's EOF; nothing at all after its CLOSE.
 */
export function channelAccepts(phase: ChannelPhase, message: ChannelMessage, weOpened: boolean): boolean {
  if (phase.stage === 'opening') return weOpened && (message === 'confirmation' || message === 'failure');
  if (phase.stage !== 'open') return false;
  if (message === 'confirmation' || message === 'failure') return false;
  if (phase.receive === 'closed') return false;
  if (message === 'data' || message === 'eof') return phase.receive === 'open';
  return true;
}

/** May we still send data or EOF? Not after our EOF or CLOSE. */
export function channelMaySendData(phase: ChannelPhase): boolean {
  return phase.stage === 'open' && phase.send === 'open';
}

/** May we still send requests and window adjusts? Yes after our EOF (exit-status follows it), not after CLOSE. */
export function channelMaySendControl(phase: ChannelPhase): boolean {
  return phase.stage === 'open' && phase.send !== 'closed';
}

/**
 * Must our answer to the peer's CLOSE wait? Only while we owe an exit report (server session with a
 * started command, RFC 4254 6.10): the client must hear exit-status / exit-signal before our CLOSE,
 * so the CLOSE waits for the application's close(), which follows the report (or gives it up).
 */
export function channelHoldsCloseFor(exitReport: 'none' | 'owed' | 'sent'): boolean {
  return exitReport === 'owed';
}
