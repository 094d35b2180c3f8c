/**
 * SshEngine: one SSH-2 connection, client or server, with no I/O of its own (RFC 4253 transport,
 * RFC 8308 extension negotiation, OpenSSH strict kex; authentication and connection layers are
 * reached through it).
 *
 * The methods come in four kinds, always used in this order:
 *
 * 1. Inputs — `receive(bytes, now)`, `receiveEof(now)`, `handleTimeout(now)`. They never throw
 *    because of what the peer sent: a violation queues SSH_MSG_DISCONNECT with the matching reason
 *    code, emits one terminal `closed` event carrying a typed error, and every later call is a no-op
 *    (sticky failure).
 * 2. Commands — `resolve(decisionId, answer, now)`; transport: `rekey(now)`,
 *    `disconnect(reason, text, now)`, `sendIgnore(data, now)`; connection (after authentication):
 *    `openChannel` / `openSession` / `openDirectTcpip`, `channelRequest`, `write(channel, data)`,
 *    `consumed(channel, n)` (the application took n bytes: the window reopens), `eof`, `close`,
 *    `globalRequest`, `proveHostKeys`. Local misuse (wrong phase, unknown decision or channel,
 *    a malformed answer) throws SshUsageError and changes nothing.
 * 3. Outputs — pull after every input or command, in this order: `pollTransmit()` (bytes for the
 *    socket, one buffer per flush), `pollTimeout()` (the next absolute deadline, or null),
 *    `pollEvent()` (events for the application, until it returns null).
 * 4. Getters — `phase`, `algorithms`, `sessionId`, `peerIdentification`, `serverSignatureAlgorithms`,
 *    `statistics`, `isClosed`, `channelInfo(channel)`, `snapshot()`.
 *
 * `now` is the embedder's monotonic clock in milliseconds; it must never decrease. Core reads no
 * clock: all deadlines live in one {@link TimerTable}.
 *
 * Incoming messages are routed by number range (RFC 4250 4.1): after the transport machine's
 * {@link classifyMessage} accepts a number, 1-49 are handled here, 50-79 by the authentication
 * layer and 80-127 by the connection layer. While a blocking decision (host key, authentication) is
 * pending the engine stops decoding later packets; the bytes stay buffered (bounded) until it is
 * resolved. Connection decisions (channel opens and requests) do not block: other channels go on,
 * and replies still leave in request order.
 */
import { createActor, type Actor } from 'xstate';
import { classifyMessage, holdsOutgoingTraffic, phaseOf, transportMachine, type MessageVerdict, type TransportEffect, type TransportEvent, type TransportPhase } from '../machines/transport.ts';
import { cipherInfo, createNoneOpener, createNoneSealer, createOpener, createSealer } from './cipher/index.ts';
import type { CryptoProvider, RandomSource } from './crypto/provider.ts';
import { pureCrypto } from './crypto/pure.ts';
import {
  DisconnectReason,
  SshError,
  SshPeerDisconnectError,
  SshProtocolError,
  SshUsageError,
  kexError,
  protocolError,
  type DisconnectReasonCode,
} from './errors.ts';
import type { Decision, DecisionBody, NegotiatedAlgorithms, SshEvent } from './events.ts';
import { GEX_SHA256, kexMethods } from './kex/index.ts';
import { fingerprintSha256 } from './keys/format.ts';
import type { PrivateKey } from './keys/private-key.ts';
import { parsePublicKeyBlob, publicKeysEqual } from './keys/public-key.ts';
import {
  certificateKeyTypeForAlgorithm,
  certificateSignatureAlgorithms,
  isCertificateAlgorithm,
  parseCertificate,
  signatureAlgorithmForCertAlgorithm,
  type Certificate,
} from './keys/certificate.ts';
import { SIGNATURE_ALGORITHMS, sign, signatureAlgorithmsForKey, verifySignature } from './keys/signature.ts';
import { systemRandom } from './random.ts';
import { ClientAuth, certificateAlgorithmFor, type ClientAuthOptions } from './auth/client.ts';
import type { AuthHost } from './auth/host.ts';
import { ServerAuth } from './auth/server.ts';
import { ConnectionLayer, type ChannelInfo, type ConnectionHost } from './connection/connection.ts';
import type { ChannelOpenRequest, ChannelRequest, GlobalRequest } from './connection/messages.ts';
import { resolveAlgorithms, type AlgorithmPreferences } from './transport/algorithms.ts';
import { formatIdentification, parseIdentification, type PeerIdentification } from './transport/identification.ts';
import {
  EXT_INFO_C,
  EXT_INFO_S,
  STRICT_KEX_C,
  STRICT_KEX_S,
  decodeKexInit,
  encodeKexInit,
  guessWasRight,
  negotiate,
  type KexInit,
} from './transport/kexinit.ts';
import { PacketDecoder, PacketEncoder } from './transport/packet.ts';
import { KeyExchange, type KeyExchangeHost } from './transport/key-exchange.ts';
import { TimerTable } from './timers.ts';
import { Msg } from './wire/messages.ts';
import { SshReader } from './wire/reader.ts';
import { SshWriter, concatBytes } from './wire/writer.ts';

export type SshRole = 'client' | 'server';

