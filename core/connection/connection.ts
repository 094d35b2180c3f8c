/**
 * The connection protocol, RFC 4254: channels with flow control (section 5), session requests
 * (section 6), forwarding channel types (section 7), global requests (section 4), RFC 4335 break,
 * and OpenSSH PROTOCOL section 2 extensions (streamlocal, agent forwarding, eow,
 * no-more-sessions, hostkeys-00 / hostkeys-prove-00, keepalive).
 *
 * Lifecycles live in machines/channel.ts; this module keeps the window arithmetic and the queues,
 * which are too hot for a state machine:
 * - incoming data may not exceed the window we granted; the window is replenished only by
 *   `consumed(ch, n)`, i.e. after the application has actually taken the bytes;
 * - outgoing data is queued and cut to the peer's maximum packet and window, never beyond; EOF and
 *   CLOSE wait behind queued data so nothing written is lost or reordered;
 * - replies to want-reply requests (channel and global) go out in the order the requests came,
 *   whatever order the embedder answers the decisions in.
 */
import { createActor, type Actor } from 'xstate';
import { channelAccepts, channelHoldsCloseFor, channelMachine, channelMaySendControl, channelMaySendData, channelPhaseOf, type ChannelEvent, type ChannelMessage, type ChannelPhase } from '../../machines/channel.ts';
import { DisconnectReason, SshProtocolError, SshUsageError, protocolError } from '../errors.ts';
import type { DecisionBody, SshEvent } from '../events.ts';
import { Msg } from '../wire/messages.ts';
import { SshReader } from '../wire/reader.ts';
import { SshWriter } from '../wire/writer.ts';
import {
  channelOpenName,
  channelRequestName,
  decodeChannelOpenData,
  decodeChannelRequestData,
  decodeGlobalRequestData,
  encodeChannelOpenData,
  encodeChannelRequestData,
  encodeGlobalRequestData,
  globalRequestName,
  type ChannelOpenRequest,
  type ChannelRequest,
  type GlobalRequest,
} from './messages.ts';

/** RFC 4254 section 5.1 open failure reason codes. */
export const OpenFailure = {
  ADMINISTRATIVELY_PROHIBITED: 1,
  CONNECT_FAILED: 2,
  UNKNOWN_CHANNEL_TYPE: 3,
  RESOURCE_SHORTAGE: 4,
} as const;

export const DEFAULT_WINDOW = 2 * 1024 * 1024;
export const DEFAULT_MAX_PACKET = 32 * 1024;
const MAX_WINDOW = 0xffffffff;
/** Largest data chunk we put in one packet, whatever the peer allows (keeps under the 256 KiB packet limit). */
const MAX_CHUNK = 128 * 1024;

/**
 * What authorized_keys options (or any other policy) allow in this session. Absent fields allow.
 * The server enforces it before the embedder is asked.
 */
export interface SessionPolicy {
  readonly pty?: boolean;
  readonly portForwarding?: boolean;
  readonly agentForwarding?: boolean;
  readonly x11Forwarding?: boolean;
  readonly forcedCommand?: string;
  /** null or absent: any destination. */
  readonly permitOpen?: ReadonlyArray<{ readonly host: string; readonly port: number | '*' }> | null;
  readonly permitListen?: ReadonlyArray<{ readonly host?: string; readonly port: number | '*' }> | null;
}

export interface ConnectionOptions {
  readonly role: 'client' | 'server';
  readonly window?: number;
  readonly maxPacket?: number;
  readonly maxChannels?: number;
}

export interface ConnectionHost {
  /** Send a message; `tail`, when given, follows `payload` in the same message (bulk data, no extra copy). */
  send(payload: Uint8Array, tail?: Uint8Array): void;
  emit(event: SshEvent): void;
  /** A non-blocking decision: decoding goes on while it is open. */
  ask(body: DecisionBody, onAnswer: (answer: unknown) => void): void;
  /** Server: signatures proving possession of host keys (hostkeys-prove-00), or null for keys we do not hold. */
  proveHostKey?(blob: Uint8Array): Uint8Array | null;
  /** Client: verify a hostkeys-prove-00 signature for `blob`. */
  verifyHostKeyProof?(blob: Uint8Array, signature: Uint8Array): boolean;
}

