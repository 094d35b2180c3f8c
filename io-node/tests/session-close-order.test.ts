/**
 * The session handler (io-node/server-host/server-sessions.ts) against every order of the things that end a
 * session (RFC 4254 6.10, 5.3): the command's stdout and stderr ending, its exit, and the client's
 * data, EOF and CLOSE, for exec, shell and subsystem, with and without a pty. Two engines in memory
 * (core/testing/pair.ts) and a scripted command (the handler's `launch` seam) so that fast-check
 * can choose the order; bytes move only at the script's `pump` steps, so messages cross in flight.
 *
 * What must hold, as under OpenSSH's sshd:
 * - the connection never fails and the channel ends closed on both sides, CLOSE last;
 * - an exit report (exit-status / exit-signal) goes out before our CLOSE whenever one is owed:
 *   the client did not close first, or when it did the command had exited or its output had ended
 *   (its exit is near), or it had a pty (which is hung up, and that exit is reported);
 * - a client that closes while a command without a pty still writes gets CLOSE without a report
 *   (sshd lets the command run on) and the command is not killed;
 * - a client that does not close gets every byte, then EOF, then the report, then CLOSE.
 */
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ChannelRequest, generatePrivateKey, seededRandom, type SshEvent } from '../../core/index.ts';
import { Pair } from '../../core/testing/index.ts';
import { nodeCrypto } from '../runtime/crypto-node.ts';
import { createSessionHandler, type CommandSpec, type ExitInfo, type RunningCommand, type ServerConnectionContext } from '../server-host/server-sessions.ts';

const hostKeys = [generatePrivateKey('ed25519', seededRandom('session-close-order host'), nodeCrypto)];

type Step = 'out' | 'err' | 'endOut' | 'endErr' | 'exit' | 'clientData' | 'clientEof' | 'clientClose' | 'pump';
type Kind = 'exec' | 'shell' | 'subsystem';

const ticks = async (n = 3) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

/** A command whose output, exit and hang-up the script controls. */
class ScriptedCommand {
  readonly stdin = new PassThrough();
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly written: Buffer[] = [];
  readonly writtenErr: Buffer[] = [];
  readonly received: Buffer[] = [];
  outEnded = false;
  errEnded = false;
  exit: ExitInfo | null = null;
  hungUp = false;
  stdinDestroyed = false;
  private settle!: (e: ExitInfo) => void;
  readonly exited = new Promise<ExitInfo>((r) => (this.settle = r));

  constructor(readonly pty: boolean) {
    this.stdin.on('data', (d: Buffer) => this.received.push(d));
    this.stdin.on('close', () => (this.stdinDestroyed = true));
    // A terminal has one output stream.
    if (pty) this.errEnded = true;
  }

  write(which: 'out' | 'err', n: number): void {
    const data = Buffer.alloc(n, which === 'out' ? 0x6f : 0x65);
    if (which === 'out' && !this.outEnded) (this.stdout.write(data), this.written.push(data));
    if (which === 'err' && !this.errEnded) (this.stderr.write(data), this.writtenErr.push(data));
  }

  end(which: 'out' | 'err'): void {
    if (which === 'out' && !this.outEnded) (this.outEnded = true, this.stdout.end());
    if (which === 'err' && !this.errEnded) (this.errEnded = true, this.stderr.end());
  }

  finish(info: ExitInfo): void {
    if (this.exit) return;
    // A pty helper's exit settles only once the terminal's output has been read to the end.
    if (this.pty) this.end('out');
    this.exit = info;
    this.settle(info);
  }

  running(): RunningCommand {
    const outputs = this.pty
      ? [{ stream: this.stdout, dataType: 0 as const }]
      : [
          { stream: this.stdout, dataType: 0 as const },
          { stream: this.stderr, dataType: 1 as const },
        ];
    const hangup = () => {
      if (!this.pty) {
        this.stdin.destroy();
        return;
      }
      this.hungUp = true;
      // The terminal's hang-up kills the command with SIGHUP (unless it already exited).
      setImmediate(() => this.finish({ code: null, signal: 'HUP', coreDumped: false }));
    };
    return {
      stdin: this.stdin,
      outputs,
      exited: this.exited,
      pty: this.pty
        ? { backend: 'script', output: this.stdout, input: this.stdin, exited: this.exited, resize: () => {}, signal: () => true, sendBreak: () => false, hangup }
        : null,
      signal: () => true,
      hangup,
    };
  }
}

