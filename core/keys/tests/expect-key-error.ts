/** Test helper: run `fn`, require a KeyFormatError with `code` (and a message matching `message`), return it. */
import { expect } from 'vitest';
import { KeyFormatError, type KeyFormatErrorCode } from '../errors.ts';

export function expectKeyError(fn: () => unknown, code: KeyFormatErrorCode, message?: RegExp): KeyFormatError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(KeyFormatError);
  const err = caught as KeyFormatError;
  expect(err.code).toBe(code);
  if (message) expect(err.message).toMatch(message);
  return err;
}