interface OutChunk {
  data: Uint8Array;
  /** 0 = CHANNEL_DATA, 1 = stderr (EXTENDED_DATA type 1). */
  readonly dataType: number;
}

interface ReplySlot {
  answered: boolean;
  success: boolean;
  data?: Uint8Array;
}

export interface ChannelInfo {
  readonly id: number;
  readonly type: string;
  readonly phase: ChannelPhase;
  /** Bytes we may still send before the peer adjusts its window. */
  readonly remoteWindow: number;
  readonly remoteMaxPacket: number;
  /** Bytes the peer may still send us. */
  readonly localWindow: number;
  /** Bytes written by the application and not yet sent. */
  readonly bufferedAmount: number;
  /** Bytes delivered to the application and not yet reported consumed. */
  readonly unconsumed: number;
}

class Channel {
  readonly actor: Actor<typeof channelMachine>;
  phase: ChannelPhase;
  remoteId = -1;
  remoteWindow = 0;
  remoteMaxPacket = 0;
  localWindow: number;
  readonly initialWindow: number;
  readonly maxPacket: number;
  unconsumed = 0;
  pendingAdjust = 0;
  readonly outQueue: OutChunk[] = [];
  buffered = 0;
  eofPending = false;
  closePending = false;
  /** Names of our want-reply requests, in order. */
  readonly awaitingReplies: string[] = [];
  /** Replies we owe the peer, in request order. */
  readonly replySlots: ReplySlot[] = [];
  closeReported = false;
  /**
   * Server session channels: an accepted exec/shell/subsystem makes us owe the client an
   * exit-status or exit-signal (RFC 4254 6.10) until one is sent.
   */
  exitReport: 'none' | 'owed' | 'sent' = 'none';
  /** The peer's CLOSE arrived while the exit report was owed: ours waits for close(), after the report. */
  closeHeld = false;

  constructor(
    readonly id: number,
    readonly type: string,
    readonly weOpened: boolean,
    window: number,
    maxPacket: number,
  ) {
    this.initialWindow = window;
    this.localWindow = window;
    this.maxPacket = maxPacket;
    this.actor = createActor(channelMachine, { input: { initiator: weOpened ? 'local' : 'remote' } });
    this.actor.subscribe({ error: () => {} });
    this.actor.start();
    this.phase = channelPhaseOf(this.actor.getSnapshot().value);
  }

  step(event: ChannelEvent): void {
    this.actor.send(event);
    this.phase = channelPhaseOf(this.actor.getSnapshot().value);
  }
}

export class ConnectionLayer {
  private readonly channels = new Map<number, Channel>();
  /** Ids of channels that closed and have not been reused yet. */
  private readonly finishedIds = new Set<number>();
  private readonly window: number;
  private readonly maxPacket: number;
  private readonly maxChannels: number;
  /** Our want-reply global requests in order; `null` marks internal ones (keepalive) that emit nothing. */
  private readonly globalAwaiting: Array<{ name: string; internal: boolean; keys?: readonly Uint8Array[] }> = [];
  private readonly globalSlots: ReplySlot[] = [];
  private noMoreSessions = false;
  policy: SessionPolicy = {};

  constructor(
    private readonly host: ConnectionHost,
    private readonly options: ConnectionOptions,
  ) {
    this.window = options.window ?? DEFAULT_WINDOW;
    this.maxPacket = options.maxPacket ?? DEFAULT_MAX_PACKET;
    this.maxChannels = options.maxChannels ?? 1024;
    if (!Number.isInteger(this.window) || this.window < 1 || this.window > MAX_WINDOW) throw new SshUsageError(`channel window must be 1..${MAX_WINDOW} bytes`);
    if (!Number.isInteger(this.maxPacket) || this.maxPacket < 1 || this.maxPacket > MAX_CHUNK) throw new SshUsageError(`channel maximum packet must be 1..${MAX_CHUNK} bytes`);
  }

