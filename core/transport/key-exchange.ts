/**
 * One key exchange round (RFC 4253 sections 7.2 and 8; RFC 5656 section 4 ECDH; RFC 4419 group
 * exchange; RFC 8731 curve25519; draft-ietf-sshm-mlkem-hybrid-kex), from both KEXINITs to the
 * exchange hash H and the shared secret K, and the key derivation of section 7.2 from them.
 *
 * The engine owns KEXINIT, NEWKEYS and what happens around them (strict kex, held traffic,
 * re-key triggers); this class owns the method's own messages (30-49), the host key signature
 * over H, and the secrets — which never leave it except as derived cipher keys.
 */
import { cipherInfo, macInfo } from '../cipher/index.ts';
import type { PacketKeys } from '../cipher/types.ts';
import type { CryptoProvider, RandomSource } from '../crypto/provider.ts';
import { DisconnectReason, SshProtocolError, kexError, protocolError } from '../errors.ts';
import { chooseGexGroup, dhMethodForGroup, validateGexGroup } from '../kex/dh.ts';
import { GEX_SHA256 } from '../kex/index.ts';
import type { KexClientState, KexMethod } from '../kex/types.ts';
import {
  certificateKeyTypeForAlgorithm,
  isCertificateAlgorithm,
  parseCertificate,
  signatureAlgorithmForCertAlgorithm,
  type Certificate,
} from '../keys/certificate.ts';
import type { PrivateKey } from '../keys/private-key.ts';
import { parsePublicKeyBlob, type PublicKey } from '../keys/public-key.ts';
import { sign, signatureAlgorithmsForKey, verifySignature } from '../keys/signature.ts';
import { Msg } from '../wire/messages.ts';
import { SshReader } from '../wire/reader.ts';
import { SshWriter } from '../wire/writer.ts';
import { deriveKey } from './kdf.ts';
import type { KexInit, Negotiated } from './kexinit.ts';

/** What a round needs from its engine. */
export interface KeyExchangeHost {
  readonly role: 'client' | 'server';
  readonly crypto: CryptoProvider;
  readonly random: RandomSource;
  readonly localVersion: string;
  readonly gexBits: { readonly min: number; readonly preferred: number; readonly max: number } | undefined;
  peerVersion(): string;
  /** Send a kex message (never held: it is part of the exchange). */
  write(payload: Uint8Array): void;
  /** Server: the host key (and certificate blob, for cert algorithms) that signs under `alg`. */
  hostKeyFor(alg: string): { key: PrivateKey; blob: Uint8Array; signatureAlgorithm: string } | null;
  /** Server: H and K are known and the reply is out — send NEWKEYS. */
  exchanged(): void;
  /** Client: the server's signature over H verified; decide whether to trust the key. */
  hostKeyVerified(verified: { hostKey: PublicKey; algorithm: string; blob: Uint8Array; certificate?: Certificate }): void;
}

export interface DirectionKeys {
  readonly cipher: string;
  readonly mac: string | null;
  readonly keys: PacketKeys;
}

/** State of one key exchange in progress (initial or re-key). Holds secrets: never exposed. */
export class KeyExchange {
  theirs?: KexInit;
  theirsPayload?: Uint8Array;
  negotiated?: Negotiated;
  method?: KexMethod;
  /** The peer guessed wrong with first_kex_packet_follows: drop its next kex packet. */
  ignoreNextKexPacket = false;
  private clientState?: KexClientState;
  private gex?: { min: number; preferred: number; max: number; p?: bigint; g?: bigint };
  /** Set once the exchange hash is known and verified. */
  exchangeHash?: Uint8Array;
  private encodedSecret?: Uint8Array;
  hostKeyBlob?: Uint8Array;

  constructor(
    private readonly host: KeyExchangeHost,
    readonly ours: KexInit,
    readonly oursPayload: Uint8Array,
  ) {}

  private ctx() {
    return { crypto: this.host.crypto, random: this.host.random };
  }

  /** Client: both KEXINITs are in; send the method's first message. */
  clientBegin(): void {
    if (this.negotiated!.kex === GEX_SHA256) {
      const bits = this.host.gexBits ?? { min: 2048, preferred: this.gexPreferredBits(this.negotiated!), max: 8192 };
      this.gex = { ...bits };
      this.host.write(new SshWriter().byte(Msg.KEX_DH_GEX_REQUEST).uint32(bits.min).uint32(bits.preferred).uint32(bits.max).finish());
      return;
    }
    const method = this.method!;
    this.clientState = method.clientStart(this.ctx());
    const w = new SshWriter().byte(Msg.KEXDH_INIT);
    this.writeValue(w, method.valueEncoding, this.clientState.clientValue);
    this.host.write(w.finish());
  }

