/**
 * Bulk channel throughput between two engines in memory (no sockets): what the engine itself
 * costs per byte — framing, window accounting, sealing and opening — per cipher, node provider.
 */
import { performance } from 'node:perf_hooks';
import { generatePrivateKey, systemRandom } from '../../core/index.ts';
import { Pair } from '../../core/testing/index.ts';
import { nodeCrypto } from '../runtime/crypto-node.ts';

export function channelThroughput(cipher: string, megabytes: number): number {
  const hostKeys = [generatePrivateKey('ed25519', systemRandom, nodeCrypto)];
  const pair = new Pair({
    client: { crypto: nodeCrypto, algorithms: { cipher: [cipher] }, username: 'bench' },
    server: { crypto: nodeCrypto, hostKeys, acceptNoneAuthentication: true, algorithms: { cipher: [cipher] } },
  });
  pair.pump();
  const ch = pair.client.openSession(pair.now);
  pair.pump();
  const serverChannel = pair.serverEvents.flatMap((e) => (e.type === 'decision' && e.decision.kind === 'channelOpen' ? [e.decision.channel] : []))[0]!;
  const chunk = new Uint8Array(256 * 1024).fill(7);
  const total = megabytes * 1024 * 1024;
  let received = 0;
  const start = performance.now();
  let sent = 0;
  while (received < total) {
    if (sent < total && pair.server.channelInfo(serverChannel).bufferedAmount < 4 * chunk.length) {
      pair.server.write(serverChannel, chunk, pair.now);
      sent += chunk.length;
    }
    // Move bytes and consume what arrived, like an application reading as fast as it can.
    const s = pair.server.pollTransmit();
    if (s) pair.client.receive(s, pair.now);
    for (let e = pair.client.pollEvent(); e; e = pair.client.pollEvent()) {
      if (e.type === 'channelData') {
        received += e.data.length;
        pair.client.consumed(ch, e.data.length, pair.now);
      }
    }
    const c = pair.client.pollTransmit();
    if (c) pair.server.receive(c, pair.now);
    for (let e = pair.server.pollEvent(); e; e = pair.server.pollEvent()) void e;
  }
  const seconds = (performance.now() - start) / 1000;
  return total / 1e6 / seconds;
}

export async function channelTable(): Promise<{ header: string[]; rows: (string | number)[][] }> {
  const rows: (string | number)[][] = [];
  for (const cipher of ['aes128-gcm@openssh.com', 'chacha20-poly1305@openssh.com', 'aes128-ctr']) {
    channelThroughput(cipher, 16); // warm up
    rows.push([cipher, channelThroughput(cipher, 256)]);
  }
  return { header: ['cipher (node provider, 256 MiB server → client)', 'MB/s'], rows };
}
