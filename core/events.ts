/**
 * What the engine tells the application, pulled with `pollEvent()`. Events are plain data: no
 * secrets (keys, shared secrets) ever appear in them.
 */
import type { SshError } from './errors.ts';
import type { PublicKey } from './keys/public-key.ts';

export interface NegotiatedAlgorithms {
  readonly kex: string;
  readonly hostKey: string;
  readonly cipherClientToServer: string;
  readonly cipherServerToClient: string;
  /** `null` when the cipher is an AEAD and needs no separate MAC. */
  readonly macClientToServer: string | null;
  readonly macServerToClient: string | null;
  readonly compressionClientToServer: string;
  readonly compressionServerToClient: string;
  readonly strictKex: boolean;
}

/** A question for the embedder, answered with `engine.resolve(id, answer, now)`. */
export type Decision = HostKeyDecision;

/**
 * Client: is this the server's key? Answer `true` to continue, `false` to disconnect with
 * HOST_KEY_NOT_VERIFIABLE. Asked once, at the initial key exchange; re-keys must present the same key.
 */
export interface HostKeyDecision {
  readonly kind: 'hostKey';
  readonly id: number;
  readonly hostKey: PublicKey;
  readonly algorithm: string;
  /** `SHA256:…` as `ssh-keygen -l` prints it. */
  readonly fingerprint: string;
}

export type DecisionAnswer<D extends Decision> = D extends HostKeyDecision ? boolean : never;

export type SshEvent =
  | { readonly type: 'decision'; readonly decision: Decision }
  | { readonly type: 'kexComplete'; readonly initial: boolean; readonly algorithms: NegotiatedAlgorithms }
  | { readonly type: 'extInfo'; readonly extensions: ReadonlyMap<string, Uint8Array> }
  | { readonly type: 'serviceAccepted'; readonly service: string }
  | { readonly type: 'authFailure'; readonly methods: readonly string[]; readonly partialSuccess: boolean }
  | { readonly type: 'authSuccess' }
  | { readonly type: 'globalReply'; readonly name: string; readonly success: boolean; readonly data: Uint8Array }
  | { readonly type: 'banner'; readonly message: string }
  | { readonly type: 'debug'; readonly message: string; readonly alwaysDisplay: boolean }
  | { readonly type: 'unimplemented'; readonly sequence: number }
  /**
   * Terminal: the connection is over. `error` is null when we disconnected deliberately
   * (`disconnect()`), an SshPeerDisconnectError when the peer said goodbye, and a protocol or
   * timeout error otherwise. Nothing follows this event.
   */
  | { readonly type: 'closed'; readonly error: SshError | null };
