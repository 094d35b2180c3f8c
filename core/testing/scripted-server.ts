/**
 * A scripted SSH server for API tests on the in-memory runtime: a real server engine answering
 * with canned behaviour, so the client API can be exercised with no sockets and no processes.
 *
 * Logins: `userKey` (publickey), password `pw`, keyboard-interactive code `1234`.
 * Commands: `echo TEXT`, `cat` (also `shell` and the `echo-sub` subsystem), `fail` (stderr, exit 3),
 * `count N` (N bytes), `hold` (writes as fast as the window lets it), `refuse` (exec refused);
 * anything else runs until it gets a signal, which it reports as exit-signal.
 * Channels: direct-tcpip to `echo:7` echoes. Global requests: tcpip-forward and
 * streamlocal-forward@openssh.com are granted (port 0 → 6000, 6001, …), and the test can open
 * forwarded and auth-agent channels towards the client with {@link ScriptedConnection.openToClient}.
 */
import { SshEngine } from '../engine.ts';
import { pureCrypto } from '../crypto/pure.ts';
import type { ChannelOpenRequest } from '../connection/messages.ts';
import type { Decision, SshEvent } from '../events.ts';
import { generatePrivateKey } from '../keys/private-key.ts';
import { parseCertificate } from '../keys/certificate.ts';
import { publicKeysEqual } from '../keys/public-key.ts';
import { seededRandom } from '../random.ts';
import { ConnectionDriver } from '../api/driver.ts';
import type { ByteStream } from '../api/runtime.ts';
import type { MemoryRuntime } from './memory-runtime.ts';

export const scriptedHostKey = generatePrivateKey('ed25519', seededRandom('api host key'), pureCrypto);
export const scriptedUserKey = generatePrivateKey('ed25519', seededRandom('api user key'), pureCrypto);
export const scriptedOtherKey = generatePrivateKey('ed25519', seededRandom('api other key'), pureCrypto);
export const SCRIPTED_ALGORITHMS = { kex: 'curve25519-sha256', cipher: 'chacha20-poly1305@openssh.com' };
/** The server also takes aes128-ctr, so a client's cipher choice is visible. */
const SERVER_ALGORITHMS = { kex: 'curve25519-sha256', cipher: 'chacha20-poly1305@openssh.com,aes128-ctr' };

export interface ServerLog {
  requests: string[];
  signals: string[];
  sizes: Array<[number, number]>;
  env: Record<string, string>;
  connections: number;
  /** Bytes a `hold` command has been sent so far. */
  held: number;
  /** Global requests, by name. */
  globals: string[];
  /** One per accepted connection, in order. */
  live: ScriptedConnection[];
  /** Each authentication request: `password`, `keyboard-interactive`, `publickey key|cert <keyId> query|signed`. */
  auth: string[];
}

/** A channel the test opened towards the client: what the client sent, and a way to answer. */
export interface ScriptedChannel {
  readonly id: number;
  /** Settles true when the client confirmed, false when it refused. */
  readonly opened: Promise<boolean>;
  received(): string;
  write(text: string | Uint8Array): void;
  end(): void;
  /** Resolves when the client sent EOF or closed. */
  readonly ended: Promise<void>;
}

export interface ScriptedConnection {
  openToClient(request: ChannelOpenRequest): ScriptedChannel;
}

/** Listen on `host:port` of the runtime's network with the scripted server. */
export function startServer(runtime: MemoryRuntime, address = 'server:22', extra: { loginSilently?: boolean } = {}): ServerLog {
  const log: ServerLog = { requests: [], signals: [], sizes: [], env: {}, connections: 0, held: 0, globals: [], live: [], auth: [] };
  void runtime.listenTcp(address.split(':')[0]!, Number(address.split(':')[1]), (stream) => serveOne(runtime, stream, log, extra));
  return log;
}