export interface SshEngineOptions {
  readonly role: SshRole;
  /** The embedder's clock at creation (monotonic milliseconds). */
  readonly now: number;
  readonly crypto?: CryptoProvider;
  /** Randomness; default Web Crypto. A seeded source makes a run byte-for-byte reproducible. */
  readonly random?: RandomSource;
  /** Software version for the identification line (default `hermit_0.1`). */
  readonly softwareVersion?: string;
  /** Algorithm lists: full lists or OpenSSH-style `+`/`-`/`^` modifiers of the defaults. */
  readonly algorithms?: Partial<Record<keyof AlgorithmPreferences, string | readonly string[]>>;
  /** Strict key exchange (Terrapin countermeasure). Default true. */
  readonly strictKex?: boolean;
  /** Server: host keys (at least one). */
  readonly hostKeys?: readonly PrivateKey[];
  /** Server: OpenSSH host certificates (blobs) for some of `hostKeys`, offered under the cert algorithms. */
  readonly hostCertificates?: readonly Uint8Array[];
  /** Re-key after this many bytes in either direction (default 1 GiB, lowered for small-block ciphers). */
  readonly rekeyBytes?: number;
  /** Re-key after this many packets in either direction (default 2^31). */
  readonly rekeyPackets?: number;
  /** Re-key after this much time (default 1 hour). 0 disables. */
  readonly rekeyIntervalMs?: number;
  /** Server: the whole login (kex + auth) must finish within this (default 120 s, 0 disables). */
  readonly loginGraceMs?: number;
  /** Client: the key exchange must finish within this (default 120 s, 0 disables). */
  readonly handshakeTimeoutMs?: number;
  /** Client: user name for authentication (default `root`, but adapters always set it). */
  readonly username?: string;
  /** Client: methods, keys and limits for authentication (see core/auth/client.ts). */
  readonly clientAuth?: Omit<ClientAuthOptions, 'username'>;
  /**
   * Server: accept the `none` method (RFC 4252 section 5.2), as anonymous services do. Default
   * false: method chains come from the `authMethods` decision.
   */
  readonly acceptNoneAuthentication?: boolean;
  /** Server: failed attempts before disconnecting (OpenSSH MaxAuthTries, default 6). */
  readonly maxAuthTries?: number;
  /** Server: a USERAUTH_BANNER text sent before the first authentication answer. */
  readonly banner?: string;
  /** Receive window granted per channel (default 2 MiB) and largest data packet accepted (default 32 KiB). */
  readonly channelWindow?: number;
  readonly channelMaxPacket?: number;
  /** Channels open at once (default 1024). */
  readonly maxChannels?: number;
  /**
   * Keepalive like ServerAliveInterval / ClientAliveInterval: after this long without hearing from
   * the peer, send keepalive@openssh.com; after `keepaliveCountMax` unanswered ones, disconnect.
   * 0 (default) disables.
   */
  readonly keepaliveIntervalMs?: number;
  readonly keepaliveCountMax?: number;
  /** Server: announce host keys after authentication (hostkeys-00@openssh.com). Default true. */
  readonly announceHostKeys?: boolean;
  /** Diffie-Hellman group exchange bounds (client), RFC 4419 section 3. */
  readonly gexBits?: { readonly min: number; readonly preferred: number; readonly max: number };
}

export interface SshStatistics {
  readonly bytesSent: number;
  readonly bytesReceived: number;
  readonly packetsSent: number;
  readonly packetsReceived: number;
  readonly keyExchanges: number;
}

/** Everything about a connection that is safe to log or serialise: no keys, no secrets. */
export interface SshEngineSnapshot {
  readonly role: SshRole;
  readonly phase: TransportPhase;
  readonly localVersion: string;
  readonly peerVersion: string | null;
  readonly algorithms: NegotiatedAlgorithms | null;
  readonly statistics: SshStatistics;
  readonly closed: boolean;
}

const DEFAULT_REKEY_BYTES = 1024 * 1024 * 1024;
const DEFAULT_REKEY_PACKETS = 2 ** 31;
const DEFAULT_REKEY_INTERVAL = 60 * 60 * 1000;
/** Input kept while a decision blocks decoding; more than this is a peer flooding us. */
const MAX_BLOCKED_INPUT = 8 * 1024 * 1024;
/** How much of an SSH_MSG_DEBUG text the `debug` event shows (the message itself may fill a packet). */
export const DEBUG_SHOWN_BYTES = 1024;
/** Signature algorithms we accept for user authentication (announced as server-sig-algs). */
const SERVER_SIG_ALGS = SIGNATURE_ALGORITHMS.filter((a) => a !== 'ssh-rsa');

interface PendingDecision {
  readonly decision: Decision;
  /** Validates the answer (throwing SshUsageError before any change) and acts on it. */
  readonly onAnswer: (answer: unknown) => void;
  /** A blocking decision stops packet decoding until it is answered. */
  readonly blocking: boolean;
}

export class SshEngine {
  readonly role: SshRole;
  private readonly crypto: CryptoProvider;
  private readonly random: RandomSource;
  private readonly prefs: AlgorithmPreferences;
  private readonly strictKexWanted: boolean;
  private readonly hostKeys: readonly PrivateKey[];
  private readonly hostCerts: readonly Certificate[];
  private readonly options: SshEngineOptions;
  private readonly localVersion: string;
  private peer: PeerIdentification | null = null;

  private readonly actor: Actor<typeof transportMachine>;
  private phaseCache: TransportPhase = 'identification';
  private readonly pendingEffects: TransportEffect[] = [];
  private verdictKey = '';
  private verdictTable: Array<MessageVerdict | undefined> = [];
  private machineError: unknown = null;

  private readonly encoder: PacketEncoder;
  private readonly decoder: PacketDecoder;
  private readonly transmitQueue: Uint8Array[] = [];
  private readonly events: SshEvent[] = [];
  private readonly timers = new TimerTable();
  private readonly decisions = new Map<number, PendingDecision>();
  private nextDecisionId = 1;
  private blockedBy = 0;
  /** Messages queued while our side of a key exchange is in progress (RFC 4253 section 7.1). */
  private held: Uint8Array[] = [];

  private kex: KeyExchange | null = null;
  private negotiatedAlgorithms: NegotiatedAlgorithms | null = null;
  private strict = false;
  private sessionIdBytes: Uint8Array | null = null;
  private initialHostKeyBlob: Uint8Array | null = null;
  private peerWantsExtInfo = false;
  private serverSigAlgs: readonly string[] | null = null;
  private peerKexinitCount = 0;
  private readonly connection: ConnectionLayer;
  private keepaliveOutstanding = 0;
  private readonly clientAuth: ClientAuth | null = null;
  private readonly serverAuth: ServerAuth | null = null;

  private closed = false;
  private now: number;

