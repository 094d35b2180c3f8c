/**
 * Bulk packet protection throughput: seal and open of packets carrying 32 KiB payloads (the
 * largest channel data OpenSSH sends by default) through core/cipher's sealers and openers, per
 * cipher (+ MAC) and crypto provider. The "openssl-raw" rows are the ceiling: the same primitive
 * called directly on node:crypto with no SSH framing, copies or sequence bookkeeping.
 */
import * as nc from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  cipherInfo,
  createOpener,
  createSealer,
  type CryptoProvider,
  macInfo,
  type PacketSealer,
  pureCrypto,
} from '../../core/index.ts';
import { nodeCrypto } from '../runtime/crypto-node.ts';

export interface BenchRow {
  /** Cipher, or "cipher + MAC". */
  readonly algorithm: string;
  /** "node", "pure" or "openssl-raw". */
  readonly provider: string;
  readonly payloadBytes: number;
  /** Payload MB (10^6 bytes) per second sealed. */
  readonly sealMBps: number;
  /** Payload MB per second opened (length decryption, check and decryption). */
  readonly openMBps: number;
  /** Payload MB per second through seal followed by open: bytes / (seal time + open time). */
  readonly sealOpenMBps: number;
  /** sealOpenMBps / the openssl-raw row of the same algorithm (absent for the raw rows). */
  readonly ofCeiling?: number;
}

export const PAYLOAD = 32 * 1024;

const suites: ReadonlyArray<readonly [string, string | null]> = [
  ['aes128-gcm@openssh.com', null],
  ['aes256-gcm@openssh.com', null],
  ['chacha20-poly1305@openssh.com', null],
  ['aes128-ctr', 'hmac-sha2-256-etm@openssh.com'],
  ['aes256-ctr', 'hmac-sha2-512-etm@openssh.com'],
  ['aes128-ctr', 'hmac-sha2-256'],
  ['aes128-ctr', 'hmac-sha1'],
];

function label(cipher: string, mac: string | null): string {
  return mac ? `${cipher} + ${mac}` : cipher;
}