  // ---------------------------------------------------------------- commands

  openChannel(request: ChannelOpenRequest): number {
    if (this.channels.size >= this.maxChannels) throw new SshUsageError(`too many open channels (limit ${this.maxChannels})`);
    const ch = this.allocate(channelOpenName(request), true);
    this.host.send(
      new SshWriter().byte(Msg.CHANNEL_OPEN).string(ch.type).uint32(ch.id).uint32(ch.initialWindow).uint32(ch.maxPacket).raw(encodeChannelOpenData(request)).finish(),
    );
    return ch.id;
  }

  channelRequest(id: number, request: ChannelRequest, wantReply: boolean): void {
    const ch = this.usable(id);
    if (!channelMaySendControl(ch.phase)) throw new SshUsageError(`channel ${id} is closing: no more requests`);
    const name = channelRequestName(request);
    this.host.send(new SshWriter().byte(Msg.CHANNEL_REQUEST).uint32(ch.remoteId).string(name).boolean(wantReply).raw(encodeChannelRequestData(request)).finish());
    if (wantReply) ch.awaitingReplies.push(name);
    // The application's close(), which follows the report, sends the CLOSE a held one waits for.
    if (request.type === 'exit-status' || request.type === 'exit-signal') ch.exitReport = 'sent';
  }

  write(id: number, data: Uint8Array, dataType = 0): void {
    const ch = this.usable(id);
    // The peer closed and will read nothing more; the application learns it from channelPeerClosed.
    if (ch.closeHeld) return;
    if (!channelMaySendData(ch.phase) || ch.eofPending || ch.closePending) throw new SshUsageError(`channel ${id}: cannot write after EOF or close`);
    if (dataType !== 0 && dataType !== 1) throw new SshUsageError('extended data type must be 1 (stderr)');
    if (data.length === 0) return;
    ch.outQueue.push({ data: data.slice(), dataType });
    ch.buffered += data.length;
    this.flush(ch);
  }

  consumed(id: number, n: number): void {
    const ch = this.channels.get(id);
    // Data is often read after its channel closed: consuming it then changes nothing.
    if (!ch) return;
    if (!Number.isInteger(n) || n < 0 || n > ch.unconsumed) throw new SshUsageError(`channel ${id}: consumed(${n}) but only ${ch.unconsumed} bytes are unconsumed`);
    ch.unconsumed -= n;
    ch.pendingAdjust += n;
    this.maybeAdjust(ch);
  }

  eof(id: number): void {
    const ch = this.usable(id);
    if (ch.closeHeld || !channelMaySendData(ch.phase) || ch.eofPending) return;
    ch.eofPending = true;
    this.flush(ch);
  }

  close(id: number): void {
    const ch = this.channels.get(id);
    // The peer's CLOSE may have ended the channel before the application saw the event: closing
    // it again is a no-op until the id is given to a new channel.
    if (!ch && this.finishedIds.has(id)) return;
    if (!ch) throw new SshUsageError(`no channel ${id}`);
    if (ch.phase.stage === 'opening' && ch.weOpened) {
      // Closing before the peer answered: CLOSE must wait for the confirmation (we need its id).
      ch.closePending = true;
      return;
    }
    if (ch.phase.stage !== 'open' || ch.phase.send === 'closed') return;
    ch.closePending = true;
    this.flush(ch);
  }

