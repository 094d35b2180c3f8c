/**
 * The promise API's typed errors (DESIGN.md section 3): each has a stable `code`. What the peer did
 * arrives as these (or as the engine's SshError, e.g. AUTH_FAILED); misuse of the API throws
 * SshUsageError from core/errors.ts.
 */

/** RFC 4254 section 5.1 reason codes, by name, for messages. */
const OPEN_FAILURE_NAMES: Readonly<Record<number, string>> = {
  1: 'ADMINISTRATIVELY_PROHIBITED',
  2: 'CONNECT_FAILED',
  3: 'UNKNOWN_CHANNEL_TYPE',
  4: 'RESOURCE_SHORTAGE',
};

/** The peer refused to open a channel (SSH_MSG_CHANNEL_OPEN_FAILURE). */
export class ChannelOpenError extends Error {
  readonly code = 'CHANNEL_OPEN_FAILED';
  /** The RFC 4254 section 5.1 reason code (sshd 9.2 answers a session beyond MaxSessions with 2, CONNECT_FAILED). */
  readonly reason: number;
  readonly description: string;
  constructor(reason: number, description: string, what = 'a channel') {
    super(`the server refused to open ${what}: ${OPEN_FAILURE_NAMES[reason] ?? `reason ${reason}`}${description ? ` (${description})` : ''}`);
    this.name = 'ChannelOpenError';
    this.reason = reason;
    this.description = description;
  }
}

/** The peer answered a channel request (exec, pty-req, subsystem, …) with SSH_MSG_CHANNEL_FAILURE. */
export class ChannelRequestError extends Error {
  readonly code = 'CHANNEL_REQUEST_FAILED';
  readonly request: string;
  constructor(request: string, detail: string) {
    super(`the server refused the "${request}" request${detail ? ` (${detail})` : ''}`);
    this.name = 'ChannelRequestError';
    this.request = request;
  }
}

/** The peer refused a global request (tcpip-forward, streamlocal-forward, …). */
export class GlobalRequestError extends Error {
  readonly code = 'GLOBAL_REQUEST_FAILED';
  readonly request: string;
  constructor(request: string, detail: string) {
    super(`the server refused the "${request}" request${detail ? ` (${detail})` : ''}`);
    this.name = 'GlobalRequestError';
    this.request = request;
  }
}

/**
 * The connection ended while the operation needed it. `cause` is why (the engine's typed error or
 * the stream's); absent when this side closed it (`close()`).
 */
export class ConnectionClosedError extends Error {
  readonly code = 'CONNECTION_CLOSED';
  constructor(message: string, cause: Error | null) {
    super(message, cause === null ? undefined : { cause });
    this.name = 'ConnectionClosedError';
  }

  /** True when the connection was lost (peer, network, protocol error), false when we closed it. */
  get lost(): boolean {
    return this.cause !== undefined;
  }
}

/** The operation was given up because its AbortSignal fired; `cause` is the signal's reason. */
export class AbortError extends Error {
  readonly code = 'ABORTED';
  constructor(what: string, reason: unknown) {
    super(`${what} was aborted`, { cause: reason });
    this.name = 'AbortError';
  }
}

/** Connecting or logging in took longer than allowed. */
export class TimeoutError extends Error {
  readonly code = 'TIMEOUT';
  constructor(message: string) {
    super(message);
    this.name = 'TimeoutError';
  }
}

export interface ExitSignal {
  /** The signal name without `SIG` (RFC 4254 section 6.10), e.g. `TERM`. */
  readonly signal: string;
  readonly coreDumped: boolean;
  readonly message: string;
}

export interface ExitInfo {
  /** The exit status, or null when the server sent none (killed by a signal, or the channel was closed first). */
  readonly exitStatus: number | null;
  readonly exitSignal: ExitSignal | null;
}

/** What `run` collected: output as text (the default) or bytes (`encoding: null`). */
export interface RunResult<T extends string | Uint8Array = string> extends ExitInfo {
  readonly stdout: T;
  readonly stderr: T;
}

/** `run(…, { check: true })` and the command did not exit with 0; `result` is everything it produced. */
export class ProcessError<T extends string | Uint8Array = string | Uint8Array> extends Error {
  readonly code = 'PROCESS_FAILED';
  readonly command: string;
  readonly result: RunResult<T>;
  constructor(command: string, result: RunResult<T>) {
    const how =
      result.exitSignal !== null
        ? `was killed by signal ${result.exitSignal.signal}`
        : result.exitStatus !== null
          ? `exited with status ${result.exitStatus}`
          : 'ended without an exit status';
    super(`the command ${JSON.stringify(command)} ${how}`);
    this.name = 'ProcessError';
    this.command = command;
    this.result = result;
  }

  get exitStatus(): number | null {
    return this.result.exitStatus;
  }
}