  private stats = { bytesSent: 0, bytesReceived: 0, packetsSent: 0, packetsReceived: 0, keyExchanges: 0 };
  /** Traffic since the last key exchange, for automatic re-keying (RFC 4344 section 3). */
  private sinceKex = { bytesOut: 0, bytesIn: 0, packetsOut: 0, packetsIn: 0 };
  /** The configured byte limit; the effective one also depends on the negotiated ciphers. */
  private readonly configuredRekeyBytes: number;
  private rekeyBytes: number;

  constructor(options: SshEngineOptions) {
    this.options = options;
    this.role = options.role;
    this.now = options.now;
    this.crypto = options.crypto ?? pureCrypto;
    this.random = options.random ?? systemRandom;
    this.prefs = resolveAlgorithms(options.algorithms);
    this.strictKexWanted = options.strictKex ?? true;
    this.hostKeys = options.hostKeys ?? [];
    this.hostCerts = (options.hostCertificates ?? []).map((blob) => {
      const cert = parseCertificate(blob);
      if (cert.certType !== 'host') throw new SshUsageError(`certificate "${cert.keyId}" is a user certificate; a server needs host certificates (ssh-keygen -h)`);
      if (!this.hostKeys.some((k) => publicKeysEqual(k.publicKey, cert.publicKey))) throw new SshUsageError(`host certificate "${cert.keyId}" certifies a key that is not among the host keys`);
      return cert;
    });
    this.configuredRekeyBytes = options.rekeyBytes ?? DEFAULT_REKEY_BYTES;
    this.rekeyBytes = this.configuredRekeyBytes;
    if (this.role === 'server' && this.hostKeys.length === 0) throw new SshUsageError('a server needs at least one host key (options.hostKeys)');
    if (this.role === 'server' && this.serverHostKeyAlgorithms().length === 0) {
      throw new SshUsageError(`none of the host keys can sign with the configured HostKeyAlgorithms (${this.prefs.hostKey.join(',')})`);
    }
    this.localVersion = formatIdentification(options.softwareVersion ?? 'hermit_0.1');
    this.encoder = new PacketEncoder(createNoneSealer(), this.random);
    this.decoder = new PacketDecoder(createNoneOpener());

    this.actor = createActor(transportMachine, { input: { role: this.role } });
    this.actor.on('*', (effect) => this.pendingEffects.push(effect as TransportEffect));
    // Without an error observer xstate rethrows machine errors from a global timer.
    this.actor.subscribe({ error: (err) => (this.machineError = err) });
    this.actor.start();

    this.connection = new ConnectionLayer(this.connectionHost(), {
      role: this.role,
      ...(options.channelWindow !== undefined ? { window: options.channelWindow } : {}),
      ...(options.channelMaxPacket !== undefined ? { maxPacket: options.channelMaxPacket } : {}),
      ...(options.maxChannels !== undefined ? { maxChannels: options.maxChannels } : {}),
    });
    const authHost = this.authHost();
    if (this.role === 'client') {
      this.clientAuth = new ClientAuth(authHost, { ...options.clientAuth, username: options.username ?? 'root' });
    } else {
      const sha1 = this.prefs.hostKey.includes('ssh-rsa') ? ['ssh-rsa'] : [];
      const plain = [...SERVER_SIG_ALGS, ...sha1];
      this.serverAuth = new ServerAuth(authHost, {
        publicKeyAlgorithms: [...plain, ...plain.map(certificateAlgorithmFor)],
        ...(options.maxAuthTries !== undefined ? { maxAuthTries: options.maxAuthTries } : {}),
        ...(options.acceptNoneAuthentication !== undefined ? { acceptNoneAuthentication: options.acceptNoneAuthentication } : {}),
        ...(options.banner !== undefined ? { banner: options.banner } : {}),
      });
    }
    this.transmitQueue.push(new TextEncoder().encode(this.localVersion + '\r\n'));
    this.sendKexInit();
    const grace = options.loginGraceMs ?? 120_000;
    if (this.role === 'server' && grace > 0) this.timers.set('loginGrace', this.now + grace);
    const handshake = options.handshakeTimeoutMs ?? 120_000;
    if (this.role === 'client' && handshake > 0) this.timers.set('handshake', this.now + handshake);
  }

  // ---------------------------------------------------------------- 1. inputs

  receive(bytes: Uint8Array, now: number): void {
    if (this.closed) return;
    this.tick(now);
    this.stats.bytesReceived += bytes.length;
    this.decoder.push(bytes);
    this.guard(() => {
      // While a decision blocks decoding, what arrives is only buffered: bound it.
      if (this.blockedBy !== 0 && this.decoder.buffered > MAX_BLOCKED_INPUT) {
        throw new SshProtocolError('LIMIT_EXCEEDED', DisconnectReason.PROTOCOL_ERROR, `peer sent more than ${MAX_BLOCKED_INPUT} bytes while a decision was pending`);
      }
      this.processInput();
    });
  }

  receiveEof(now: number): void {
    if (this.closed) return;
    this.tick(now);
    this.terminate(new SshError('CONNECTION_LOST', 'the peer closed the connection without SSH_MSG_DISCONNECT'), null);
  }

  handleTimeout(now: number): void {
    if (this.closed) return;
    this.tick(now);
    this.guard(() => {
      for (const name of this.timers.takeExpired(now)) {
        if (this.closed) return;
        if (name === 'rekey') this.maybeStartRekey(true);
        else if (name === 'keepalive') this.keepaliveDue();
        else if (name === 'loginGrace') {
          this.failWith(new SshProtocolError('TIMEOUT', DisconnectReason.BY_APPLICATION, 'login grace time exceeded'));
        } else if (name === 'handshake') {
          this.failWith(new SshProtocolError('TIMEOUT', DisconnectReason.BY_APPLICATION, 'the key exchange did not finish in time'));
        }
      }
    });
  }

  // ---------------------------------------------------------------- 2. commands