  globalRequest(request: GlobalRequest, wantReply: boolean, internal = false): void {
    const name = globalRequestName(request);
    this.host.send(new SshWriter().byte(Msg.GLOBAL_REQUEST).string(name).boolean(wantReply).raw(encodeGlobalRequestData(request)).finish());
    if (wantReply) this.globalAwaiting.push({ name, internal, ...(request.type === 'hostkeys-prove-00@openssh.com' ? { keys: request.keys } : {}) });
  }

  info(id: number): ChannelInfo {
    const ch = this.channels.get(id);
    if (!ch) throw new SshUsageError(`no channel ${id}`);
    return {
      id,
      type: ch.type,
      phase: ch.phase,
      remoteWindow: ch.remoteWindow,
      remoteMaxPacket: ch.remoteMaxPacket,
      localWindow: ch.localWindow,
      bufferedAmount: ch.buffered,
      unconsumed: ch.unconsumed,
    };
  }

  get openChannels(): number {
    return this.channels.size;
  }

  /** After a re-key released held traffic nothing changes here; this exists for keepalive bookkeeping. */
  get hasPendingInternalReplies(): boolean {
    return this.globalAwaiting.some((g) => g.internal);
  }

  // ---------------------------------------------------------------- incoming

  handle(msg: number, payload: Uint8Array): void {
    const r = new SshReader(payload, `connection message ${msg}`);
    r.byte();
    switch (msg) {
      case Msg.GLOBAL_REQUEST:
        return this.onGlobalRequest(r);
      case Msg.REQUEST_SUCCESS:
      case Msg.REQUEST_FAILURE:
        return this.onGlobalReply(msg === Msg.REQUEST_SUCCESS, r);
      case Msg.CHANNEL_OPEN:
        return this.onOpen(r);
    }
    const id = r.uint32();
    const ch = this.channels.get(id);
    const kind = CHANNEL_MESSAGES[msg];
    if (!ch || !kind) throw protocolError(`message ${msg} for unknown channel ${id}`);
    if (!channelAccepts(ch.phase, kind, ch.weOpened)) {
      throw new SshProtocolError('UNEXPECTED_MESSAGE', DisconnectReason.PROTOCOL_ERROR, `channel ${id}: unexpected ${kind} (${ch.phase.stage}, receive ${ch.phase.receive}, send ${ch.phase.send})`);
    }
    switch (kind) {
      case 'confirmation':
        return this.onConfirmation(ch, r);
      case 'failure':
        return this.onOpenFailure(ch, r);
      case 'windowAdjust':
        return this.onWindowAdjust(ch, r);
      case 'data':
        return this.onData(ch, r, msg === Msg.CHANNEL_EXTENDED_DATA);
      case 'eof':
        r.end();
        ch.step({ type: 'EOF_RECEIVED' });
        this.host.emit({ type: 'channelEof', channel: ch.id });
        return;
      case 'close':
        r.end();
        return this.onClose(ch);
      case 'request':
        return this.onChannelRequest(ch, r);
      case 'success':
      case 'requestFailure': {
        r.end();
        const name = ch.awaitingReplies.shift();
        if (name === undefined) throw protocolError(`channel ${id}: reply to a request that was not made`);
        this.host.emit({ type: 'channelRequestReply', channel: ch.id, request: name, success: kind === 'success' });
        return;
      }
    }
  }

  private allocate(type: string, weOpened: boolean): Channel {
    let id = 0;
    while (this.channels.has(id)) id++;
    this.finishedIds.delete(id);
    const ch = new Channel(id, type, weOpened, this.window, this.maxPacket);
    this.channels.set(id, ch);
    return ch;
  }

  private usable(id: number): Channel {
    const ch = this.channels.get(id);
    if (!ch) throw new SshUsageError(`no channel ${id}`);
    if (ch.phase.stage !== 'open') throw new SshUsageError(`channel ${id} is ${ch.phase.stage}, not open`);
    return ch;
  }

