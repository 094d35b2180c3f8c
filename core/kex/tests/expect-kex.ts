/**
 * The one assertion every rejection test makes: the peer's bad value surfaced as
 * SshProtocolError with code KEX_FAILED and disconnect reason KEY_EXCHANGE_FAILED (RFC 4250
 * section 4.2.2), never as a bare Error that would escape the engine untyped.
 */
import { expect } from 'vitest';
import { DisconnectReason, SshProtocolError } from '../../errors.ts';
import { thrown } from './helpers.ts';

export function expectKexFailure(fn: () => unknown, message?: RegExp): void {
  const err = thrown(fn);
  expect(err).toBeInstanceOf(SshProtocolError);
  const e = err as SshProtocolError;
  expect(e.code).toBe('KEX_FAILED');
  expect(e.reason).toBe(DisconnectReason.KEY_EXCHANGE_FAILED);
  if (message) expect(e.message).toMatch(message);
}
