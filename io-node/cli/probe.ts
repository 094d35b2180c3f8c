/**
 * `hermit probe`: connect, run the key exchange, ask for the authentication methods with `none`
 * (RFC 4252 section 5.2), then authenticate with the credentials given, and report what was
 * negotiated and how authentication ended. It opens no session: it disconnects as soon as the
 * outcome is known.
 *
 * The host key is checked by a {@link HostKeyPolicy} when one is given. Without one, or when the
 * policy could not verify the key (`unverified`: unknown host and nobody to ask), the probe still
 * reports — the fingerprint is what the user needs in order to verify the host — but it stops after
 * `none`: no key, signature or password goes to a server that is not known to be the right one.
 */
import { performance } from 'node:perf_hooks';
import { SshAuthenticationError } from '../../core/index.ts';
import { SshEngine, SshPeerDisconnectError, type CryptoProvider, type NegotiatedAlgorithms, type SshEngineOptions } from '../../core/index.ts';
import type { ClientCredentials } from '../trust/client-credentials.ts';
import { ConnectionPump, dialTcp } from '../runtime/connection-pump.ts';
import { nodeCrypto } from '../runtime/crypto-node.ts';
import { HostKeyVerificationError, type HostKeyOutcome, type HostKeyPolicy } from '../trust/host-key-policy.ts';

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
  /** Checks the host key (known_hosts); without it the key is reported but not verified. */
  readonly hostKeyPolicy?: HostKeyPolicy;
  /** Keys, agent and prompts to authenticate with; without them only `none` is asked. */
  readonly credentials?: ClientCredentials;
}

/** How the host key was judged: a {@link HostKeyOutcome}, or `not-checked` without a policy. */
export type ProbeHostKeyStatus = HostKeyOutcome | 'not-checked';

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
  readonly authResult: 'success' | 'failure';
  /** The method that completed authentication; null on failure. */
  readonly authMethod: string | null;
  /**
   * Why authentication ended without success when the server said so itself (it disconnected,
   * e.g. "Too many authentication failures"); null otherwise.
   */
  readonly authDisconnect: string | null;
  readonly hostKeyStatus: ProbeHostKeyStatus;
}

/** The probe did not complete; the message is a single line for the user. */
export class ProbeError extends Error {
  constructor(message: string, options?: { cause: unknown }) {
    super(message, options);
    this.name = 'ProbeError';
  }
}