  private onOpen(r: SshReader): void {
    const type = r.ascii(64);
    const senderId = r.uint32();
    const window = r.uint32();
    const maxPacket = r.uint32();
    const request = decodeChannelOpenData(type, r);
    const refuse = (reason: number, description: string) =>
      this.host.send(new SshWriter().byte(Msg.CHANNEL_OPEN_FAILURE).uint32(senderId).uint32(reason).string(description).string('').finish());
    if (this.channels.size >= this.maxChannels) return refuse(OpenFailure.RESOURCE_SHORTAGE, 'too many channels');
    const denied = this.policyRefusesOpen(request);
    if (denied) return refuse(OpenFailure.ADMINISTRATIVELY_PROHIBITED, denied);
    const ch = this.allocate(type, false);
    ch.remoteId = senderId;
    ch.remoteWindow = window;
    ch.remoteMaxPacket = maxPacket;
    this.host.ask({ kind: 'channelOpen', channel: ch.id, request }, (answer) => {
      if (answer === true) {
        ch.step({ type: 'CONFIRMED' });
        this.host.send(new SshWriter().byte(Msg.CHANNEL_OPEN_CONFIRMATION).uint32(ch.remoteId).uint32(ch.id).uint32(ch.initialWindow).uint32(ch.maxPacket).finish());
        return;
      }
      // RFC 4254 5.1: a type nobody here knows is UNKNOWN_CHANNEL_TYPE; a known one refused is policy.
      const unknownType = request.type === 'other';
      let reason: number = unknownType ? OpenFailure.UNKNOWN_CHANNEL_TYPE : OpenFailure.ADMINISTRATIVELY_PROHIBITED;
      let description = unknownType ? `unknown channel type ${type}` : 'refused';
      if (typeof answer === 'object' && answer !== null && typeof (answer as { reason?: unknown }).reason === 'number') {
        reason = (answer as { reason: number }).reason;
        description = String((answer as { description?: unknown }).description ?? '');
      } else if (answer !== false) {
        throw new SshUsageError('a channelOpen decision is answered with true, false or { reason, description }');
      }
      ch.step({ type: 'OPEN_FAILED' });
      this.channels.delete(ch.id);
      refuse(reason, description);
    });
  }

  private policyRefusesOpen(request: ChannelOpenRequest): string | null {
    const p = this.policy;
    if (this.options.role === 'server' && request.type === 'session' && this.noMoreSessions) return 'no-more-sessions was requested';
    if (request.type === 'direct-tcpip' || request.type === 'direct-streamlocal@openssh.com') {
      if (p.portForwarding === false) return 'port forwarding is not permitted for this key';
      if (request.type === 'direct-tcpip' && p.permitOpen) {
        const ok = p.permitOpen.some((e) => (e.host === '*' || e.host.toLowerCase() === request.host.toLowerCase()) && (e.port === '*' || e.port === request.port));
        if (!ok) return `forwarding to ${request.host}:${request.port} is not permitted (permitopen)`;
      }
    }
    return null;
  }

  private onConfirmation(ch: Channel, r: SshReader): void {
    ch.remoteId = r.uint32();
    ch.remoteWindow = r.uint32();
    ch.remoteMaxPacket = r.uint32();
    r.end();
    ch.step({ type: 'CONFIRMED' });
    this.host.emit({ type: 'channelOpenConfirmed', channel: ch.id });
    this.flush(ch);
  }

  private onOpenFailure(ch: Channel, r: SshReader): void {
    const reason = r.uint32();
    const description = r.text(4096);
    r.ascii(256);
    r.end();
    ch.step({ type: 'OPEN_FAILED' });
    this.channels.delete(ch.id);
    this.finishedIds.add(ch.id);
    this.host.emit({ type: 'channelOpenFailed', channel: ch.id, reason, description });
  }

  private onWindowAdjust(ch: Channel, r: SshReader): void {
    const add = r.uint32();
    r.end();
    if (ch.remoteWindow + add > MAX_WINDOW) throw protocolError(`channel ${ch.id}: window adjust of ${add} overflows the window (${ch.remoteWindow})`);
    ch.remoteWindow += add;
    this.flush(ch);
  }

