/**
 * What the engine tells the application, pulled with `pollEvent()`. Events are plain data: no
 * secrets (keys, shared secrets) ever appear in them.
 */
import type { SshError } from './errors.ts';
import type { ChannelOpenRequest, ChannelRequest, GlobalRequest } from './connection/messages.ts';
import type { Certificate } from './keys/certificate.ts';
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

/**
 * A question for the embedder, answered with `engine.resolve(id, answer, now)`. Decoding of later
 * packets waits until it is answered; the answer may come after any amount of asynchronous work.
 */
export type Decision = {
  readonly id: number;
  /**
   * True when decoding waits for this answer (host key, authentication); false for connection
   * decisions (channel opens and requests), which let other traffic flow meanwhile — an adapter
   * should keep reading while only those are open.
   */
  readonly blocking: boolean;
} & DecisionBody;

export type DecisionBody =
  | Omit<HostKeyDecision, 'id'>
  | SignDecision
  | PasswordDecision
  | PasswordChangeDecision
  | KeyboardInteractiveDecision
  | AuthMethodsDecision
  | AuthPasswordDecision
  | AuthPublicKeyDecision
  | AuthKeyboardInteractiveDecision
  | AuthHostbasedDecision
  | ChannelOpenDecision
  | ChannelRequestDecision
  | GlobalRequestDecision;

/**
 * The peer wants to open a channel (our local id is already reserved). Answer true to confirm,
 * false or `{ reason, description }` (RFC 4254 5.1 reason codes) to refuse; false refuses a type the
 * engine does not know (request type 'other') with UNKNOWN_CHANNEL_TYPE, any other with
 * ADMINISTRATIVELY_PROHIBITED. Does not block decoding.
 */
export interface ChannelOpenDecision {
  readonly kind: 'channelOpen';
  readonly channel: number;
  readonly request: ChannelOpenRequest;
}

/**
 * A want-reply channel request (exec, shell, pty-req, subsystem, env, …). Answer true or false;
 * replies go out in request order whatever the order of answers. `forcedCommand` is set when a
 * session policy (authorized_keys `command=`) replaces what the client asked to run.
 */
export interface ChannelRequestDecision {
  readonly kind: 'channelRequest';
  readonly channel: number;
  readonly request: ChannelRequest;
  readonly forcedCommand?: string;
}

/** A want-reply global request. Answer true, false, `{ success: true, port }` (tcpip-forward port 0) or `{ success: true, data }`. */
export interface GlobalRequestDecision {
  readonly kind: 'globalRequest';
  readonly request: GlobalRequest;
}

export interface KeyboardPrompt {
  readonly prompt: string;
  readonly echo: boolean;
}

/**
 * Client: sign `data` with the private half of `key` using signature `algorithm` (e.g.
 * `rsa-sha2-512`). Answer with the SSH signature blob (`string algorithm, string signature`), or
 * null to skip this key.
 */
export interface SignDecision {
  readonly kind: 'sign';
  readonly purpose: 'publickey' | 'hostbased';
  readonly key: PublicKey;
  readonly certificate?: Uint8Array;
  readonly comment?: string;
  readonly algorithm: string;
  readonly data: Uint8Array;
}

/** Client: the password for `username` (a string), or null to stop trying passwords. */
export interface PasswordDecision {
  readonly kind: 'password';
  readonly username: string;
  readonly prompt: string;
  readonly attempt: number;
}

/** Client: the server requires a new password (RFC 4252 8). Answer `{ oldPassword, newPassword }` or null. */
export interface PasswordChangeDecision {
  readonly kind: 'passwordChange';
  readonly username: string;
  readonly prompt: string;
}

/** Client: one keyboard-interactive round (RFC 4256 3.2). Answer one string per prompt, or null. */
export interface KeyboardInteractiveDecision {
  readonly kind: 'keyboardInteractive';
  readonly username: string;
  readonly name: string;
  readonly instruction: string;
  readonly prompts: readonly KeyboardPrompt[];
}

/**
 * Server: which method chains may `username` use? Asked once per connection, at the first
 * request. Answer a list of alternatives, each an ordered list of methods that must all succeed
 * (OpenSSH AuthenticationMethods), e.g. `[['publickey', 'keyboard-interactive'], ['password']]`.
 * Answer the same for unknown users and fail their methods, so user names cannot be probed.
 */
export interface AuthMethodsDecision {
  readonly kind: 'authMethods';
  readonly username: string;
}

/**
 * Server: is this password right? Answer true, false, or `{ changePassword: prompt }` to demand a
 * new one (RFC 4252 8); the client's change request comes back with `newPassword` set.
 */
export interface AuthPasswordDecision {
  readonly kind: 'authPassword';
  readonly username: string;
  readonly password: string;
  readonly newPassword?: string;
}

/**
 * Server: may `username` log in with this key? For a query (`signed: false`) the answer decides
 * between PK_OK and FAILURE; for a signed request the signature over the session has already been
 * verified with exactly this key. Answer true/false, or `{ accept: true, policy }` to attach a
 * session policy (authorized_keys options) that the connection layer enforces.
 */