  /** Answer a decision event. */
  resolve(decisionId: number, answer: unknown, now: number): void {
    if (this.closed) return;
    this.tick(now);
    const pending = this.decisions.get(decisionId);
    if (!pending) throw new SshUsageError(`no pending decision with id ${decisionId}`);
    this.guard(() => {
      // onAnswer throws SshUsageError (rethrown by guard) for a malformed answer before changing
      // anything, so the decision stays pending and can be answered again.
      this.decisions.delete(decisionId);
      if (this.blockedBy === decisionId) this.blockedBy = 0;
      try {
        pending.onAnswer(answer);
      } catch (err) {
        if (err instanceof SshUsageError && !this.closed) {
          this.decisions.set(decisionId, pending);
          if (this.blockedBy === 0 && pending.blocking) this.blockedBy = decisionId;
        }
        throw err;
      }
      if (!this.closed && this.blockedBy === 0) this.processInput();
    });
  }

  /** Start a key re-exchange now (RFC 4253 section 9). */
  rekey(now: number): void {
    if (this.closed) throw new SshUsageError('the connection is closed');
    this.tick(now);
    if (!this.phaseCache.startsWith('established.idle.')) throw new SshUsageError(`cannot re-key in phase ${this.phaseCache}: a key exchange is already running or the handshake has not finished`);
    this.guard(() => this.startRekey());
  }

  private connectionCommand<T>(now: number, what: string, fn: () => T): T {
    if (this.closed) throw new SshUsageError('the connection is closed');
    this.tick(now);
    if (!this.phaseCache.endsWith('.connection')) throw new SshUsageError(`${what} needs an authenticated connection (phase ${this.phaseCache})`);
    let result!: T;
    this.guard(() => {
      result = fn();
    });
    return result;
  }

  /**
   * Send SSH_MSG_GLOBAL_REQUEST (RFC 4254 section 4). With `wantReply` the answer arrives as a
   * `globalReply` event (with `port` for tcpip-forward to port 0); replies come in request order.
   */
  globalRequest(request: GlobalRequest, wantReply: boolean, now: number): void {
    this.connectionCommand(now, 'a global request', () => this.connection.globalRequest(request, wantReply));
  }

  /** Open a channel (RFC 4254 5.1); `channelOpenConfirmed` or `channelOpenFailed` follows. Returns our channel id. */
  openChannel(request: ChannelOpenRequest, now: number): number {
    return this.connectionCommand(now, 'opening a channel', () => this.connection.openChannel(request));
  }

  openSession(now: number): number {
    return this.openChannel({ type: 'session' }, now);
  }

  openDirectTcpip(host: string, port: number, originatorAddress: string, originatorPort: number, now: number): number {
    return this.openChannel({ type: 'direct-tcpip', host, port, originatorAddress, originatorPort }, now);
  }

  /** A channel request (RFC 4254 6); with `wantReply` a `channelRequestReply` event follows, in order. */
  channelRequest(channel: number, request: ChannelRequest, wantReply: boolean, now: number): void {
    this.connectionCommand(now, 'a channel request', () => this.connection.channelRequest(channel, request, wantReply));
  }

  /** Queue data (dataType 1 = stderr); it is sent within the peer's window, in order. */
  write(channel: number, data: Uint8Array, now: number, dataType = 0): void {
    this.connectionCommand(now, 'writing', () => this.connection.write(channel, data, dataType));
  }

  /** The application has taken `n` bytes of the channel's data: the window may be reopened. */
  consumed(channel: number, n: number, now: number): void {
    this.connectionCommand(now, 'consumed()', () => this.connection.consumed(channel, n));
  }

  /** Send EOF once all queued data is out. */
  eof(channel: number, now: number): void {
    this.connectionCommand(now, 'eof()', () => this.connection.eof(channel));
  }

  /** Send CLOSE once all queued data is out; `channelClosed` follows when the peer's CLOSE arrives. */
  close(channel: number, now: number): void {
    this.connectionCommand(now, 'close()', () => this.connection.close(channel));
  }

  /** Client: ask the server to prove it holds these announced host keys (hostkeys-prove-00@openssh.com). */
  proveHostKeys(keys: readonly Uint8Array[], now: number): void {
    this.connectionCommand(now, 'proveHostKeys()', () => this.connection.globalRequest({ type: 'hostkeys-prove-00@openssh.com', keys }, true));
  }

  channelInfo(channel: number): ChannelInfo {
    return this.connection.info(channel);
  }

  /** Send SSH_MSG_IGNORE (RFC 4253 section 11.2): padding traffic or a keepalive probe. */
  sendIgnore(data: Uint8Array, now: number): void {
    if (this.closed) throw new SshUsageError('the connection is closed');
    this.tick(now);
    this.sendPacket(new SshWriter().byte(Msg.IGNORE).string(data).finish());
  }

  /** Say goodbye: queue SSH_MSG_DISCONNECT and close. `closed` carries a null error. */
  disconnect(reason: DisconnectReasonCode = DisconnectReason.BY_APPLICATION, description = 'disconnected by application', now = this.now): void {
    if (this.closed) return;
    this.tick(now);
    this.terminate(null, { reason, description });
  }

  // ---------------------------------------------------------------- 3. outputs

  pollTransmit(): Uint8Array | null {
    if (this.transmitQueue.length === 0) return null;
    const out = this.transmitQueue.length === 1 ? this.transmitQueue[0]! : concatBytes(...this.transmitQueue);
    this.transmitQueue.length = 0;
    return out;
  }

  pollTimeout(): number | null {
    return this.closed ? null : this.timers.next();
  }

  pollEvent(): SshEvent | null {
    return this.events.shift() ?? null;
  }

  // ---------------------------------------------------------------- 4. getters