  private onData(ch: Channel, r: SshReader, extended: boolean): void {
    const dataType = extended ? r.uint32() : 0;
    const data = r.string(MAX_CHUNK + 1024);
    r.end();
    if (data.length > ch.maxPacket) throw protocolError(`channel ${ch.id}: ${data.length} bytes of data exceed the maximum packet of ${ch.maxPacket}`);
    if (data.length > ch.localWindow) throw protocolError(`channel ${ch.id}: ${data.length} bytes of data exceed the window of ${ch.localWindow}`);
    ch.localWindow -= data.length;
    ch.unconsumed += data.length;
    // The decoder hands out a fresh buffer per packet, so the view can go to the application as is.
    this.host.emit({ type: 'channelData', channel: ch.id, data, dataType });
  }

  private maybeAdjust(ch: Channel): void {
    if (ch.pendingAdjust === 0 || !channelMaySendControl(ch.phase) || ch.phase.receive !== 'open') return;
    // Adjust in batches: when half the window is used up, or when it is nearly exhausted for small windows.
    if (ch.localWindow > ch.initialWindow / 2) return;
    const add = ch.pendingAdjust;
    ch.pendingAdjust = 0;
    ch.localWindow += add;
    this.host.send(new SshWriter().byte(Msg.CHANNEL_WINDOW_ADJUST).uint32(ch.remoteId).uint32(add).finish());
  }

  private flush(ch: Channel): void {
    if (ch.phase.stage !== 'open') return;
    const hadData = ch.buffered > 0;
    while (ch.outQueue.length > 0 && channelMaySendData(ch.phase) && ch.remoteWindow > 0) {
      const head = ch.outQueue[0]!;
      const n = Math.min(head.data.length, ch.remoteWindow, Math.max(1, Math.min(ch.remoteMaxPacket, MAX_CHUNK)));
      const chunk = head.data.subarray(0, n);
      const w = new SshWriter(16);
      if (head.dataType === 0) w.byte(Msg.CHANNEL_DATA).uint32(ch.remoteId).uint32(n);
      else w.byte(Msg.CHANNEL_EXTENDED_DATA).uint32(ch.remoteId).uint32(head.dataType).uint32(n);
      this.host.send(w.finish(), chunk);
      ch.remoteWindow -= n;
      ch.buffered -= n;
      if (n === head.data.length) ch.outQueue.shift();
      else head.data = head.data.subarray(n);
    }
    if (ch.outQueue.length > 0) return;
    if (hadData) this.host.emit({ type: 'channelDrain', channel: ch.id });
    if (ch.eofPending && channelMaySendData(ch.phase) && !ch.closeHeld) {
      this.host.send(new SshWriter().byte(Msg.CHANNEL_EOF).uint32(ch.remoteId).finish());
      ch.step({ type: 'EOF_SENT' });
    }
    if (ch.closePending && ch.phase.send !== 'closed') this.sendClose(ch);
  }

  private sendClose(ch: Channel): void {
    this.host.send(new SshWriter().byte(Msg.CHANNEL_CLOSE).uint32(ch.remoteId).finish());
    ch.step({ type: 'CLOSE_SENT' });
    this.maybeFinish(ch);
  }

  private onClose(ch: Channel): void {
    ch.step({ type: 'CLOSE_RECEIVED' });
    // RFC 4254 5.3: answer with our CLOSE unless we sent one; data still queued will never be read.
    if (ch.phase.stage === 'open' && ch.phase.send !== 'closed') {
      ch.outQueue.length = 0;
      ch.buffered = 0;
      if (channelHoldsCloseFor(ch.exitReport)) {
        // The answer may wait (5.3 sets no deadline): the exit status must reach the client first.
        ch.closeHeld = true;
        this.host.emit({ type: 'channelPeerClosed', channel: ch.id });
        return;
      }
      this.sendClose(ch);
    } else {
      this.maybeFinish(ch);
    }
  }

