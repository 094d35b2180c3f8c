/**
 * `hermit probe`: connect, run the key exchange, ask for the authentication methods with `none`
 * (RFC 4252 section 5.2) and report what was negotiated. It never authenticates and never stores
 * the host key: it trusts whatever key the server shows for this one connection, because reporting
 * that key is the point.
 */
import { performance } from 'node:perf_hooks';
import { SshEngine, type CryptoProvider, type NegotiatedAlgorithms, type SshEngineOptions } from '../core/index.ts';
import { ConnectionPump, dialTcp } from './connection-pump.ts';
import { nodeCrypto } from './crypto-node.ts';

export type AlgorithmOptions = NonNullable<SshEngineOptions['algorithms']>;

export interface ProbeOptions {
  readonly host: string;
  readonly port: number;
  /** User name in the `none` request; servers answer the same methods for any name. */
  readonly username?: string;
  readonly algorithms?: AlgorithmOptions;
  /** Limit for the TCP connect (default 10 s). */
  readonly connectTimeoutMs?: number;
  /** Limit for the whole probe once connected (default 30 s). */
  readonly timeoutMs?: number;
  readonly crypto?: CryptoProvider;
}

export interface ProbeResult {
  readonly serverVersion: string;
  readonly kex: string;
  readonly hostKeyAlgorithm: string;
  readonly hostKeyFingerprint: string;
  readonly cipherClientToServer: string;
  readonly cipherServerToClient: string;
  /** null for an AEAD cipher, whose integrity is built in. */
  readonly macClientToServer: string | null;
  readonly macServerToClient: string | null;
  readonly strictKex: boolean;
  /** From the server's EXT_INFO (RFC 8308 3.1); null if it sent none. */
  readonly serverSigAlgs: readonly string[] | null;
  /** The methods that can continue after `none`; empty if `none` itself succeeded. */
  readonly authMethods: readonly string[];
  /** True if the server accepted `none`. */
  readonly noneAccepted: boolean;
}

/** The probe did not complete; the message is a single line for the user. */
export class ProbeError extends Error {
  constructor(message: string, options?: { cause: unknown }) {
    super(message, options);
    this.name = 'ProbeError';
  }
}

export async function probe(options: ProbeOptions): Promise<ProbeResult> {
  const socket = await dialTcp(options.host, options.port, options.connectTimeoutMs ?? 10_000);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const engine = new SshEngine({
    role: 'client',
    now: performance.now(),
    crypto: options.crypto ?? nodeCrypto,
    // The probe's own deadline below covers the handshake too, with a message naming the stage.
    handshakeTimeoutMs: 0,
    // Ask with `none` only: its answer is the list of methods that can continue.
    clientAuth: { methods: [] },
    ...(options.algorithms ? { algorithms: options.algorithms } : {}),
    ...(options.username !== undefined ? { username: options.username } : {}),
  });

  // One object rather than loose variables: the callbacks fill it in, and TypeScript does not
  // track assignments made inside closures.
  const seen: {
    fingerprint: string | null;
    algorithms: NegotiatedAlgorithms | null;
    authMethods: readonly string[] | null;
    noneAccepted: boolean;
    stage: string;
    timedOut: boolean;
  } = { fingerprint: null, algorithms: null, authMethods: null, noneAccepted: false, stage: 'the key exchange', timedOut: false };

  const pump = new ConnectionPump(engine, socket, {
    onDecision: (decision) => {
      // The probe only reports: it trusts the host key for this one look and offers no credentials.
      if (decision.kind !== 'hostKey') return null;
      seen.fingerprint = decision.fingerprint;
      seen.stage = 'the end of the key exchange';
      return true;
    },
    onEvent: (event) => {
      switch (event.type) {
        case 'kexComplete':
          if (event.initial) seen.algorithms = event.algorithms;
          seen.stage = 'the answer to the "none" authentication request';
          return;
        case 'authFailure':
          seen.authMethods = event.methods;
          pump.disconnect('probe complete');
          return;
        case 'authSuccess':
          seen.authMethods = [];
          seen.noneAccepted = true;
          pump.disconnect('probe complete');
          return;
        default:
          return;
      }
    },
  });
  const timer = setTimeout(() => {
    seen.timedOut = true;
    pump.disconnect('probe timed out');
  }, timeoutMs);
  const reason = await pump.closed;
  clearTimeout(timer);

  const { algorithms: a, fingerprint, authMethods } = seen;
  if (a !== null && fingerprint !== null && authMethods !== null) {
    return {
      serverVersion: engine.peerIdentification ?? '',
      kex: a.kex,
      hostKeyAlgorithm: a.hostKey,
      hostKeyFingerprint: fingerprint,
      cipherClientToServer: a.cipherClientToServer,
      cipherServerToClient: a.cipherServerToClient,
      macClientToServer: a.macClientToServer,
      macServerToClient: a.macServerToClient,
      strictKex: a.strictKex,
      serverSigAlgs: engine.serverSignatureAlgorithms,
      authMethods,
      noneAccepted: seen.noneAccepted,
    };
  }
  const where = `${options.host} port ${options.port}`;
  if (seen.timedOut) throw new ProbeError(`${where}: timed out after ${timeoutMs / 1000} s waiting for ${seen.stage}`);
  if (reason === null) throw new ProbeError(`${where}: the connection closed while waiting for ${seen.stage}`);
  throw new ProbeError(`${where}: ${reason.message.replace(/\s*\n\s*/g, ' ')}`, { cause: reason });
}

/** `<implicit>` is how `ssh -v` names the MAC of an AEAD cipher. */
function macName(mac: string | null): string {
  return mac ?? '<implicit>';
}

/** The report as `name: value` lines, in a fixed order. */
export function formatProbeLines(r: ProbeResult): string[] {
  return [
    `server-version: ${r.serverVersion}`,
    `kex: ${r.kex}`,
    `host-key-algorithm: ${r.hostKeyAlgorithm}`,
    `host-key-fingerprint: ${r.hostKeyFingerprint}`,
    `cipher-c2s: ${r.cipherClientToServer}`,
    `cipher-s2c: ${r.cipherServerToClient}`,
    `mac-c2s: ${macName(r.macClientToServer)}`,
    `mac-s2c: ${macName(r.macServerToClient)}`,
    `strict-kex: ${r.strictKex ? 'yes' : 'no'}`,
    `server-sig-algs: ${r.serverSigAlgs ? r.serverSigAlgs.join(',') : '(none)'}`,
    `auth-methods: ${r.noneAccepted ? '(none accepted)' : r.authMethods.join(',')}`,
  ];
}

/**
 * The same report as one JSON object with the same keys; lists are arrays, `strict-kex` a boolean,
 * an absent `server-sig-algs` is null.
 */
export function formatProbeJson(r: ProbeResult): string {
  return JSON.stringify({
    'server-version': r.serverVersion,
    kex: r.kex,
    'host-key-algorithm': r.hostKeyAlgorithm,
    'host-key-fingerprint': r.hostKeyFingerprint,
    'cipher-c2s': r.cipherClientToServer,
    'cipher-s2c': r.cipherServerToClient,
    'mac-c2s': macName(r.macClientToServer),
    'mac-s2c': macName(r.macServerToClient),
    'strict-kex': r.strictKex,
    'server-sig-algs': r.serverSigAlgs,
    'auth-methods': r.authMethods,
    'none-accepted': r.noneAccepted,
  });
}
