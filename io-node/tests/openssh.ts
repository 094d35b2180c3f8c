/**
 * The interop harness for vitest files: everything of openssh-peers.ts (which Deno imports too)
 * plus the hook that fails each test of a file when OpenSSH is missing.
 */
import { beforeEach } from 'vitest';
import { openSshBinaries } from './openssh-peers.ts';

export * from './openssh-peers.ts';

/**
 * Call at the top of an interop test file. Without OpenSSH every test of the file fails with the
 * install hint (a throwing beforeAll alone would leave them reported as "skipped"). Returns
 * whether the binaries are there, so that beforeAll can skip its setup and let the tests fail.
 */
export function failEachTestWithoutOpenSsh(): boolean {
  let missing: Error | null = null;
  try {
    openSshBinaries();
  } catch (err) {
    missing = err as Error;
  }
  beforeEach(() => {
    if (missing) throw missing;
  });
  return missing === null;
}

