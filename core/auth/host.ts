/**
 * What the authentication layers need from the engine, and nothing more: the session id for the
 * signed data of RFC 4252 sections 7 and 9, the server's `server-sig-algs`, a way to send, to emit
 * events, to ask a (blocking) decision, and to report success to the transport machine.
 */
import type { CryptoProvider } from '../crypto/provider.ts';
import type { SessionPolicy } from '../connection/connection.ts';
import type { DecisionBody, SshEvent } from '../events.ts';

export interface AuthHost {
  readonly crypto: CryptoProvider;
  sessionId(): Uint8Array;
  serverSigAlgs(): readonly string[] | null;
  send(payload: Uint8Array): void;
  emit(event: SshEvent): void;
  /**
   * Emit a decision; decoding stops until it is resolved. `onAnswer` validates the answer (throwing
   * SshUsageError before changing anything when it is malformed) and acts on it.
   */
  ask(decision: DecisionBody, onAnswer: (answer: unknown) => void): void;
  /** Authentication is complete: the transport moves to the connection layer. */
  succeeded(): void;
  /** Server: the session policy the deciding answer attached (authorized_keys options). */
  setPolicy(policy: SessionPolicy): void;
}