  private maybeFinish(ch: Channel): void {
    if (ch.phase.stage !== 'closed' || ch.closeReported) return;
    ch.closeReported = true;
    this.channels.delete(ch.id);
    this.finishedIds.add(ch.id);
    this.host.emit({ type: 'channelClosed', channel: ch.id });
  }

  private onChannelRequest(ch: Channel, r: SshReader): void {
    const name = r.ascii(64);
    const wantReply = r.boolean();
    const request = decodeChannelRequestData(name, r);
    const slot: ReplySlot | null = wantReply ? { answered: false, success: false } : null;
    if (slot) ch.replySlots.push(slot);
    const denied = this.policyRefusesRequest(ch, request);
    const startsCommand = this.options.role === 'server' && ch.type === 'session' && (request.type === 'exec' || request.type === 'shell' || request.type === 'subsystem');
    const settle = (success: boolean) => {
      if (success && startsCommand && ch.exitReport === 'none') ch.exitReport = 'owed';
      if (!slot) return;
      slot.answered = true;
      slot.success = success;
      this.flushChannelReplies(ch);
    };
    if (denied) return settle(false);
    const forced = this.policy.forcedCommand;
    const forcedCommand = forced !== undefined && (request.type === 'exec' || request.type === 'shell' || request.type === 'subsystem') ? forced : undefined;
    if (!wantReply) {
      // Without a reply the client cannot be refused: count the command as started.
      settle(true);
      // A forced command applies whether or not the client wants an answer.
      this.host.emit({ type: 'channelRequest', channel: ch.id, request, ...(forcedCommand !== undefined ? { forcedCommand } : {}) });
      return;
    }
    this.host.ask({ kind: 'channelRequest', channel: ch.id, request, ...(forcedCommand !== undefined ? { forcedCommand } : {}) }, (answer) => {
      if (typeof answer !== 'boolean') throw new SshUsageError('a channelRequest decision is answered with true or false');
      settle(answer);
    });
  }

  private policyRefusesRequest(ch: Channel, request: ChannelRequest): boolean {
    if (this.options.role !== 'server' || ch.type !== 'session') return false;
    const p = this.policy;
    if (request.type === 'pty-req' && p.pty === false) return true;
    if (request.type === 'auth-agent-req@openssh.com' && p.agentForwarding === false) return true;
    if (request.type === 'x11-req' && p.x11Forwarding === false) return true;
    return false;
  }

  private flushChannelReplies(ch: Channel): void {
    while (ch.replySlots.length > 0 && ch.replySlots[0]!.answered) {
      const slot = ch.replySlots.shift()!;
      if (!this.channels.has(ch.id) || !channelMaySendControl(ch.phase)) continue;
      this.host.send(new SshWriter().byte(slot.success ? Msg.CHANNEL_SUCCESS : Msg.CHANNEL_FAILURE).uint32(ch.remoteId).finish());
    }
  }