interface Outcome {
  readonly pair: Pair;
  readonly ch: number;
  readonly cmd: ScriptedCommand;
  readonly log: string[];
  readonly clientClosed: boolean;
  /** What the session had seen when the client's CLOSE reached it (null: it closed first). */
  readonly atPeerClose: { exited: boolean; outputsEnded: boolean } | null;
}

async function runScript(kind: Kind, pty: boolean, steps: readonly Step[], chunk: number): Promise<Outcome> {
  const log: string[] = [];
  let cmd: ScriptedCommand | null = null;
  let launched: CommandSpec | null = null;
  const handler = createSessionHandler({
    shell: '/bin/sh',
    subsystems: { sftp: ['/usr/lib/openssh/sftp-server'] },
    pty: 'auto',
    log: (l) => log.push(l),
    launch: (spec) => {
      launched = spec;
      cmd = new ScriptedCommand(spec.pty !== null);
      return cmd.running();
    },
  });
  let pair!: Pair;
  const ctx: ServerConnectionContext = { command: (fn) => fn(pair.server, pair.now), username: 'u' };
  pair = new Pair({
    client: { crypto: nodeCrypto, username: 'u' },
    server: { crypto: nodeCrypto, hostKeys, acceptNoneAuthentication: true },
    autoConsume: false,
    decide: (side, d) => {
      if (side === 'server' && (d.kind === 'channelOpen' || d.kind === 'channelRequest')) return handler.onDecision(d, ctx) ?? false;
      return undefined;
    },
  });
  let fedServer = 0;
  let fedClient = 0;
  let atPeerClose: Outcome['atPeerClose'] = null;
  let sawExit = false;
  let sawOutputsEnd = false;
  /** Move bytes and hand the events to the handler (server) or consume data (client) until quiet. */
  const pump = async () => {
    for (let quiet = 0; quiet < 2; ) {
      let moved = pair.pump() > 0;
      while (fedServer < pair.serverEvents.length) {
        const e = pair.serverEvents[fedServer++]!;
        if (e.type === 'decision') continue;
        moved = true;
        if (e.type === 'channelPeerClosed') atPeerClose = { exited: sawExit, outputsEnded: sawOutputsEnd };
        handler.onEvent(e, ctx);
      }
      while (fedClient < pair.clientEvents.length) {
        const e = pair.clientEvents[fedClient++]!;
        moved = true;
        if (e.type === 'channelData' && !pair.client.isClosed && !clientGone()) pair.client.consumed(e.channel, e.data.length, pair.now);
      }
      await ticks(2);
      quiet = moved ? 0 : quiet + 1;
    }
  };
  const channelOf = (events: SshEvent[], id: number) => events.filter((e) => 'channel' in e && e.channel === id);
  let ch = -1;
  const clientGone = () => channelOf(pair.clientEvents, ch).some((e) => e.type === 'channelClosed');

  pair.pump();
  ch = pair.client.openSession(pair.now);
  await pump();
  if (pty) {
    pair.client.channelRequest(ch, { type: 'pty-req', term: 'xterm', cols: 80, rows: 24, widthPx: 0, heightPx: 0, modes: {} }, true, pair.now);
    await pump();
  }
  const request: ChannelRequest = kind === 'exec' ? { type: 'exec', command: 'work' } : kind === 'shell' ? { type: 'shell' } : { type: 'subsystem', name: 'sftp' };
  pair.client.channelRequest(ch, request, true, pair.now);
  await pump();
  expect(launched, 'the session started the command').not.toBeNull();
  expect(launched!.pty !== null).toBe(pty);
  const c = cmd as unknown as ScriptedCommand;

  let clientEofSent = false;
  let clientClosed = false;
  // Whatever the script did, the command ends in the end (its exit comes last at the latest).
  for (const s of [...steps, 'endOut', 'endErr', 'exit', 'pump', 'pump'] as Step[]) {
    const usable = !clientGone() && !clientClosed;
    switch (s) {
      case 'out':
        c.write('out', chunk);
        break;
      case 'err':
        c.write('err', chunk);
        break;
      case 'endOut':
        c.end('out');
        break;
      case 'endErr':
        c.end('err');
        break;
      case 'exit':
        c.finish({ code: 3, signal: null, coreDumped: false });
        break;
      case 'clientData':
        if (usable && !clientEofSent) pair.client.write(ch, new Uint8Array([0x69, 0x6e]), pair.now);
        break;
      case 'clientEof':
        if (usable && !clientEofSent) (pair.client.eof(ch, pair.now), (clientEofSent = true));
        break;
      case 'clientClose':
        if (usable) (pair.client.close(ch, pair.now), (clientClosed = true));
        break;
      case 'pump':
        await pump();
        break;
    }
    await ticks();
    // What the session has now seen (its stream and exit handlers ran during the ticks).
    if (c.exit) sawExit = true;
    if (c.outEnded && c.errEnded) sawOutputsEnd = true;
  }
  await pump();
  return { pair, ch, cmd: c, log, clientClosed, atPeerClose };
}

