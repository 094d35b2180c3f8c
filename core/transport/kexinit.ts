/**
 * SSH_MSG_KEXINIT (RFC 4253 section 7.1) and algorithm negotiation, with the pseudo-algorithms
 * that ride in the kex list: `ext-info-c` / `ext-info-s` (RFC 8308 section 2.1) and
 * `kex-strict-c-v00@openssh.com` / `kex-strict-s-v00@openssh.com` (OpenSSH PROTOCOL section 1.10).
 */
import { DisconnectReason, SshProtocolError, protocolError } from '../errors.ts';
import { SshReader } from '../wire/reader.ts';
import { SshWriter } from '../wire/writer.ts';
import { Msg } from '../wire/messages.ts';

export interface KexInit {
  readonly cookie: Uint8Array;
  readonly kex: readonly string[];
  readonly hostKey: readonly string[];
  readonly cipherC2S: readonly string[];
  readonly cipherS2C: readonly string[];
  readonly macC2S: readonly string[];
  readonly macS2C: readonly string[];
  readonly compressionC2S: readonly string[];
  readonly compressionS2C: readonly string[];
  readonly languagesC2S: readonly string[];
  readonly languagesS2C: readonly string[];
  readonly firstKexPacketFollows: boolean;
}

export const EXT_INFO_C = 'ext-info-c';
export const EXT_INFO_S = 'ext-info-s';
export const STRICT_KEX_C = 'kex-strict-c-v00@openssh.com';
export const STRICT_KEX_S = 'kex-strict-s-v00@openssh.com';
const PSEUDO = new Set([EXT_INFO_C, EXT_INFO_S, STRICT_KEX_C, STRICT_KEX_S]);

/** Name-lists longer than this are refused: OpenSSH's full lists are under 1 KiB each. */
const MAX_NAME_LIST = 8192;

export function encodeKexInit(k: KexInit): Uint8Array {
  const w = new SshWriter(1024).byte(Msg.KEXINIT).raw(k.cookie);
  for (const list of [k.kex, k.hostKey, k.cipherC2S, k.cipherS2C, k.macC2S, k.macS2C, k.compressionC2S, k.compressionS2C, k.languagesC2S, k.languagesS2C]) {
    w.nameList(list);
  }
  return w.boolean(k.firstKexPacketFollows).uint32(0).finish();
}

export function decodeKexInit(payload: Uint8Array): KexInit {
  const r = new SshReader(payload, 'KEXINIT');
  r.byte();
  const cookie = r.raw(16);
  const lists: string[][] = [];
  for (let i = 0; i < 10; i++) lists.push(r.nameList(MAX_NAME_LIST));
  const firstKexPacketFollows = r.boolean();
  r.uint32(); // reserved
  r.end();
  const [kex, hostKey, cipherC2S, cipherS2C, macC2S, macS2C, compressionC2S, compressionS2C, languagesC2S, languagesS2C] = lists as [
    string[], string[], string[], string[], string[], string[], string[], string[], string[], string[],
  ];
  const named: Array<[string, string[]]> = [
    ['kex', kex], ['host key', hostKey], ['cipher c2s', cipherC2S], ['cipher s2c', cipherS2C],
    ['mac c2s', macC2S], ['mac s2c', macS2C], ['compression c2s', compressionC2S], ['compression s2c', compressionS2C],
  ];
  for (const [what, list] of named) if (list.length === 0) throw protocolError(`KEXINIT ${what} list is empty`);
  return { cookie, kex, hostKey, cipherC2S, cipherS2C, macC2S, macS2C, compressionC2S, compressionS2C, languagesC2S, languagesS2C, firstKexPacketFollows };
}

export interface Negotiated {
  readonly kex: string;
  readonly hostKey: string;
  readonly cipherC2S: string;
  readonly cipherS2C: string;
  /** null when the cipher is an AEAD and carries its own integrity ("<implicit>"). */
  readonly macC2S: string | null;
  readonly macS2C: string | null;
  readonly compressionC2S: string;
  readonly compressionS2C: string;
}

export class NegotiationError extends SshProtocolError {
  constructor(readonly what: string, readonly clientOffer: readonly string[], readonly serverOffer: readonly string[]) {
    super(
      'NO_COMMON_ALGORITHM',
      DisconnectReason.KEY_EXCHANGE_FAILED,
      `no common ${what}; client offers: ${clientOffer.filter((a) => !PSEUDO.has(a)).join(',') || '(none)'}; server offers: ${serverOffer.filter((a) => !PSEUDO.has(a)).join(',') || '(none)'}`,
    );
  }
}

function firstCommon(what: string, client: readonly string[], server: readonly string[]): string {
  for (const name of client) if (!PSEUDO.has(name) && server.includes(name)) return name;
  throw new NegotiationError(what, client, server);
}

/**
 * RFC 4253 section 7.1: for each list the first client algorithm the server also supports. For
 * host keys we also require that the server can actually sign with it (the server's list is already
 * only what it holds keys for). AEAD ciphers make the MAC irrelevant.
 */
export function negotiate(client: KexInit, server: KexInit, isAead: (cipher: string) => boolean): Negotiated {
  const kex = firstCommon('key exchange algorithm', client.kex, server.kex);
  const hostKey = firstCommon('host key algorithm', client.hostKey, server.hostKey);
  const cipherC2S = firstCommon('cipher (client to server)', client.cipherC2S, server.cipherC2S);
  const cipherS2C = firstCommon('cipher (server to client)', client.cipherS2C, server.cipherS2C);
  const macC2S = isAead(cipherC2S) ? null : firstCommon('MAC (client to server)', client.macC2S, server.macC2S);
  const macS2C = isAead(cipherS2C) ? null : firstCommon('MAC (server to client)', client.macS2C, server.macS2C);
  const compressionC2S = firstCommon('compression (client to server)', client.compressionC2S, server.compressionC2S);
  const compressionS2C = firstCommon('compression (server to client)', client.compressionS2C, server.compressionS2C);
  return { kex, hostKey, cipherC2S, cipherS2C, macC2S, macS2C, compressionC2S, compressionS2C };
}

/**
 * RFC 4253 section 7.1: a guessed first kex packet is right only if both sides prefer the same kex
 * algorithm and the same host key algorithm (the first entries of both lists agree), which is also
 * how OpenSSH decides whether to skip the guessed packet.
 */
export function guessWasRight(ours: KexInit, theirs: KexInit): boolean {
  return ours.kex[0] === theirs.kex[0] && ours.hostKey[0] === theirs.hostKey[0];
}
