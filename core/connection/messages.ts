/**
 * Typed bodies of the connection protocol's open, channel-request and global-request messages:
 * RFC 4254 sections 4 (global requests, tcpip-forward), 6 (session requests), 7 (TCP/IP
 * forwarding channels), RFC 4335 (break), and OpenSSH PROTOCOL section 2 (streamlocal, agent
 * forwarding, eow, no-more-sessions, hostkeys-00/hostkeys-prove-00, keepalive). Unknown names are
 * kept as `other` with their raw data so an embedder can still answer them.
 */
import { SshReader } from '../wire/reader.ts';
import { SshWriter } from '../wire/writer.ts';
import { decodeTerminalModes, encodeTerminalModes, type TerminalModes } from './terminal-modes.ts';

export type ChannelOpenRequest =
  | { readonly type: 'session' }
  | { readonly type: 'direct-tcpip'; readonly host: string; readonly port: number; readonly originatorAddress: string; readonly originatorPort: number }
  | { readonly type: 'forwarded-tcpip'; readonly address: string; readonly port: number; readonly originatorAddress: string; readonly originatorPort: number }
  | { readonly type: 'direct-streamlocal@openssh.com'; readonly socketPath: string }
  | { readonly type: 'forwarded-streamlocal@openssh.com'; readonly socketPath: string }
  | { readonly type: 'auth-agent@openssh.com' }
  | { readonly type: 'x11'; readonly originatorAddress: string; readonly originatorPort: number }
  | { readonly type: 'other'; readonly name: string; readonly data: Uint8Array };

export type ChannelRequest =
  | { readonly type: 'pty-req'; readonly term: string; readonly cols: number; readonly rows: number; readonly widthPx: number; readonly heightPx: number; readonly modes: TerminalModes }
  | { readonly type: 'x11-req'; readonly singleConnection: boolean; readonly authProtocol: string; readonly authCookie: string; readonly screen: number }
  | { readonly type: 'env'; readonly name: string; readonly value: string }
  | { readonly type: 'shell' }
  | { readonly type: 'exec'; readonly command: string }
  | { readonly type: 'subsystem'; readonly name: string }
  | { readonly type: 'window-change'; readonly cols: number; readonly rows: number; readonly widthPx: number; readonly heightPx: number }
  | { readonly type: 'xon-xoff'; readonly clientCanDo: boolean }
  | { readonly type: 'signal'; readonly signal: string }
  | { readonly type: 'exit-status'; readonly status: number }
  | { readonly type: 'exit-signal'; readonly signal: string; readonly coreDumped: boolean; readonly message: string; readonly language: string }
  | { readonly type: 'break'; readonly lengthMs: number }
  | { readonly type: 'auth-agent-req@openssh.com' }
  | { readonly type: 'eow@openssh.com' }
  | { readonly type: 'keepalive@openssh.com' }
  | { readonly type: 'other'; readonly name: string; readonly data: Uint8Array };

export type GlobalRequest =
  | { readonly type: 'tcpip-forward'; readonly address: string; readonly port: number }
  | { readonly type: 'cancel-tcpip-forward'; readonly address: string; readonly port: number }
  | { readonly type: 'streamlocal-forward@openssh.com'; readonly socketPath: string }
  | { readonly type: 'cancel-streamlocal-forward@openssh.com'; readonly socketPath: string }
  | { readonly type: 'keepalive@openssh.com' }
  | { readonly type: 'no-more-sessions@openssh.com' }
  | { readonly type: 'hostkeys-00@openssh.com'; readonly keys: readonly Uint8Array[] }
  | { readonly type: 'hostkeys-prove-00@openssh.com'; readonly keys: readonly Uint8Array[] }
  | { readonly type: 'other'; readonly name: string; readonly data: Uint8Array };

const MAX_TEXT = 32 * 1024;

export function channelOpenName(req: ChannelOpenRequest): string {
  return req.type === 'other' ? req.name : req.type;
}

export function encodeChannelOpenData(req: ChannelOpenRequest): Uint8Array {
  const w = new SshWriter();
  switch (req.type) {
    case 'direct-tcpip':
      w.string(req.host).uint32(req.port).string(req.originatorAddress).uint32(req.originatorPort);
      break;
    case 'forwarded-tcpip':
      w.string(req.address).uint32(req.port).string(req.originatorAddress).uint32(req.originatorPort);
      break;
    case 'direct-streamlocal@openssh.com':
      w.string(req.socketPath).string('').uint32(0);
      break;
    case 'forwarded-streamlocal@openssh.com':
      w.string(req.socketPath).string('');
      break;
    case 'x11':
      w.string(req.originatorAddress).uint32(req.originatorPort);
      break;
    case 'other':
      w.raw(req.data);
      break;
  }
  return w.finish();
}

export function decodeChannelOpenData(name: string, r: SshReader): ChannelOpenRequest {
  switch (name) {
    case 'session':
      r.end();
      return { type: 'session' };
    case 'direct-tcpip':
    case 'forwarded-tcpip': {
      const host = r.text(1024);
      const port = r.uint32();
      const originatorAddress = r.text(1024);
      const originatorPort = r.uint32();
      r.end();
      return name === 'direct-tcpip' ? { type: name, host, port, originatorAddress, originatorPort } : { type: name, address: host, port, originatorAddress, originatorPort };
    }
    case 'direct-streamlocal@openssh.com': {
      const socketPath = r.text(4096);
      r.string(4096);
      r.uint32();
      r.end();
      return { type: name, socketPath };
    }
    case 'forwarded-streamlocal@openssh.com': {
      const socketPath = r.text(4096);
      r.string(4096);
      r.end();
      return { type: name, socketPath };
    }
    case 'auth-agent@openssh.com':
      r.end();
      return { type: name };
    case 'x11': {
      const originatorAddress = r.text(1024);
      const originatorPort = r.uint32();
      r.end();
      return { type: 'x11', originatorAddress, originatorPort };
    }
    default:
      return { type: 'other', name, data: r.rest().slice() };
  }
}