function check(o: Outcome, pty: boolean): void {
  const { pair, ch, cmd } = o;
  const events = pair.clientEvents.filter((e) => 'channel' in e && e.channel === ch);
  const types = events.map((e) => e.type);
  expect(pair.clientEvents.some((e) => e.type === 'closed'), 'client connection failed').toBe(false);
  expect(pair.serverEvents.some((e) => e.type === 'closed'), 'server connection failed').toBe(false);
  expect(o.log.filter((l) => /command failed/.test(l))).toEqual([]);
  // CLOSE both ways, once, last.
  expect(types.filter((t) => t === 'channelClosed')).toHaveLength(1);
  expect(types[types.length - 1]).toBe('channelClosed');
  expect(pair.serverEvents.some((e) => e.type === 'channelClosed' && e.channel === ch)).toBe(true);

  const reports = events.flatMap((e) => (e.type === 'channelRequest' && (e.request.type === 'exit-status' || e.request.type === 'exit-signal') ? [e.request] : []));
  expect(reports.length).toBeLessThanOrEqual(1);
  const owed = !o.clientClosed || pty || o.atPeerClose === null || o.atPeerClose.exited || o.atPeerClose.outputsEnded;
  if (owed) {
    const exit = cmd.exit!;
    expect(reports, 'the exit report before CLOSE').toEqual([exit.signal !== null ? { type: 'exit-signal', signal: exit.signal, coreDumped: false, message: '', language: '' } : { type: 'exit-status', status: exit.code }]);
  } else {
    // The client closed while a command without a pty still had output open and had not exited:
    // CLOSE at once, no report, the command left running (only its stdin is closed).
    expect(reports).toEqual([]);
    expect(cmd.hungUp).toBe(false);
  }
  if (!o.clientClosed) {
    // Every byte, in order, then EOF, then the report, then CLOSE.
    const out = Buffer.concat(events.flatMap((e) => (e.type === 'channelData' && e.dataType === 0 ? [Buffer.from(e.data)] : [])));
    const err = Buffer.concat(events.flatMap((e) => (e.type === 'channelData' && e.dataType === 1 ? [Buffer.from(e.data)] : [])));
    expect(out.equals(Buffer.concat(cmd.written))).toBe(true);
    expect(err.equals(Buffer.concat(cmd.writtenErr))).toBe(true);
    const eof = types.indexOf('channelEof');
    const report = events.findIndex((e) => e.type === 'channelRequest');
    const lastData = types.lastIndexOf('channelData');
    expect(eof).toBeGreaterThan(lastData);
    expect(report).toBeGreaterThan(eof);
  }
  // Nothing reached the client after its channel closed, and no data after EOF.
  const eofAt = types.indexOf('channelEof');
  if (eofAt >= 0) expect(types.slice(eofAt).includes('channelData')).toBe(false);
}

const steps = fc.array(fc.constantFrom<Step>('out', 'err', 'endOut', 'endErr', 'exit', 'clientData', 'clientEof', 'clientClose', 'pump', 'pump'), { maxLength: 16 });
const kinds = fc.constantFrom<Kind>('exec', 'shell', 'subsystem');

describe('session close order against every interleaving', () => {
  for (const pty of [false, true]) {
    it(`${pty ? 'with' : 'without'} a pty: the exit report precedes CLOSE whenever it is owed, and nothing follows CLOSE`, async () => {
      await fc.assert(
        fc.asyncProperty(kinds, steps, fc.constantFrom(1, 700, 40_000), async (kind, script, chunk) => {
          check(await runScript(kind, pty, script, chunk), pty);
        }),
        { numRuns: 150 },
      );
    }, 120_000);
  }

  it('the orders that lost the exit status before (client CLOSE right after our EOF; CLOSE before the exit)', async () => {
    for (const kind of ['exec', 'shell', 'subsystem'] as const) {
      const closeOnEof = await runScript(kind, false, ['out', 'endOut', 'endErr', 'clientEof', 'pump', 'clientClose', 'pump', 'exit'], 10);
      check(closeOnEof, false);
      expect(closeOnEof.atPeerClose).toEqual({ exited: false, outputsEnded: true });
      const closeFirst = await runScript(kind, false, ['out', 'endOut', 'endErr', 'clientClose', 'exit'], 10);
      check(closeFirst, false);
    }
  }, 60_000);
});