function packet(sealer: PacketSealer, payloadBytes: number): Uint8Array {
  const fixed = 1 + payloadBytes + (sealer.lengthExcludedFromPadding ? 0 : 4);
  let pad = sealer.blockSize - (fixed % sealer.blockSize);
  if (pad < 4) pad += sealer.blockSize;
  const length = 1 + payloadBytes + pad;
  const out = nc.randomBytes(4 + length);
  out.writeUInt32BE(length, 0);
  out[4] = pad;
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

interface Timing {
  seal: number;
  open: number;
  packets: number;
}

/**
 * Seal a batch, then open it, until `budgetMs` of work; warm-up batches are not counted. The work
 * is split into rounds and the fastest round counts, so a busy shared machine disturbs the figures
 * less (the raw ceiling rows are measured the same way, so the ratios stay fair).
 */
function measure(sealOne: (seq: number) => Uint8Array, openOne: (seq: number, wire: Uint8Array) => void, budgetMs: number): Timing {
  const batch = 16;
  const rounds = 5;
  const wires: Uint8Array[] = new Array<Uint8Array>(batch);
  let seq = 0;
  const run = (t: Timing | null): void => {
    const s0 = performance.now();
    for (let i = 0; i < batch; i++) wires[i] = sealOne(seq + i);
    const s1 = performance.now();
    for (let i = 0; i < batch; i++) openOne(seq + i, wires[i]!);
    const s2 = performance.now();
    seq += batch;
    if (t) {
      t.seal += s1 - s0;
      t.open += s2 - s1;
      t.packets += batch;
    }
  };
  const warmUntil = performance.now() + Math.min(300, budgetMs / 3);
  while (performance.now() < warmUntil) run(null);
  let best: Timing | null = null;
  for (let r = 0; r < rounds; r++) {
    const t: Timing = { seal: 0, open: 0, packets: 0 };
    while (t.seal + t.open < budgetMs / rounds) run(t);
    if (!best || (t.seal + t.open) / t.packets < (best.seal + best.open) / best.packets) best = t;
  }
  return best!;
}

function row(algorithm: string, provider: string, payloadBytes: number, t: Timing): BenchRow {
  const mb = (t.packets * payloadBytes) / 1e6;
  return {
    algorithm,
    provider,
    payloadBytes,
    sealMBps: mb / (t.seal / 1000),
    openMBps: mb / (t.open / 1000),
    sealOpenMBps: mb / ((t.seal + t.open) / 1000),
  };
}

function benchSuite(crypto: CryptoProvider, cipher: string, mac: string | null, payloadBytes: number, budgetMs: number): BenchRow {
  const c = cipherInfo[cipher]!;
  const keys = { key: nc.randomBytes(c.keyLength), iv: nc.randomBytes(c.ivLength), macKey: nc.randomBytes(mac ? macInfo[mac]!.keyLength : 0) };
  const sealer = createSealer(crypto, cipher, mac, keys);
  const opener = createOpener(crypto, cipher, mac, keys);
  const plain = packet(sealer, payloadBytes);
  const t = measure(
    (seq) => sealer.seal(seq, plain),
    (seq, wire) => {
      if (opener.decryptLength(seq, wire.subarray(0, opener.lengthBytes)) !== plain.length - 4) throw new Error(`${cipher}: bad length`);
      if (opener.open(seq, wire) === null) throw new Error(`${label(cipher, mac)}: ${crypto.name} could not open its own packet`);
    },
    budgetMs,
  );
  return row(label(cipher, mac), crypto.name, payloadBytes, t);
}

/**
 * The OpenSSL ceiling: one-shot node:crypto calls on the same payload, nothing else. For
 * chacha20-poly1305@openssh.com the closest OpenSSL primitive is the IETF ChaCha20-Poly1305 AEAD.
 */
function benchRaw(cipher: string, mac: string | null, payloadBytes: number, budgetMs: number): BenchRow {
  const data = nc.randomBytes(payloadBytes + 8);
  const aad = data.subarray(0, 4);
  const body = data.subarray(4);
  const nonce = nc.randomBytes(12);
  let t: Timing;
  if (mac === null) {
    const alg = cipher.startsWith('aes128') ? 'aes-128-gcm' : cipher.startsWith('aes256') ? 'aes-256-gcm' : 'chacha20-poly1305';
    const key = nc.createSecretKey(nc.randomBytes(alg === 'aes-128-gcm' ? 16 : 32));
    const tags: Buffer[] = [];
    t = measure(
      (seq) => {
        const e = nc.createCipheriv(alg as nc.CipherGCMTypes, key, nonce, { authTagLength: 16 });
        e.setAAD(aad);
        const ct = e.update(body);
        e.final();
        tags[seq % 16] = e.getAuthTag();
        return ct;
      },
      (seq, ct) => {
        const d = nc.createDecipheriv(alg as nc.CipherGCMTypes, key, nonce, { authTagLength: 16 });
        d.setAAD(aad);
        d.setAuthTag(tags[seq % 16]!);
        d.update(ct);
        d.final();
      },
      budgetMs,
    );
  } else {
    const m = macInfo[mac]!;
    const bits = cipherInfo[cipher]!.keyLength * 8;
    const enc = nc.createCipheriv(`aes-${bits}-ctr`, nc.randomBytes(bits / 8), nc.randomBytes(16));
    const dec = nc.createCipheriv(`aes-${bits}-ctr`, nc.randomBytes(bits / 8), nc.randomBytes(16));
    const macKey = nc.createSecretKey(nc.randomBytes(m.keyLength));
    t = measure(
      () => {
        const ct = enc.update(body);
        nc.createHmac(m.hash, macKey).update(ct).digest();
        return ct;
      },
      (_seq, ct) => {
        nc.createHmac(m.hash, macKey).update(ct).digest();
        dec.update(ct);
      },
      budgetMs,
    );
  }
  return row(label(cipher, mac), 'openssl-raw', payloadBytes, t);
}

export interface CipherBenchOptions {
  /** Milliseconds of measured work per row (default 1000; the pure AES rows are slow). */
  readonly budgetMs?: number;
  readonly payloadBytes?: number;
}

export async function benchCiphers(options: CipherBenchOptions = {}): Promise<BenchRow[]> {
  const budgetMs = options.budgetMs ?? 1000;
  const payloadBytes = options.payloadBytes ?? PAYLOAD;
  const rows: BenchRow[] = [];
  for (const [cipher, mac] of suites) {
    const raw = benchRaw(cipher, mac, payloadBytes, budgetMs);
    rows.push(raw);
    for (const crypto of [nodeCrypto, pureCrypto]) {
      const r = benchSuite(crypto, cipher, mac, payloadBytes, budgetMs);
      rows.push({ ...r, ofCeiling: r.sealOpenMBps / raw.sealOpenMBps });
      // Give the event loop (and the GC) a turn between rows.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  return rows;
}

export function cipherTable(rows: readonly BenchRow[]): { header: string[]; rows: (string | number)[][] } {
  return {
    header: ['algorithm', 'provider', 'seal MB/s', 'open MB/s', 'seal+open MB/s', 'of OpenSSL'],
    rows: rows.map((r) => [
      r.algorithm,
      r.provider,
      r.sealMBps,
      r.openMBps,
      r.sealOpenMBps,
      r.ofCeiling === undefined ? '' : `${(r.ofCeiling * 100).toFixed(0)}%`,
    ]),
  };
}