  /** RFC 4419 / OpenSSH: ask for a group matching the strength of the negotiated cipher. */
  private gexPreferredBits(n: Negotiated): number {
    const keyBits = Math.max(cipherInfo[n.cipherC2S]?.keyLength ?? 16, cipherInfo[n.cipherS2C]?.keyLength ?? 16) * 8;
    return keyBits <= 128 ? 3072 : keyBits <= 192 ? 7680 : 8192;
  }

  private writeValue(w: SshWriter, encoding: 'string' | 'mpint', value: Uint8Array): void {
    if (encoding === 'string') w.string(value);
    else w.mpintFromBytes(value);
  }

  private readValue(r: SshReader, encoding: 'string' | 'mpint'): Uint8Array {
    return encoding === 'string' ? r.string(16384) : r.mpintBytes(16384);
  }

  private encodeValue(encoding: 'string' | 'mpint', value: Uint8Array): Uint8Array {
    const w = new SshWriter(value.length + 8);
    this.writeValue(w, encoding, value);
    return w.finish();
  }

  /** A message of the method's range (30-49). */
  handle(msg: number, payload: Uint8Array): void {
    if (!this.negotiated) throw protocolError(`key exchange message ${msg} before KEXINIT`);
    if (this.ignoreNextKexPacket) {
      this.ignoreNextKexPacket = false;
      return;
    }
    const gex = this.negotiated.kex === GEX_SHA256;
    if (this.host.role === 'server') {
      if (gex && msg === Msg.KEX_DH_GEX_REQUEST && !this.gex) return this.serverGexRequest(payload);
      if (gex && msg === Msg.KEX_DH_GEX_INIT && this.gex?.p !== undefined && !this.exchangeHash) return this.serverKexInit(payload);
      if (!gex && msg === Msg.KEXDH_INIT && !this.exchangeHash) return this.serverKexInit(payload);
    } else {
      if (gex && msg === Msg.KEX_DH_GEX_GROUP && this.gex && this.gex.p === undefined) return this.clientGexGroup(payload);
      if (gex && msg === Msg.KEX_DH_GEX_REPLY && this.clientState && !this.exchangeHash) return this.clientKexReply(payload);
      if (!gex && msg === Msg.KEXDH_REPLY && this.clientState && !this.exchangeHash) return this.clientKexReply(payload);
    }
    throw new SshProtocolError('UNEXPECTED_MESSAGE', DisconnectReason.PROTOCOL_ERROR, `unexpected key exchange message ${msg} for ${this.negotiated.kex}`);
  }

  private serverGexRequest(payload: Uint8Array): void {
    const r = new SshReader(payload, 'KEX_DH_GEX_REQUEST');
    r.byte();
    const min = r.uint32();
    const preferred = r.uint32();
    const max = r.uint32();
    r.end();
    if (min > preferred || preferred > max) throw kexError(`invalid group exchange request ${min}/${preferred}/${max}`);
    const group = chooseGexGroup(min, preferred, max);
    if (!group) throw kexError(`no Diffie-Hellman group between ${min} and ${max} bits`);
    this.gex = { min, preferred, max, p: group.p, g: group.g };
    this.method = dhMethodForGroup(group, 'sha256', GEX_SHA256);
    this.host.write(new SshWriter().byte(Msg.KEX_DH_GEX_GROUP).mpint(group.p).mpint(group.g).finish());
  }

  private clientGexGroup(payload: Uint8Array): void {
    const r = new SshReader(payload, 'KEX_DH_GEX_GROUP');
    r.byte();
    const p = r.mpint(8192 / 8 + 1);
    const g = r.mpint(8192 / 8 + 1);
    r.end();
    const bits = p.toString(2).length;
    const group = { p, g, bits };
    validateGexGroup(group, this.gex!.min, this.gex!.max);
    this.gex!.p = p;
    this.gex!.g = g;
    this.method = dhMethodForGroup(group, 'sha256', GEX_SHA256);
    this.clientState = this.method.clientStart(this.ctx());
    this.host.write(new SshWriter().byte(Msg.KEX_DH_GEX_INIT).mpintFromBytes(this.clientState.clientValue).finish());
  }

  /** The exchange hash H, RFC 4253 8 / RFC 5656 4 / RFC 4419 3 / RFC 8731 3. */
  private computeExchangeHash(hostKeyBlob: Uint8Array, clientValue: Uint8Array, serverValue: Uint8Array, encodedSecret: Uint8Array): Uint8Array {
    const method = this.method!;
    const client = this.host.role === 'client';
    const w = new SshWriter(4096)
      .string(client ? this.host.localVersion : this.host.peerVersion())
      .string(client ? this.host.peerVersion() : this.host.localVersion)
      .string(client ? this.oursPayload : this.theirsPayload!)
      .string(client ? this.theirsPayload! : this.oursPayload)
      .string(hostKeyBlob);
    if (this.gex) w.uint32(this.gex.min).uint32(this.gex.preferred).uint32(this.gex.max).mpint(this.gex.p!).mpint(this.gex.g!);
    this.writeValue(w, method.valueEncoding, clientValue);
    this.writeValue(w, method.valueEncoding, serverValue);
    w.raw(encodedSecret);
    return this.host.crypto.hash(method.hash, w.finish());
  }

