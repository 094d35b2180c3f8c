/**
 * Handshake benchmark: complete in-memory handshakes (client and server engines joined by a Pair,
 * up to the server's answer to `none`) per second, for each crypto provider and kex.
 */
import { performance } from 'node:perf_hooks';
import { pureCrypto } from '../../core/crypto/pure.ts';
import type { CryptoProvider } from '../../core/crypto/provider.ts';
import { generatePrivateKey } from '../../core/keys/private-key.ts';
import { Pair } from '../../core/testing/pair.ts';
import { systemRandom } from '../../core/random.ts';
import { nodeCrypto } from '../crypto-node.ts';

export interface HandshakeRow {
  readonly provider: string;
  readonly kex: string;
  readonly hostKey: string;
  readonly handshakesPerSecond: number;
  readonly msPerHandshake: number;
}

function once(crypto: CryptoProvider, kex: string, hostKeys: ReturnType<typeof generatePrivateKey>[]): void {
  const pair = new Pair({
    client: { crypto, algorithms: { kex: [kex], hostKey: ['ssh-ed25519'] } },
    server: { crypto, hostKeys, algorithms: { kex: [kex] } },
  });
  pair.pump();
  if (!pair.clientEvents.some((e) => e.type === 'authFailure')) throw new Error(`handshake with ${kex} did not finish`);
}

export function benchHandshakes(seconds = 1.5): HandshakeRow[] {
  const rows: HandshakeRow[] = [];
  for (const crypto of [nodeCrypto, pureCrypto]) {
    const hostKeys = [generatePrivateKey('ed25519', systemRandom, crypto)];
    for (const kex of ['curve25519-sha256', 'mlkem768x25519-sha256']) {
      for (let i = 0; i < 5; i++) once(crypto, kex, hostKeys); // warm up
      let n = 0;
      const start = performance.now();
      while (performance.now() - start < seconds * 1000) {
        once(crypto, kex, hostKeys);
        n++;
      }
      const elapsed = performance.now() - start;
      rows.push({ provider: crypto.name, kex, hostKey: 'ssh-ed25519', handshakesPerSecond: (n * 1000) / elapsed, msPerHandshake: elapsed / n });
    }
  }
  return rows;
}