  private onGlobalRequest(r: SshReader): void {
    const name = r.ascii(64);
    const wantReply = r.boolean();
    const request = decodeGlobalRequestData(name, r);
    const slot: ReplySlot | null = wantReply ? { answered: false, success: false } : null;
    if (slot) this.globalSlots.push(slot);
    const settle = (success: boolean, data?: Uint8Array) => {
      if (!slot) return;
      slot.answered = true;
      slot.success = success;
      if (data) slot.data = data;
      this.flushGlobalReplies();
    };
    switch (request.type) {
      case 'keepalive@openssh.com':
        // Liveness probe: any reply will do, and failure is what OpenSSH answers.
        return settle(false);
      case 'no-more-sessions@openssh.com':
        if (this.options.role === 'server') this.noMoreSessions = true;
        return settle(false);
      case 'hostkeys-00@openssh.com':
        if (this.options.role === 'client') this.host.emit({ type: 'hostKeysAnnounced', keys: request.keys });
        return settle(false);
      case 'hostkeys-prove-00@openssh.com': {
        if (this.options.role !== 'server' || !this.host.proveHostKey) return settle(false);
        const w = new SshWriter();
        for (const blob of request.keys) {
          const signature = this.host.proveHostKey(blob);
          if (!signature) return settle(false);
          w.string(signature);
        }
        return settle(true, w.finish());
      }
      case 'tcpip-forward':
      case 'streamlocal-forward@openssh.com': {
        const p = this.policy;
        if (this.options.role === 'server' && p.portForwarding === false) return settle(false);
        if (request.type === 'tcpip-forward' && p.permitListen) {
          const ok = p.permitListen.some((e) => (e.port === '*' || e.port === request.port) && (e.host === undefined || e.host === '*' || e.host === request.address));
          if (!ok) return settle(false);
        }
        break;
      }
      default:
        break;
    }
    if (!wantReply) {
      this.host.emit({ type: 'globalRequest', request });
      return;
    }
    this.host.ask({ kind: 'globalRequest', request }, (answer) => {
      if (typeof answer === 'boolean') return settle(answer);
      const a = answer as { success?: unknown; port?: unknown; data?: unknown };
      if (typeof a === 'object' && a !== null && a.success === true) {
        if (typeof a.port === 'number') return settle(true, new SshWriter().uint32(a.port).finish());
        if (a.data instanceof Uint8Array) return settle(true, a.data);
        return settle(true);
      }
      throw new SshUsageError('a globalRequest decision is answered with true, false, { success: true, port } or { success: true, data }');
    });
  }

  private flushGlobalReplies(): void {
    while (this.globalSlots.length > 0 && this.globalSlots[0]!.answered) {
      const slot = this.globalSlots.shift()!;
      const w = new SshWriter().byte(slot.success ? Msg.REQUEST_SUCCESS : Msg.REQUEST_FAILURE);
      if (slot.success && slot.data) w.raw(slot.data);
      this.host.send(w.finish());
    }
  }

  private onGlobalReply(success: boolean, r: SshReader): void {
    const awaited = this.globalAwaiting.shift();
    if (!awaited) throw protocolError('reply to a global request that was not made');
    const data = r.rest().slice();
    if (awaited.internal) return;
    if (awaited.keys && this.host.verifyHostKeyProof) {
      const proved: Uint8Array[] = [];
      if (success) {
        const sr = new SshReader(data, 'hostkeys-prove-00 reply');
        for (const blob of awaited.keys) {
          if (sr.remaining === 0) break;
          const signature = sr.string(16384);
          if (this.host.verifyHostKeyProof(blob, signature)) proved.push(blob);
        }
      }
      this.host.emit({ type: 'hostKeysProved', keys: proved });
      return;
    }
    let port: number | undefined;
    if (success && awaited.name === 'tcpip-forward' && data.length === 4) port = new SshReader(data).uint32();
    this.host.emit({ type: 'globalReply', name: awaited.name, success, data, ...(port !== undefined ? { port } : {}) });
  }
}

const CHANNEL_MESSAGES: Record<number, ChannelMessage> = {
  [Msg.CHANNEL_OPEN_CONFIRMATION]: 'confirmation',
  [Msg.CHANNEL_OPEN_FAILURE]: 'failure',
  [Msg.CHANNEL_WINDOW_ADJUST]: 'windowAdjust',
  [Msg.CHANNEL_DATA]: 'data',
  [Msg.CHANNEL_EXTENDED_DATA]: 'data',
  [Msg.CHANNEL_EOF]: 'eof',
  [Msg.CHANNEL_CLOSE]: 'close',
  [Msg.CHANNEL_REQUEST]: 'request',
  [Msg.CHANNEL_SUCCESS]: 'success',
  [Msg.CHANNEL_FAILURE]: 'requestFailure',
};