  private encodeSecret(method: KexMethod, secret: Uint8Array): Uint8Array {
    return this.encodeValue(method.secretEncoding, secret);
  }

  private serverKexInit(payload: Uint8Array): void {
    const method = this.method!;
    const r = new SshReader(payload, 'KEX init');
    r.byte();
    const clientValue = this.readValue(r, method.valueEncoding);
    r.end();
    const result = method.serverRespond(this.ctx(), clientValue);
    const alg = this.negotiated!.hostKey;
    const hostKey = this.host.hostKeyFor(alg);
    if (!hostKey) throw kexError(`no host key for ${alg}`);
    const encodedSecret = this.encodeSecret(method, result.secret);
    const h = this.computeExchangeHash(hostKey.blob, clientValue, result.serverValue, encodedSecret);
    this.exchangeHash = h;
    this.encodedSecret = encodedSecret;
    const signature = sign(this.host.crypto, hostKey.key, hostKey.signatureAlgorithm, h);
    const w = new SshWriter(2048).byte(this.gex ? Msg.KEX_DH_GEX_REPLY : Msg.KEXDH_REPLY).string(hostKey.blob);
    this.writeValue(w, method.valueEncoding, result.serverValue);
    w.string(signature);
    this.host.write(w.finish());
    this.host.exchanged();
  }

  private clientKexReply(payload: Uint8Array): void {
    const method = this.method!;
    const r = new SshReader(payload, 'KEX reply');
    r.byte();
    const hostKeyBlob = r.string(16384);
    const serverValue = this.readValue(r, method.valueEncoding);
    const signature = r.string(16384);
    r.end();
    const alg = this.negotiated!.hostKey;
    let hostKey: PublicKey;
    let certificate: Certificate | undefined;
    let signatureAlgorithm = alg;
    try {
      if (isCertificateAlgorithm(alg)) {
        certificate = parseCertificate(hostKeyBlob);
        hostKey = certificate.publicKey;
        signatureAlgorithm = signatureAlgorithmForCertAlgorithm(alg);
      } else {
        hostKey = parsePublicKeyBlob(hostKeyBlob);
      }
    } catch (err) {
      throw new SshProtocolError('HOST_KEY_INVALID', DisconnectReason.KEY_EXCHANGE_FAILED, `server host key is malformed: ${(err as Error).message}`);
    }
    if (certificate ? certificate.type !== certificateKeyTypeForAlgorithm(alg) || certificate.certType !== 'host' : !signatureAlgorithmsForKey(hostKey.type).includes(alg)) {
      throw new SshProtocolError('HOST_KEY_INVALID', DisconnectReason.KEY_EXCHANGE_FAILED, `server sent a ${certificate ? `${certificate.certType} ${certificate.type}` : hostKey.type} key but ${alg} was negotiated`);
    }
    const secret = this.clientState!.finish(serverValue);
    const encodedSecret = this.encodeSecret(method, secret);
    const h = this.computeExchangeHash(hostKeyBlob, this.clientState!.clientValue, serverValue, encodedSecret);
    if (!verifySignature(this.host.crypto, hostKey, signatureAlgorithm, signature, h)) {
      throw new SshProtocolError('SIGNATURE_INVALID', DisconnectReason.KEY_EXCHANGE_FAILED, `the server's ${alg} signature over the exchange hash does not verify`);
    }
    this.exchangeHash = h;
    this.encodedSecret = encodedSecret;
    this.hostKeyBlob = hostKeyBlob;
    this.host.hostKeyVerified({ hostKey, algorithm: alg, blob: hostKeyBlob, ...(certificate ? { certificate } : {}) });
  }

  /** RFC 4253 7.2: the keys for one direction once H and K are known. */
  keysFor(direction: 'c2s' | 's2c', sessionId: Uint8Array | null): DirectionKeys {
    const n = this.negotiated!;
    const h = this.exchangeHash!;
    const sid = sessionId ?? h;
    const cipher = direction === 'c2s' ? n.cipherC2S : n.cipherS2C;
    const mac = direction === 'c2s' ? n.macC2S : n.macS2C;
    const ci = cipherInfo[cipher]!;
    const mi = mac ? macInfo[mac]! : null;
    const hash = this.method!.hash;
    const K = this.encodedSecret!;
    const [ivL, keyL, macL] = direction === 'c2s' ? (['A', 'C', 'E'] as const) : (['B', 'D', 'F'] as const);
    const keys = {
      iv: deriveKey(this.host.crypto, hash, K, h, ivL, sid, ci.ivLength),
      key: deriveKey(this.host.crypto, hash, K, h, keyL, sid, ci.keyLength),
      macKey: deriveKey(this.host.crypto, hash, K, h, macL, sid, mi?.keyLength ?? 0),
    };
    return { cipher, mac, keys };
  }
}