export async function probe(options: ProbeOptions): Promise<ProbeResult> {
  const { credentials, hostKeyPolicy } = options;
  const socket = await dialTcp(options.host, options.port, options.connectTimeoutMs ?? 10_000);
  const timeoutMs = options.timeoutMs ?? 30_000;
  // Our own copies of the method and key lists. The engine's client authentication reads them as
  // it goes (it keeps the arrays it is given), so emptying them when the host key turns out to be
  // unverified — before authentication starts — leaves nothing but `none` to send. The interop
  // test "sends no credentials" checks this against sshd's log.
  const methods = [...(credentials?.clientAuth.methods ?? [])];
  const publicKeys = [...(credentials?.clientAuth.publicKeys ?? [])];
  const withdrawCredentials = () => {
    methods.length = 0;
    publicKeys.length = 0;
  };
  const engine = new SshEngine({
    role: 'client',
    now: performance.now(),
    crypto: options.crypto ?? nodeCrypto,
    // The probe's own deadline below covers the handshake too, with a message naming the stage.
    handshakeTimeoutMs: 0,
    // Without credentials ask with `none` only: its answer is the list of methods that can continue.
    clientAuth: { ...credentials?.clientAuth, methods, publicKeys },
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
    authMethod: string | null;
    tried: string[];
    hostKeyStatus: ProbeHostKeyStatus;
    /** The host key is not verified: report, but send nothing beyond `none`. */
    stopAfterNone: boolean;
    stage: string;
    timedOut: boolean;
  } = {
    fingerprint: null,
    algorithms: null,
    authMethods: null,
    noneAccepted: false,
    authMethod: null,
    tried: [],
    hostKeyStatus: 'not-checked',
    stopAfterNone: credentials === undefined,
    stage: 'the key exchange',
    timedOut: false,
  };

  // The deadline is for the server; time spent waiting for the user (a passphrase, a password,
  // the host key question) does not count against it.
  let timer: NodeJS.Timeout | null = null;
  let finished = false;
  const arm = () => {
    // A prompt answered after the connection ended must not start a new deadline.
    if (finished) return;
    timer = setTimeout(() => {
      seen.timedOut = true;
      pump.disconnect('probe timed out');
    }, timeoutMs);
  };
  const disarm = () => {
    if (timer) clearTimeout(timer);
    timer = null;
  };
  const whileWaitingForUser = async <T>(work: () => Promise<T>): Promise<T> => {
    disarm();
    try {
      return await work();
    } finally {
      arm();
    }
  };

  const pump = new ConnectionPump(engine, socket, {
    onDecision: async (decision) => {
      if (decision.kind === 'hostKey') {
        seen.fingerprint = decision.fingerprint;
        seen.stage = 'the end of the key exchange';
        if (!hostKeyPolicy) {
          // Reporting the key is the point; with nothing to check it against it stays unverified.
          seen.stopAfterNone = true;
          withdrawCredentials();
          return true;
        }
        const verdict = await whileWaitingForUser(() => hostKeyPolicy.verify(decision));
        seen.hostKeyStatus = verdict.outcome;
        if (verdict.outcome === 'unverified') {
          seen.stopAfterNone = true;
          withdrawCredentials();
        }
        if (verdict.restrictions) credentials?.disableInteractive('the host key does not match known_hosts (accepted only because of StrictHostKeyChecking=no)');
        return true;
      }
      if (credentials?.handles(decision)) {
        seen.stage = 'the server to finish authentication';
        return whileWaitingForUser(() => credentials.answer(decision));
      }
      return null;
    },
    onEvent: (event) => {
      switch (event.type) {
        case 'kexComplete':
          if (event.initial) seen.algorithms = event.algorithms;
          seen.stage = 'the answer to the "none" authentication request';
          return;
        case 'authFailure':
          if (seen.authMethods === null) {
            seen.authMethods = event.methods;
            seen.stage = 'the server to finish authentication';
            if (seen.stopAfterNone) pump.disconnect('probe complete');
          }
          return;
        case 'authSuccess':
          seen.authMethod = event.method;
          if (seen.authMethods === null) {
            seen.authMethods = [];
            seen.noneAccepted = true;
          }
          pump.disconnect('probe complete');
          return;
        default:
          return;
      }
    },
  });
  arm();
  const reason = await pump.closed;
  finished = true;
  disarm();

  const { algorithms: a, fingerprint, authMethods } = seen;
  // Authentication is over when we gave up, or when the server hung up on us during it.
  const authOver = reason instanceof SshAuthenticationError || (reason instanceof SshPeerDisconnectError && seen.authMethods !== null && seen.authMethod === null);
  if (a !== null && fingerprint !== null && authMethods !== null && (reason === null || authOver)) {
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
      authResult: seen.authMethod !== null ? 'success' : 'failure',
      authMethod: seen.authMethod,
      authDisconnect: reason instanceof SshPeerDisconnectError ? reason.message : null,
      hostKeyStatus: seen.hostKeyStatus,
    };
  }
  if (reason instanceof HostKeyVerificationError) throw reason;
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
    `auth-result: ${r.authResult}`,
    `auth-method: ${r.authMethod ?? '(none)'}`,
    `host-key-status: ${r.hostKeyStatus}`,
  ];
}

/**
 * The same report as one JSON object with the same keys; lists are arrays, `strict-kex` a boolean,
 * an absent `server-sig-algs` and the `auth-method` of a failure are null.
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
    'auth-result': r.authResult,
    'auth-method': r.authMethod,
    'host-key-status': r.hostKeyStatus,
  });
}