  get phase(): TransportPhase {
    return this.phaseCache;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get algorithms(): NegotiatedAlgorithms | null {
    return this.negotiatedAlgorithms;
  }

  get sessionId(): Uint8Array | null {
    return this.sessionIdBytes ? this.sessionIdBytes.slice() : null;
  }

  get peerIdentification(): string | null {
    return this.peer?.line ?? null;
  }

  /** Client: the server's `server-sig-algs` from EXT_INFO, or null if it sent none. */
  get serverSignatureAlgorithms(): readonly string[] | null {
    return this.serverSigAlgs;
  }

  get statistics(): SshStatistics {
    return { ...this.stats };
  }

  snapshot(): SshEngineSnapshot {
    return {
      role: this.role,
      phase: this.phaseCache,
      localVersion: this.localVersion,
      peerVersion: this.peer?.line ?? null,
      algorithms: this.negotiatedAlgorithms,
      statistics: this.statistics,
      closed: this.closed,
    };
  }

  // ---------------------------------------------------------------- internals: plumbing

  private tick(now: number): void {
    if (now < this.now) throw new SshUsageError(`time went backwards: now=${now} after ${this.now}; pass a monotonic clock`);
    this.now = now;
  }

  /** Run input processing; anything thrown becomes a sticky failure instead of escaping. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (err instanceof SshUsageError) throw err;
      this.failWith(err instanceof SshProtocolError ? err : protocolError(`internal error while processing input: ${err instanceof Error ? err.message : String(err)}`));
    }
  }

  private failWith(error: SshProtocolError): void {
    this.terminate(error, { reason: error.reason, description: error.message });
  }

  private terminate(error: SshError | null, goodbye: { reason: number; description: string } | null): void {
    if (this.closed) return;
    if (goodbye && this.phaseCache !== 'identification') {
      // DISCONNECT may always be sent, even mid key exchange (RFC 4253 section 11.1).
      const w = new SshWriter().byte(Msg.DISCONNECT).uint32(goodbye.reason).string(goodbye.description.slice(0, 512)).string('');
      this.writePacket(w.finish());
    }
    this.closed = true;
    this.timers.clearAll();
    this.decisions.clear();
    this.held = [];
    this.kex = null;
    this.actor.send({ type: 'CLOSE' });
    this.phaseCache = 'closed';
    this.actor.stop();
    this.events.push({ type: 'closed', error });
  }

  private emit(event: SshEvent): void {
    this.events.push(event);
  }

  /** Send a payload, holding it if our side of a key exchange is in progress. */
  private sendPacket(payload: Uint8Array, tail?: Uint8Array): void {
    const msg = payload[0]!;
    const kexClass = msg <= 4 || (msg >= 20 && msg <= 49);
    if (!kexClass && (holdsOutgoingTraffic(this.phaseCache) || this.held.length > 0)) {
      this.held.push(tail ? concatBytes(payload, tail) : payload);
      return;
    }
    this.writePacket(payload, tail);
    // A sender that hears nothing back must still re-key by volume (RFC 4253 section 9).
    if (!kexClass) this.maybeStartRekey(false);
  }

  private writePacket(payload: Uint8Array, tail?: Uint8Array): void {
    const wire = this.encoder.encode(payload, tail);
    this.transmitQueue.push(wire);
    this.stats.bytesSent += wire.length;
    this.stats.packetsSent++;
    this.sinceKex.bytesOut += wire.length;
    this.sinceKex.packetsOut++;
    if (this.encoder.sequence === 0 && !this.negotiatedAlgorithms) {
      throw protocolError('sequence number wrapped during the initial key exchange');
    }
  }

  private processInput(): void {
    while (!this.closed && this.blockedBy === 0) {
      if (this.phaseCache === 'identification') {
        const result = parseIdentification(this.decoder.peekRaw(), this.role === 'client');
        if (!result.done) return;
        this.decoder.consumeRaw(result.consumed);
        this.peer = result.identification;
        this.machine({ type: 'PEER_VERSION' });
        continue;
      }
      const before = this.decoder.sequence;
      const payload = this.decoder.next();
      if (payload === null) return;
      if (payload.length === 0) throw protocolError('empty packet payload');
      this.stats.packetsReceived++;
      this.noteHeardFromPeer();
      this.sinceKex.packetsIn++;
      this.sinceKex.bytesIn += payload.length;
      if (this.decoder.sequence === 0 && !this.negotiatedAlgorithms) throw protocolError('sequence number wrapped during the initial key exchange');
      this.dispatch(payload, before);
      this.maybeStartRekey(false);
    }
  }

  /** classifyMessage, memoised per phase: the hot path asks the same few numbers again and again. */
  private verdict(msg: number): MessageVerdict {
    const key = `${this.phaseCache}|${this.strict}`;
    if (this.verdictKey !== key) {
      this.verdictKey = key;
      this.verdictTable = new Array<MessageVerdict | undefined>(256);
    }
    return (this.verdictTable[msg] ??= classifyMessage(this.phaseCache, this.role, this.strict, msg));
  }

  private dispatch(payload: Uint8Array, sequence: number): void {
    const msg = payload[0]!;
    const verdict = this.verdict(msg);
    if (verdict === 'ignore') return;
    if (verdict === 'unimplemented') {
      this.sendPacket(new SshWriter().byte(Msg.UNIMPLEMENTED).uint32(sequence).finish());
      return;
    }
    if (verdict === 'refuse') {
      throw new SshProtocolError('UNEXPECTED_MESSAGE', DisconnectReason.PROTOCOL_ERROR, `unexpected message ${msg} in phase ${this.phaseCache}`);
    }
    if (msg < 50) this.handleTransport(msg, payload, sequence);
    else if (msg < 80) this.handleAuth(msg, payload);
    else this.handleConnection(msg, payload);
  }

  // ---------------------------------------------------------------- transport messages (1-49)

  private handleTransport(msg: number, payload: Uint8Array, sequence: number): void {
    switch (msg) {
      case Msg.DISCONNECT: {
        const r = new SshReader(payload, 'DISCONNECT');
        r.byte();
        const reason = r.uint32();
        let description = '';
        try {
          description = new TextDecoder().decode(r.string(4096));
        } catch {
          /* a truncated goodbye is still a goodbye */
        }
        this.terminate(new SshPeerDisconnectError(reason, description.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '?')), null);
        return;
      }
      case Msg.IGNORE:
        return;
      case Msg.UNIMPLEMENTED: {
        const r = new SshReader(payload, 'UNIMPLEMENTED');
        r.byte();
        this.emit({ type: 'unimplemented', sequence: r.uint32() });
        return;
      }
      case Msg.DEBUG: {
        const r = new SshReader(payload, 'DEBUG');
        r.byte();
        const alwaysDisplay = r.boolean();
        // RFC 4253 11.3: any DEBUG that fits a packet is valid; only what we show is bounded.
        const text = r.string(payload.length);
        const shown = new TextDecoder().decode(text.subarray(0, DEBUG_SHOWN_BYTES)).replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '?');
        const message = text.length > DEBUG_SHOWN_BYTES ? `${shown}… (${text.length} bytes)` : shown;
        this.emit({ type: 'debug', message, alwaysDisplay });
        return;
      }
      case Msg.SERVICE_REQUEST:
        return this.onServiceRequest(payload);
      case Msg.SERVICE_ACCEPT:
        return this.onServiceAccept(payload);
      case Msg.EXT_INFO:
        return this.onExtInfo(payload);
      case Msg.KEXINIT:
        return this.onKexInit(payload, sequence);
      case Msg.NEWKEYS:
        return this.onNewKeys(payload);
      default:
        if (!this.kex?.negotiated) throw protocolError(`key exchange message ${msg} before KEXINIT`);
        return this.kex.handle(msg, payload);
    }
  }

  private serverHostKeyAlgorithms(): string[] {
    const available = new Set(this.hostKeys.flatMap((k) => signatureAlgorithmsForKey(k.publicKey.type)));
    for (const cert of this.hostCerts) for (const alg of certificateSignatureAlgorithms(cert.type)) available.add(alg);
    return this.prefs.hostKey.filter((a) => available.has(a));
  }

  /** The host key (and certificate, for cert algorithms) that signs under `alg`. */
  private hostKeyFor(alg: string): { key: PrivateKey; blob: Uint8Array; signatureAlgorithm: string } | null {
    if (isCertificateAlgorithm(alg)) {
      const type = certificateKeyTypeForAlgorithm(alg);
      for (const cert of this.hostCerts) {
        if (cert.type !== type) continue;
        const key = this.hostKeys.find((k) => publicKeysEqual(k.publicKey, cert.publicKey));
        if (key) return { key, blob: cert.blob, signatureAlgorithm: signatureAlgorithmForCertAlgorithm(alg) };
      }
      return null;
    }
    const key = this.hostKeys.find((k) => signatureAlgorithmsForKey(k.publicKey.type).includes(alg));
    return key ? { key, blob: key.publicKey.blob, signatureAlgorithm: alg } : null;
  }

  private sendKexInit(): void {
    const initial = this.stats.keyExchanges === 0 && this.peerKexinitCount === 0;
    const kex = [...this.prefs.kex];
    if (initial) {
      // The pseudo-algorithms only mean something in the first KEXINIT (RFC 8308 2.1, PROTOCOL 1.10).
      kex.push(this.role === 'client' ? EXT_INFO_C : EXT_INFO_S);
      if (this.strictKexWanted) kex.push(this.role === 'client' ? STRICT_KEX_C : STRICT_KEX_S);
    }
    const ours: KexInit = {
      cookie: this.random(16),
      kex,
      hostKey: this.role === 'server' ? this.serverHostKeyAlgorithms() : [...this.prefs.hostKey],
      cipherC2S: this.prefs.cipher,
      cipherS2C: this.prefs.cipher,
      macC2S: this.prefs.mac,
      macS2C: this.prefs.mac,
      compressionC2S: this.prefs.compression,
      compressionS2C: this.prefs.compression,
      languagesC2S: [],
      languagesS2C: [],
      firstKexPacketFollows: false,
    };
    const oursPayload = encodeKexInit(ours);
    this.kex = new KeyExchange(this.kexHost(), ours, oursPayload);
    this.writePacket(oursPayload);
    this.machine({ type: 'KEXINIT_SENT' });
  }

  /**
   * Tell the transport machine a fact, then act on the effects it emitted. Effects run after the
   * transition so that they see the new phase.
   */
  private machine(event: TransportEvent): void {
    this.actor.send(event);
    if (this.machineError) throw protocolError(`internal state machine error: ${String(this.machineError)}`);
    this.phaseCache = phaseOf(this.actor.getSnapshot().value);
    while (this.pendingEffects.length > 0) {
      const effect = this.pendingEffects.shift()!;
      if (effect.type === 'sendKexinit') this.sendKexInit();
      else if (effect.type === 'kexComplete') this.afterKexComplete(effect.initial);
    }
  }

  private startRekey(): void {
    this.sendKexInit();
  }

  private maybeStartRekey(timerFired: boolean): void {
    if (this.closed || !this.phaseCache.startsWith('established.idle.connection')) {
      if (timerFired && !this.closed) this.armRekeyTimer();
      return;
    }
    const limitPackets = this.options.rekeyPackets ?? DEFAULT_REKEY_PACKETS;
    const s = this.sinceKex;
    if (timerFired || s.bytesIn >= this.rekeyBytes || s.bytesOut >= this.rekeyBytes || s.packetsIn >= limitPackets || s.packetsOut >= limitPackets) {
      this.startRekey();
    }
  }

  private noteHeardFromPeer(): void {
    this.keepaliveOutstanding = 0;
    const interval = this.options.keepaliveIntervalMs ?? 0;
    if (interval > 0 && this.phaseCache.endsWith('.connection')) this.timers.set('keepalive', this.now + interval);
  }

  private keepaliveDue(): void {
    const max = this.options.keepaliveCountMax ?? 3;
    if (this.keepaliveOutstanding >= max) {
      throw new SshProtocolError('TIMEOUT', DisconnectReason.BY_APPLICATION, `no answer to ${max} keepalive requests: the peer is gone`);
    }
    this.keepaliveOutstanding++;
    if (this.phaseCache.endsWith('.connection')) this.connection.globalRequest({ type: 'keepalive@openssh.com' }, true, true);
    this.timers.set('keepalive', this.now + (this.options.keepaliveIntervalMs ?? 0));
  }

  private armRekeyTimer(): void {
    const interval = this.options.rekeyIntervalMs ?? DEFAULT_REKEY_INTERVAL;
    if (interval > 0) this.timers.set('rekey', this.now + interval);
  }

  private onKexInit(payload: Uint8Array, sequence: number): void {
    const theirs = decodeKexInit(payload);
    const initial = this.stats.keyExchanges === 0;
    this.peerKexinitCount++;
    let strict = this.strict;
    if (initial) {
      strict = this.strictKexWanted && theirs.kex.includes(this.role === 'client' ? STRICT_KEX_S : STRICT_KEX_C);
      if (strict && sequence !== 0) throw protocolError('strict key exchange violated: KEXINIT was not the first packet');
      if (this.role === 'server') this.peerWantsExtInfo = theirs.kex.includes(EXT_INFO_C);
    }
    // A peer-initiated re-key makes the machine emit sendKexinit: ours goes out before our reply.
    this.machine({ type: 'KEXINIT_RECEIVED', strict });
    this.strict = strict;
    const round = this.kex!;
    round.theirs = theirs;
    round.theirsPayload = payload.slice();
    const client = this.role === 'client' ? round.ours : theirs;
    const server = this.role === 'server' ? round.ours : theirs;
    const negotiated = negotiate(client, server, (c) => cipherInfo[c]?.aead ?? false);
    round.negotiated = negotiated;
    if (theirs.firstKexPacketFollows && !guessWasRight(round.ours, theirs)) round.ignoreNextKexPacket = true;
    if (negotiated.kex !== GEX_SHA256) {
      const method = kexMethods.get(negotiated.kex);
      if (!method) throw kexError(`negotiated unknown kex ${negotiated.kex}`);
      round.method = method;
    }
    if (this.role === 'client') round.clientBegin();
  }

  /** Emit a decision; decoding of later packets waits until it is resolved. */
  private ask(body: DecisionBody, onAnswer: (answer: unknown) => void, blocking = true): void {
    const id = this.nextDecisionId++;
    const decision = { ...body, id, blocking } as Decision;
    this.decisions.set(id, { decision, onAnswer, blocking });
    if (blocking) this.blockedBy = id;
    this.emit({ type: 'decision', decision });
  }

  private authHost(): AuthHost {
    return {
      crypto: this.crypto,
      sessionId: () => this.sessionIdBytes!,
      serverSigAlgs: () => this.serverSigAlgs,
      send: (payload) => this.sendPacket(payload),
      emit: (event) => this.emit(event),
      ask: (body, onAnswer) => this.ask(body, onAnswer),
      succeeded: () => {
        this.machine({ type: 'AUTH_SUCCEEDED' });
        this.timers.clear('loginGrace');
        // Keepalive starts with the connection layer, even if the peer never sends another packet.
        this.noteHeardFromPeer();
        if (this.role === 'server' && (this.options.announceHostKeys ?? true)) {
          this.connection.globalRequest({ type: 'hostkeys-00@openssh.com', keys: this.hostKeys.map((k) => k.publicKey.blob) }, false);
        }
      },
      setPolicy: (policy) => {
        this.connection.policy = policy;
      },
    };
  }

  private kexHost(): KeyExchangeHost {
    return {
      role: this.role,
      crypto: this.crypto,
      random: this.random,
      localVersion: this.localVersion,
      gexBits: this.options.gexBits,
      peerVersion: () => this.peer!.line,
      write: (payload) => this.writePacket(payload),
      hostKeyFor: (alg) => this.hostKeyFor(alg),
      exchanged: () => this.sendNewKeys(),
      hostKeyVerified: ({ hostKey, algorithm, blob, certificate }) => {
        if (this.initialHostKeyBlob) {
          // RFC 4253 9 leaves it open; like OpenSSH, a re-key must present the key already trusted.
          if (!bytesEqual(this.initialHostKeyBlob, blob)) {
            throw new SshProtocolError('HOST_KEY_REJECTED', DisconnectReason.HOST_KEY_NOT_VERIFIABLE, 'the server presented a different host key during re-key');
          }
          return this.finishClientKex();
        }
        // The fingerprint is the key's, also for a certificate (as ssh shows it).
        const fingerprint = fingerprintSha256(hostKey.blob);
        this.ask({ kind: 'hostKey', hostKey, algorithm, fingerprint, ...(certificate ? { certificate } : {}) }, (answer) => {
          if (typeof answer !== 'boolean') throw new SshUsageError('a hostKey decision is answered with true (trust) or false (reject)');
          if (answer) this.finishClientKex();
          else this.failWith(new SshProtocolError('HOST_KEY_REJECTED', DisconnectReason.HOST_KEY_NOT_VERIFIABLE, `host key ${fingerprint} (${algorithm}) was not accepted`));
        });
      },
    };
  }

  private finishClientKex(): void {
    const round = this.kex!;
    if (!this.initialHostKeyBlob) this.initialHostKeyBlob = round.hostKeyBlob!;
    this.sendNewKeys();
  }

  private sendNewKeys(): void {
    const round = this.kex!;
    if (!this.sessionIdBytes) this.sessionIdBytes = round.exchangeHash!;
    this.writePacket(new Uint8Array([Msg.NEWKEYS]));
    const out = round.keysFor(this.role === 'client' ? 'c2s' : 's2c', this.sessionIdBytes);
    this.encoder.setSealer(createSealer(this.crypto, out.cipher, out.mac, out.keys));
    if (this.strict) this.encoder.sequence = 0;
    this.sinceKex.bytesOut = 0;
    this.sinceKex.packetsOut = 0;
    this.machine({ type: 'NEWKEYS_SENT' });
    const held = this.held;
    this.held = [];
    for (const payload of held) this.writePacket(payload);
  }

  private onNewKeys(payload: Uint8Array): void {
    if (payload.length !== 1) throw protocolError('NEWKEYS has trailing bytes');
    const round = this.kex!;
    const incoming = round.keysFor(this.role === 'client' ? 's2c' : 'c2s', this.sessionIdBytes);
    this.decoder.setOpener(createOpener(this.crypto, incoming.cipher, incoming.mac, incoming.keys));
    if (this.strict) this.decoder.sequence = 0;
    this.sinceKex.bytesIn = 0;
    this.sinceKex.packetsIn = 0;
    const n = round.negotiated!;
    this.negotiatedAlgorithms = {
      kex: n.kex,
      hostKey: n.hostKey,
      cipherClientToServer: n.cipherC2S,
      cipherServerToClient: n.cipherS2C,
      macClientToServer: n.macC2S,
      macServerToClient: n.macS2C,
      compressionClientToServer: n.compressionC2S,
      compressionServerToClient: n.compressionS2C,
      strictKex: this.strict,
    };
    this.kex = null;
    this.machine({ type: 'NEWKEYS_RECEIVED' });
  }

  private afterKexComplete(initial: boolean): void {
    this.stats.keyExchanges++;
    this.emit({ type: 'kexComplete', initial, algorithms: this.negotiatedAlgorithms! });
    this.timers.clear('rekey');
    this.armRekeyTimer();
    const a = this.negotiatedAlgorithms!;
    this.rekeyBytes = Math.min(this.configuredRekeyBytes, cipherRekeyLimit(a.cipherClientToServer), cipherRekeyLimit(a.cipherServerToClient));
    if (initial) {
      if (this.role === 'client') {
        this.timers.clear('handshake');
        this.sendPacket(new SshWriter().byte(Msg.SERVICE_REQUEST).string('ssh-userauth').finish());
      } else if (this.peerWantsExtInfo) {
        this.sendPacket(this.encodeExtInfo());
      }
    }
  }

  private encodeExtInfo(): Uint8Array {
    const sigAlgs = this.prefs.hostKey.includes('ssh-rsa') ? [...SERVER_SIG_ALGS, 'ssh-rsa'] : SERVER_SIG_ALGS;
    return new SshWriter().byte(Msg.EXT_INFO).uint32(1).string('server-sig-algs').string(sigAlgs.join(',')).finish();
  }

  private onExtInfo(payload: Uint8Array): void {
    const r = new SshReader(payload, 'EXT_INFO');
    r.byte();
    const count = r.uint32();
    if (count > 64) throw protocolError(`EXT_INFO announces ${count} extensions`);
    const extensions = new Map<string, Uint8Array>();
    for (let i = 0; i < count; i++) {
      const name = r.ascii(256);
      const value = r.string(65536);
      extensions.set(name, value.slice());
    }
    r.end();
    const sigAlgs = extensions.get('server-sig-algs');
    if (sigAlgs && this.role === 'client') {
      this.serverSigAlgs = new SshReader(new SshWriter().string(sigAlgs).finish(), 'server-sig-algs').nameList(65536);
    }
    this.emit({ type: 'extInfo', extensions });
  }

  private onServiceRequest(payload: Uint8Array): void {
    const r = new SshReader(payload, 'SERVICE_REQUEST');
    r.byte();
    const service = r.ascii(256);
    r.end();
    if (service !== 'ssh-userauth') {
      throw new SshProtocolError('SERVICE_NOT_AVAILABLE', DisconnectReason.SERVICE_NOT_AVAILABLE, `service ${JSON.stringify(service)} is not available`);
    }
    this.sendPacket(new SshWriter().byte(Msg.SERVICE_ACCEPT).string(service).finish());
    this.machine({ type: 'SERVICE_ACCEPTED' });
    this.emit({ type: 'serviceAccepted', service });
  }

  private onServiceAccept(payload: Uint8Array): void {
    const r = new SshReader(payload, 'SERVICE_ACCEPT');
    r.byte();
    const service = r.ascii(256);
    r.end();
    if (service !== 'ssh-userauth') throw protocolError(`server accepted service ${JSON.stringify(service)} that was not requested`);
    this.machine({ type: 'SERVICE_ACCEPTED' });
    this.emit({ type: 'serviceAccepted', service });
    this.clientAuth!.start();
  }

  // ---------------------------------------------------------------- authentication (50-79)

  private handleAuth(msg: number, payload: Uint8Array): void {
    if (this.serverAuth) this.serverAuth.handle(msg, payload);
    else this.clientAuth!.handle(msg, payload);
  }

  // ---------------------------------------------------------------- connection (80-127)

  private handleConnection(msg: number, payload: Uint8Array): void {
    this.connection.handle(msg, payload);
  }

  private connectionHost(): ConnectionHost {
    return {
      send: (payload, tail) => this.sendPacket(payload, tail),
      emit: (event) => this.emit(event),
      ask: (body, onAnswer) => this.ask(body, onAnswer, false),
      proveHostKey: (blob) => {
        const key = this.hostKeys.find((k) => bytesEqual(k.publicKey.blob, blob));
        if (!key) return null;
        const alg = signatureAlgorithmsForKey(key.publicKey.type)[0]!;
        return sign(this.crypto, key, alg, hostKeyProofData(this.sessionIdBytes!, blob));
      },
      verifyHostKeyProof: (blob, signature) => {
        try {
          const key = parsePublicKeyBlob(blob);
          const alg = new SshReader(signature, 'signature').ascii(64);
          if (!signatureAlgorithmsForKey(key.type).includes(alg) || (alg === 'ssh-rsa' && !this.prefs.hostKey.includes('ssh-rsa'))) return false;
          return verifySignature(this.crypto, key, alg, signature, hostKeyProofData(this.sessionIdBytes!, blob));
        } catch {
          return false;
        }
      },
    };
  }
}

/** What hostkeys-prove-00@openssh.com signs (OpenSSH PROTOCOL 2.5). */
function hostKeyProofData(sessionId: Uint8Array, blob: Uint8Array): Uint8Array {
  return new SshWriter().string('hostkeys-prove-00@openssh.com').string(sessionId).string(blob).finish();
}

/**
 * Bytes one key may protect. RFC 4344 section 3.2: an L-bit block cipher re-keys before 2^(L/4)
 * blocks; for smaller blocks (and ChaCha20, whose SSH "block" is 8 bytes) OpenSSH's 1 GiB applies.
 */
export function cipherRekeyLimit(cipher: string): number {
  const block = cipherInfo[cipher]?.blockSize ?? 8;
  return block >= 16 ? 2 ** ((block * 8) / 4) * block : 2 ** 30;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