export function channelRequestName(req: ChannelRequest): string {
  return req.type === 'other' ? req.name : req.type;
}

export function encodeChannelRequestData(req: ChannelRequest): Uint8Array {
  const w = new SshWriter();
  switch (req.type) {
    case 'pty-req':
      w.string(req.term).uint32(req.cols).uint32(req.rows).uint32(req.widthPx).uint32(req.heightPx).string(encodeTerminalModes(req.modes));
      break;
    case 'x11-req':
      w.boolean(req.singleConnection).string(req.authProtocol).string(req.authCookie).uint32(req.screen);
      break;
    case 'env':
      w.string(req.name).string(req.value);
      break;
    case 'exec':
      w.string(req.command);
      break;
    case 'subsystem':
      w.string(req.name);
      break;
    case 'window-change':
      w.uint32(req.cols).uint32(req.rows).uint32(req.widthPx).uint32(req.heightPx);
      break;
    case 'xon-xoff':
      w.boolean(req.clientCanDo);
      break;
    case 'signal':
      w.string(req.signal);
      break;
    case 'exit-status':
      w.uint32(req.status);
      break;
    case 'exit-signal':
      w.string(req.signal).boolean(req.coreDumped).string(req.message).string(req.language);
      break;
    case 'break':
      w.uint32(req.lengthMs);
      break;
    case 'other':
      w.raw(req.data);
      break;
    default:
      break;
  }
  return w.finish();
}

export function decodeChannelRequestData(name: string, r: SshReader): ChannelRequest {
  let req: ChannelRequest;
  switch (name) {
    case 'pty-req':
      req = { type: name, term: r.text(256), cols: r.uint32(), rows: r.uint32(), widthPx: r.uint32(), heightPx: r.uint32(), modes: decodeTerminalModes(r.string(4096)) };
      break;
    case 'x11-req':
      req = { type: name, singleConnection: r.boolean(), authProtocol: r.text(256), authCookie: r.text(1024), screen: r.uint32() };
      break;
    case 'env':
      req = { type: name, name: r.text(1024), value: r.text(MAX_TEXT) };
      break;
    case 'shell':
    case 'auth-agent-req@openssh.com':
    case 'eow@openssh.com':
    case 'keepalive@openssh.com':
      req = { type: name };
      break;
    case 'exec':
      req = { type: name, command: r.text(MAX_TEXT) };
      break;
    case 'subsystem':
      req = { type: name, name: r.text(256) };
      break;
    case 'window-change':
      req = { type: name, cols: r.uint32(), rows: r.uint32(), widthPx: r.uint32(), heightPx: r.uint32() };
      break;
    case 'xon-xoff':
      req = { type: name, clientCanDo: r.boolean() };
      break;
    case 'signal':
      req = { type: name, signal: r.ascii(64) };
      break;
    case 'exit-status':
      req = { type: name, status: r.uint32() };
      break;
    case 'exit-signal':
      req = { type: name, signal: r.ascii(64), coreDumped: r.boolean(), message: r.text(MAX_TEXT), language: r.ascii(256) };
      break;
    case 'break':
      req = { type: name, lengthMs: r.uint32() };
      break;
    default:
      return { type: 'other', name, data: r.rest().slice() };
  }
  r.end();
  return req;
}

export function globalRequestName(req: GlobalRequest): string {
  return req.type === 'other' ? req.name : req.type;
}

export function encodeGlobalRequestData(req: GlobalRequest): Uint8Array {
  const w = new SshWriter();
  switch (req.type) {
    case 'tcpip-forward':
    case 'cancel-tcpip-forward':
      w.string(req.address).uint32(req.port);
      break;
    case 'streamlocal-forward@openssh.com':
    case 'cancel-streamlocal-forward@openssh.com':
      w.string(req.socketPath);
      break;
    case 'hostkeys-00@openssh.com':
    case 'hostkeys-prove-00@openssh.com':
      for (const k of req.keys) w.string(k);
      break;
    case 'other':
      w.raw(req.data);
      break;
    default:
      break;
  }
  return w.finish();
}

/** At most this many keys in hostkeys-00 / hostkeys-prove-00 (OpenSSH sends one per host key). */
const MAX_HOSTKEYS = 64;

export function decodeGlobalRequestData(name: string, r: SshReader): GlobalRequest {
  let req: GlobalRequest;
  switch (name) {
    case 'tcpip-forward':
    case 'cancel-tcpip-forward':
      req = { type: name, address: r.text(1024), port: r.uint32() };
      break;
    case 'streamlocal-forward@openssh.com':
    case 'cancel-streamlocal-forward@openssh.com':
      req = { type: name, socketPath: r.text(4096) };
      break;
    case 'keepalive@openssh.com':
    case 'no-more-sessions@openssh.com':
      req = { type: name };
      break;
    case 'hostkeys-00@openssh.com':
    case 'hostkeys-prove-00@openssh.com': {
      const keys: Uint8Array[] = [];
      while (r.remaining > 0) {
        if (keys.length >= MAX_HOSTKEYS) return { type: 'other', name, data: new Uint8Array(0) };
        keys.push(r.string(16384).slice());
      }
      req = { type: name, keys };
      break;
    }
    default:
      return { type: 'other', name, data: r.rest().slice() };
  }
  r.end();
  return req;
}