export function serveOne(runtime: MemoryRuntime, stream: ByteStream, log: ServerLog, extra: { loginSilently?: boolean }): void {
  log.connections++;
  const engine = new SshEngine({ role: 'server', now: runtime.now(), crypto: pureCrypto, hostKeys: [scriptedHostKey], algorithms: SERVER_ALGORITHMS });
  const sessions = new Map<number, { command: string | null; pty: boolean }>();
  let driver!: ConnectionDriver;
  const run = (fn: (e: SshEngine, now: number) => void): void => driver.command(fn);
  const finish = (ch: number, status: number): void =>
    run((e, now) => {
      e.eof(ch, now);
      e.channelRequest(ch, { type: 'exit-status', status }, false, now);
      e.close(ch, now);
    });
  const start = (ch: number, command: string): void => {
    const [name, arg] = command.split(' ');
    if (name === 'echo') {
      run((e, now) => e.write(ch, new TextEncoder().encode(`${command.slice(5)}\n`), now));
      finish(ch, 0);
    } else if (name === 'fail') {
      run((e, now) => e.write(ch, new TextEncoder().encode('it failed\n'), now, 1));
      finish(ch, 3);
    } else if (name === 'count') {
      const n = Number(arg);
      const chunk = new Uint8Array(16 * 1024).fill(0x61);
      for (let sent = 0; sent < n; sent += chunk.length) run((e, now) => e.write(ch, chunk.subarray(0, Math.min(chunk.length, n - sent)), now));
      finish(ch, 0);
    } else if (name === 'hold') {
      // Writes as fast as the window lets it (channelDrain refills), counting what left.
      const chunk = new Uint8Array(32 * 1024);
      const refill = (): void => {
        for (let i = 0; i < 8 && log.held < 64 * 1024 * 1024; i++) {
          run((e, now) => e.write(ch, chunk, now));
          log.held += chunk.length;
          if (e0().channelInfo(ch).bufferedAmount > 256 * 1024) break;
        }
      };
      holders.set(ch, refill);
      refill();
    }
  };
  const e0 = (): SshEngine => engine;
  const holders = new Map<number, () => void>();
  const decide = (d: Decision): unknown => {
    switch (d.kind) {
      case 'authMethods':
        return [['publickey'], ['password'], ['keyboard-interactive']];
      case 'authPassword':
        log.auth.push('password');
        return d.password === 'pw';
      case 'authPublicKey':
        log.auth.push(`publickey ${d.certificate ? `cert ${parseCertificate(d.certificate).keyId}` : 'key'} ${d.signed ? 'signed' : 'query'}`);
        return publicKeysEqual(d.key, scriptedUserKey.publicKey);
      case 'authKeyboardInteractive':
        if (d.responses === null) log.auth.push('keyboard-interactive');
        if (d.responses === null) return { prompts: [{ prompt: 'Code: ', echo: false }] };
        return d.responses[0] === '1234';
      case 'channelOpen':
        if (d.request.type === 'session') return (sessions.set(d.channel, { command: null, pty: false }), true);
        if (d.request.type === 'direct-tcpip') return d.request.host === 'echo' && d.request.port === 7 ? true : { reason: 2, description: 'connect refused' };
        return false;
      case 'channelRequest': {
        const r = d.request;
        log.requests.push(r.type);
        const s = sessions.get(d.channel);
        if (!s) return false;
        if (r.type === 'pty-req') return (s.pty = true);
        if (r.type === 'exec') {
          if (r.command === 'refuse') return false;
          s.command = r.command;
          queueMicrotask(() => start(d.channel, r.command));
          return true;
        }
        if (r.type === 'shell') {
          s.command = 'cat';
          return true;
        }
        if (r.type === 'subsystem') {
          s.command = r.name === 'echo-sub' ? 'cat' : null;
          return r.name === 'echo-sub';
        }
        if (r.type === 'break') return true;
        return false;
      }
      case 'globalRequest': {
        const r = d.request;
        log.globals.push(r.type === 'other' ? r.name : r.type);
        if (r.type === 'tcpip-forward') return r.port === 0 ? { success: true, port: nextPort++ } : true;
        return r.type === 'streamlocal-forward@openssh.com' || r.type === 'cancel-tcpip-forward' || r.type === 'cancel-streamlocal-forward@openssh.com';
      }
      default:
        return false;
    }
  };
  let nextPort = 6000;
  /** Channels the test opened towards the client. */
  const outgoing = new Map<number, { chunks: Uint8Array[]; confirm: (ok: boolean) => void; ended: () => void }>();
  const openToClient = (request: ChannelOpenRequest): ScriptedChannel => {
    let id = -1;
    run((e, now) => (id = e.openChannel(request, now)));
    let confirm!: (ok: boolean) => void;
    let ended!: () => void;
    const opened = new Promise<boolean>((r) => (confirm = r));
    const endedP = new Promise<void>((r) => (ended = r));
    const state = { chunks: [] as Uint8Array[], confirm, ended };
    outgoing.set(id, state);
    return {
      id,
      opened,
      ended: endedP,
      received: () => new TextDecoder().decode(concat(state.chunks)),
      write: (text) => run((e, now) => e.write(id, typeof text === 'string' ? new TextEncoder().encode(text) : text, now)),
      end: () => run((e, now) => e.eof(id, now)),
    };
  };
  log.live.push({ openToClient });
  const onEvent = (e: SshEvent): void => {
    if (!('channel' in e)) return;
    const out = outgoing.get(e.channel);
    if (out) {
      if (e.type === 'channelOpenConfirmed') out.confirm(true);
      else if (e.type === 'channelOpenFailed') (out.confirm(false), out.ended());
      else if (e.type === 'channelData') {
        out.chunks.push(e.data.slice());
        run((en, now) => en.consumed(e.channel, e.data.length, now));
      } else if (e.type === 'channelEof' || e.type === 'channelClosed') out.ended();
      if (e.type === 'channelClosed') outgoing.delete(e.channel);
      else if (e.type === 'channelEof') run((en, now) => en.close(e.channel, now));
      return;
    }
    const s = sessions.get(e.channel);
    if (e.type === 'channelData') {
      run((en, now) => en.consumed(e.channel, e.data.length, now));
      if (!s || s.command === 'cat') run((en, now) => en.write(e.channel, e.data, now));
    } else if (e.type === 'channelEof') {
      if (!s || s.command === 'cat') finish(e.channel, 0);
    } else if (e.type === 'channelRequest') {
      const r = e.request;
      if (r.type === 'env') log.env[r.name] = r.value;
      if (r.type === 'auth-agent-req@openssh.com') log.requests.push(r.type);
      if (r.type === 'window-change') log.sizes.push([r.cols, r.rows]);
      if (r.type === 'signal') {
        log.signals.push(r.signal);
        run((en, now) => {
          en.channelRequest(e.channel, { type: 'exit-signal', signal: r.signal, coreDumped: false, message: '', language: '' }, false, now);
          en.close(e.channel, now);
        });
      }
    } else if (e.type === 'channelDrain') holders.get(e.channel)?.();
    else if (e.type === 'channelPeerClosed' || e.type === 'channelClosed') holders.delete(e.channel);
  };
  if (extra.loginSilently) return; // never speaks: for timeouts
  driver = new ConnectionDriver(engine, stream, runtime, { onDecision: decide, onEvent });
}


function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return all;
}