export interface AuthPublicKeyDecision {
  readonly kind: 'authPublicKey';
  readonly username: string;
  readonly key: PublicKey;
  readonly algorithm: string;
  /** Present when the client offered an OpenSSH certificate; its CA signature is not yet checked. */
  readonly certificate?: Uint8Array;
  readonly signed: boolean;
}

/**
 * Server: a keyboard-interactive round. `responses` is null when the method starts. Answer
 * `{ name?, instruction?, prompts }` for another round, or true/false to finish.
 */
export interface AuthKeyboardInteractiveDecision {
  readonly kind: 'authKeyboardInteractive';
  readonly username: string;
  readonly submethods: string;
  readonly round: number;
  readonly responses: readonly string[] | null;
}

/** Server: hostbased login (RFC 4252 9); the host key's signature is already verified. Answer true/false. */
export interface AuthHostbasedDecision {
  readonly kind: 'authHostbased';
  readonly username: string;
  readonly key: PublicKey;
  readonly algorithm: string;
  readonly clientHostname: string;
  readonly clientUsername: string;
}

/**
 * Client: is this the server's key? Answer `true` to continue, `false` to disconnect with
 * HOST_KEY_NOT_VERIFIABLE. Asked once, at the initial key exchange; re-keys must present the same key.
 */
export interface HostKeyDecision {
  readonly kind: 'hostKey';
  readonly id: number;
  readonly hostKey: PublicKey;
  readonly algorithm: string;
  /** `SHA256:…` of the key (also when it came in a certificate), as `ssh-keygen -l` prints it. */
  readonly fingerprint: string;
  /**
   * Set when the server presented an OpenSSH host certificate: its CA signature, validity and
   * principals are NOT checked yet — `verifyCertificate` with the trusted CA keys and a wall clock.
   */
  readonly certificate?: Certificate;
}


export type SshEvent =
  | { readonly type: 'decision'; readonly decision: Decision }
  | { readonly type: 'kexComplete'; readonly initial: boolean; readonly algorithms: NegotiatedAlgorithms }
  | { readonly type: 'extInfo'; readonly extensions: ReadonlyMap<string, Uint8Array> }
  | { readonly type: 'serviceAccepted'; readonly service: string }
  | { readonly type: 'authFailure'; readonly methods: readonly string[]; readonly partialSuccess: boolean }
  /** Authentication finished. Server: `policy` is what the deciding answer attached, if anything. */
  | { readonly type: 'authSuccess'; readonly username: string; readonly method: string; readonly policy?: unknown }
  | { readonly type: 'globalReply'; readonly name: string; readonly success: boolean; readonly data: Uint8Array; readonly port?: number }
  /** A global request that wants no reply (RFC 4254 4). */
  | { readonly type: 'globalRequest'; readonly request: GlobalRequest }
  | { readonly type: 'channelOpenConfirmed'; readonly channel: number }
  | { readonly type: 'channelOpenFailed'; readonly channel: number; readonly reason: number; readonly description: string }
  /** Data arrived: call `consumed(channel, n)` once the application has taken it; that reopens the window. `dataType` 1 is stderr. */
  | { readonly type: 'channelData'; readonly channel: number; readonly data: Uint8Array; readonly dataType: number }
  | { readonly type: 'channelEof'; readonly channel: number }
  /**
   * Server: the client sent CLOSE while we owe it the exit report of a started command. Our answer
   * waits for close(): send exit-status / exit-signal first, then close() (or close() alone to give
   * up). Until then writes and eof() on the channel are dropped — the peer reads nothing more.
   */
  | { readonly type: 'channelPeerClosed'; readonly channel: number }
  /** CLOSE went both ways: the channel is gone and its id may be reused. */
  | { readonly type: 'channelClosed'; readonly channel: number }
  /** A channel request that wants no reply (exit-status, exit-signal, window-change, signal, eow, …). */
  | { readonly type: 'channelRequest'; readonly channel: number; readonly request: ChannelRequest; readonly forcedCommand?: string }
  | { readonly type: 'channelRequestReply'; readonly channel: number; readonly request: string; readonly success: boolean }
  /** Everything written on the channel has been sent (the queue was non-empty before). */
  | { readonly type: 'channelDrain'; readonly channel: number }
  /** Client: the server announced its host keys (hostkeys-00@openssh.com); prove new ones before trusting them. */
  | { readonly type: 'hostKeysAnnounced'; readonly keys: readonly Uint8Array[] }
  /** Client: the keys whose possession the server proved (hostkeys-prove-00@openssh.com). */
  | { readonly type: 'hostKeysProved'; readonly keys: readonly Uint8Array[] }
  | { readonly type: 'banner'; readonly message: string }
  | { readonly type: 'debug'; readonly message: string; readonly alwaysDisplay: boolean }
  | { readonly type: 'unimplemented'; readonly sequence: number }
  /**
   * Terminal: the connection is over. `error` is null when we disconnected deliberately
   * (`disconnect()`), an SshPeerDisconnectError when the peer said goodbye, and a protocol or
   * timeout error otherwise. Nothing follows this event.
   */
  | { readonly type: 'closed'; readonly error: SshError | null };
