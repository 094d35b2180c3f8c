/**
 * OpenSSH's own client (`ssh`, `sftp`) against hermit's session and forwarding handler: commands
 * with stdout, stderr and exit status, exit-signal, ptys (ssh -tt, with and without a local
 * terminal, and a live window-change), env forwarding, 8 MiB through stdin and back, the eow
 * that ssh sends when its stdout goes away, the sftp subsystem, and forwarding in every shape ssh
 * has: -L (TCP and Unix socket), -R (port 0, a fixed port, a Unix socket, a port in use), -W,
 * and a forward to a closed port.
 *
 * The server runs in this process, built from the same pieces as `hermit serve` (host key, one
 * SshEngine and ConnectionPump per socket, publickey authentication for a key made by
 * ssh-keygen here, then createSessionHandler), so that the handler is tested before the CLI
 * wires it in. Outcomes are what ssh itself reports: exit codes, output, its own messages.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SshEngine, parsePublicKeyLine, type PrivateKey, type PublicKey } from '../../core/index.ts';
import { ConnectionPump } from '../runtime/connection-pump.ts';
import { nodeCrypto } from '../runtime/crypto-node.ts';
import { generateHostKey } from '../trust/keys.ts';
import { createSessionHandler, type ServerConnectionContext } from '../server-host/server-sessions.ts';
import { failEachTestWithoutOpenSsh, freePort, openSshBinaries, run, tempDir } from './openssh.ts';

const haveOpenSsh = failEachTestWithoutOpenSsh();

let dir: string;
let keyPath: string;
let userKey: PublicKey;
let hostKey: PrivateKey;
let port: number;
let listener: Server;
/** A second listener whose identification claims OpenSSH compatibility. */
let compatPort: number;
let compatListener: Server;
const serverLog: string[] = [];
const pumps = new Set<ConnectionPump>();
let echo: Server;
let echoPort: number;

/**
 * One connection as `hermit serve` runs it: publickey for the test key, then the session handler.
 * `softwareVersion` changes the identification line: ssh enables OpenSSH-only extensions (eow)
 * only for peers whose version starts with "OpenSSH".
 */
function serveConnection(socket: Socket, softwareVersion?: string): void {
  const engine = new SshEngine({ role: 'server', now: performance.now(), crypto: nodeCrypto, hostKeys: [hostKey], ...(softwareVersion ? { softwareVersion } : {}) });
  const handler = createSessionHandler({ log: (l) => serverLog.push(l) });
  let username = '';
  let pump: ConnectionPump;
  const ctx: ServerConnectionContext = {
    command: (fn) => pump.command(fn),
    get username() {
      return username;
    },
    remoteAddress: socket.remoteAddress ?? '',
    remotePort: socket.remotePort ?? 0,
    localAddress: socket.localAddress ?? '',
    localPort: socket.localPort ?? 0,
  };
  pump = new ConnectionPump(engine, socket, {
    onDecision: (d) => {
      if (d.kind === 'authMethods') return [['publickey']];
      if (d.kind === 'authPublicKey') return d.key.blob.length === userKey.blob.length && d.key.blob.every((b, i) => b === userKey.blob[i]);
      if (d.kind.startsWith('auth')) return false;
      const answer = handler.onDecision(d, ctx);
      if (answer !== undefined) return answer;
      return d.kind === 'channelOpen' ? { reason: 1, description: 'not offered' } : false;
    },
    onEvent: (e) => {
      if (e.type === 'authSuccess') username = e.username;
      handler.onEvent(e, ctx);
    },
  });
  pumps.add(pump);
  void pump.closed.then(() => pumps.delete(pump));
}

beforeAll(async () => {
  if (!haveOpenSsh) return;
  dir = await tempDir('sessions-openssh');
  keyPath = join(dir, 'id_ed25519');
  const kg = await run(openSshBinaries().sshKeygen, ['-q', '-N', '', '-t', 'ed25519', '-C', 'hermit-sessions', '-f', keyPath]);
  if (kg.code !== 0) throw new Error(`ssh-keygen failed: ${kg.stderr}`);
  userKey = parsePublicKeyLine(await readFile(`${keyPath}.pub`, 'utf8')).key;
  hostKey = generateHostKey('ed25519');
  listener = createServer(serveConnection);
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  port = (listener.address() as { port: number }).port;
  compatListener = createServer((s) => serveConnection(s, 'OpenSSH_9.9-hermit'));
  await new Promise<void>((resolve) => compatListener.listen(0, '127.0.0.1', resolve));
  compatPort = (compatListener.address() as { port: number }).port;
  echo = createServer({ allowHalfOpen: true }, (s) => s.pipe(s));
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  echoPort = (echo.address() as { port: number }).port;
});

afterAll(async () => {
  const all = [...pumps];
  for (const p of all) p.disconnect('test over');
  await Promise.all(all.map((p) => p.closed));
  listener?.close();
  compatListener?.close();
  echo?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------- running ssh

function sshArgs(logLevel = 'ERROR', toPort = port): string[] {
  return [
    '-F', '/dev/null',
    '-p', String(toPort),
    '-i', keyPath,
    '-o', 'IdentitiesOnly=yes',
    '-o', 'IdentityAgent=none',
    '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=no',
    '-o', 'UserKnownHostsFile=/dev/null',
    '-o', `LogLevel=${logLevel}`,
  ];
}

const TARGET = 'tester@127.0.0.1';

interface BinResult {
  readonly code: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** Run a program with binary stdin/stdout. */
function runBin(file: string, args: readonly string[], input: Buffer | string = '', timeoutMs = 60_000, env: NodeJS.ProcessEnv = process.env): Promise<BinResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${file} ${args.join(' ')} did not finish in ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

function ssh(args: readonly string[], input: Buffer | string = '', env?: NodeJS.ProcessEnv): Promise<BinResult> {
  return runBin(openSshBinaries().ssh, [...sshArgs(), ...args], input, 60_000, env);
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A long-running ssh (forwarding with -N); its stderr is collected. */
interface Background {
  readonly child: ChildProcess;
  stderr(): string;
  stop(): Promise<void>;
}

function sshBackground(args: readonly string[], logLevel = 'ERROR'): Background {
  const child = spawn(openSshBinaries().ssh, [...sshArgs(logLevel), '-N', '-o', 'ExitOnForwardFailure=yes', ...args, TARGET], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  child.stdout!.resume();
  return {
    child,
    stderr: () => err,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((r) => child.once('close', r));
      child.kill('SIGTERM');
      await gone;
    },
  };
}

async function waitUntil(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function dial(options: { port: number } | { path: string }): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = 'path' in options ? connect({ path: options.path, allowHalfOpen: true }) : connect({ port: options.port, host: '127.0.0.1', allowHalfOpen: true });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

async function canDial(options: { port: number } | { path: string }): Promise<boolean> {
  try {
    (await dial(options)).destroy();
    return true;
  } catch {
    return false;
  }
}

/** Send, half-close, read everything until the far side closes. */
async function roundTrip(options: { port: number } | { path: string }, data: Buffer): Promise<Buffer> {
  const socket = await dial(options);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks)));
    socket.end(data);
  });
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

// ---------------------------------------------------------------- tests

describe('ssh runs commands', () => {
  it('separates stdout and stderr and returns the exit status', async () => {
    const r = await ssh([TARGET, 'echo out; echo err >&2; exit 7']);
    expect(r.stdout.toString()).toBe('out\n');
    expect(r.stderr).toBe('err\n');
    expect(r.code).toBe(7);
  });

  it('exits 255 after exit-signal, as it does with sshd (ssh has no exit-signal handler)', async () => {
    const r = await runBin(openSshBinaries().ssh, [...sshArgs('DEBUG'), TARGET, 'echo before; kill -KILL $$']);
    expect(r.stdout.toString()).toBe('before\n');
    expect(r.code).toBe(255);
    expect(r.stderr).toContain('client_input_channel_req: channel 0 rtype exit-signal reply 0');
    expect(r.stderr).toContain('Exit status -1');
    expect(serverLog).toContain('channel 0: killed by signal KILL');
  });

  it('forwards the variables named by SendEnv that the server accepts', async () => {
    const r = await ssh(['-o', 'SendEnv=LANG HERMIT_* FOO', TARGET, 'echo "$LANG|$HERMIT_X|${FOO-unset}"'], '', { ...process.env, LANG: 'C.UTF-8', HERMIT_X: 'yes', FOO: 'no' });
    expect(r.stdout.toString()).toBe('C.UTF-8|yes|unset\n');
    expect(r.code).toBe(0);
  });

  it('streams 8 MiB of stdin into a command and 8 MiB back out unchanged', async () => {
    const data = randomBytes(8 * 1024 * 1024);
    const digest = await ssh([TARGET, 'sha256sum'], data);
    expect(digest.stdout.toString().split(' ')[0]).toBe(sha256(data));
    const echoed = await ssh([TARGET, 'cat'], data);
    expect(echoed.stdout.length).toBe(data.length);
    expect(sha256(echoed.stdout)).toBe(sha256(data));
    expect(echoed.code).toBe(0);
  });

  it('stops the command when ssh stops reading (eow): `ssh host yes | head -1` ends', async () => {
    // ssh sends eow@openssh.com only to servers it recognises as OpenSSH (compat SSH_NEW_OPENSSH);
    // to any other server it silently drops the output and waits for the command to end.
    const started = Date.now();
    const line = [openSshBinaries().ssh, ...sshArgs('ERROR', compatPort), TARGET, 'yes'].map(shellQuote).join(' ');
    const r = await run('/bin/sh', ['-c', `${line} | head -1; echo "ssh=$?"`], { timeoutMs: 30_000 });
    expect(r.stdout).toBe('y\nssh=0\n');
    expect(Date.now() - started).toBeLessThan(20_000);
    // The command was stopped by losing its stdout: SIGPIPE, or exit 1 with ECONNRESET (see server-sessions.ts).
    await waitUntil(`the command to end (log: ${serverLog.slice(-5).join('; ')})`, () => serverLog.some((l) => /killed by signal PIPE|exit status 1$/.test(l)));
  });

  it('serves the sftp subsystem to the real sftp client', async () => {
    const local = join(dir, 'upload.bin');
    const remote = join(dir, 'remote.bin');
    const back = join(dir, 'download.bin');
    const data = randomBytes(300_000);
    writeFileSync(local, data);
    const batch = join(dir, 'batch');
    writeFileSync(batch, `put ${local} ${remote}\nget ${remote} ${back}\nls ${remote}\n`);
    const sftpBin = openSshBinaries().ssh.replace(/ssh$/, 'sftp');
    const r = await runBin(sftpBin, ['-b', batch, '-F', '/dev/null', '-P', String(port), '-i', keyPath, '-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', TARGET]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readFileSync(remote).equals(data)).toBe(true);
    expect(readFileSync(back).equals(data)).toBe(true);
    expect(r.stdout.toString()).toContain(remote);
  });
});

describe('ssh -tt (pty)', () => {
  it('without a local terminal: a /dev/pts device of the size ssh sends (0x0, as sshd shows)', async () => {
    const r = await ssh(['-tt', TARGET, 'tty; stty size; echo "$TERM"; exit 3']);
    const lines = r.stdout.toString().split('\r\n');
    expect(lines[0]).toMatch(/^\/dev\/pts\/\d+$/);
    expect(lines[1]).toBe('0 0');
    expect(r.code).toBe(3);
  });

  it('inside a local terminal: the remote pty gets its size and TERM', async () => {
    const line = [openSshBinaries().ssh, ...sshArgs(), '-tt', TARGET, 'tty; stty size; echo "term=$TERM"'].map(shellQuote).join(' ');
    const r = await runBin('script', ['-qfec', `stty rows 33 cols 101; exec ${line}`, '/dev/null'], '', 60_000, { ...process.env, TERM: 'vt220' });
    const out = r.stdout.toString();
    expect(out).toMatch(/\/dev\/pts\/\d+\r\n33 101\r\nterm=vt220\r\n/);
    expect(r.code).toBe(0);
  });

  it('an interactive login shell (no command) on a pty, typed into and exited with a status', async () => {
    const line = [openSshBinaries().ssh, ...sshArgs(), '-tt', TARGET].map(shellQuote).join(' ');
    const r = await runBin('script', ['-qfec', `stty rows 30 cols 90; exec ${line}`, '/dev/null'], 'echo "shell=$0 size=$(stty size)"; exit 5\n');
    expect(r.stdout.toString()).toMatch(/shell=-\S+ size=30 90\r\n/);
    expect(r.code).toBe(5);
  });

  it('passes a resize of the local terminal on as window-change', async () => {
    const line = [openSshBinaries().ssh, ...sshArgs(), '-tt', TARGET, 'stty size; while read x; do stty size; done'].map(shellQuote).join(' ');
    const child = spawn('script', ['-qfec', `stty rows 24 cols 80; exec ${line}`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr.resume();
    const closed = new Promise((r) => child.once('close', r));
    try {
      await waitUntil('the first size', () => out.includes('24 80'));
      // ssh runs on script's pty: resize that terminal, which sends ssh SIGWINCH.
      const kids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/);
      const tty = readlinkSync(`/proc/${kids[0]}/fd/0`);
      expect(tty).toMatch(/^\/dev\/pts\/\d+$/);
      const resized = await run('stty', ['-F', tty, 'rows', '50', 'cols', '132']);
      expect(resized.code).toBe(0);
      await waitUntil('the new size', () => {
        child.stdin.write('\n');
        return out.includes('50 132');
      });
    } finally {
      child.kill('SIGTERM');
      await closed;
    }
  });
});

describe('ssh forwarding', () => {
  it('-L: a local port reaches a server-side TCP service', async () => {
    const lport = await freePort();
    const bg = sshBackground(['-L', `127.0.0.1:${lport}:127.0.0.1:${echoPort}`]);
    try {
      await waitUntil('the -L listener', () => canDial({ port: lport }));
      const data = randomBytes(1024 * 1024);
      const back = await roundTrip({ port: lport }, data);
      expect(sha256(back)).toBe(sha256(data));
    } finally {
      await bg.stop();
    }
  });

  it('-L to a closed port: ssh reports the failure from the server', async () => {
    const lport = await freePort();
    const closed = await freePort();
    const bg = sshBackground(['-L', `127.0.0.1:${lport}:127.0.0.1:${closed}`], 'INFO');
    try {
      await waitUntil('the -L listener', () => canDial({ port: lport }));
      // canDial's connection made ssh open a channel, which the server refused with the reason.
      await waitUntil('ssh to report the open failure', () => /channel \d+: open failed: connect failed: Connection refused/.test(bg.stderr()));
      // A local connection is closed by ssh without any data.
      const socket = await dial({ port: lport });
      const received = await new Promise<number>((resolve) => {
        let n = 0;
        socket.on('data', (c: Buffer) => (n += c.length));
        socket.on('error', () => {});
        socket.on('end', () => resolve(n));
        socket.on('close', () => resolve(n));
      });
      socket.destroy();
      expect(received).toBe(0);
    } finally {
      await bg.stop();
    }
  });

  it('-R 0: ssh learns the allocated port, and connections to it reach the client side', async () => {
    const bg = sshBackground(['-R', `0:127.0.0.1:${echoPort}`], 'INFO');
    try {
      await waitUntil('the allocated port', () => /Allocated port \d+ for remote forward/.test(bg.stderr()));
      const rport = Number(/Allocated port (\d+) for remote forward to 127\.0\.0\.1:(\d+)/.exec(bg.stderr())![1]);
      const data = randomBytes(512 * 1024);
      const back = await roundTrip({ port: rport }, data);
      expect(sha256(back)).toBe(sha256(data));
    } finally {
      await bg.stop();
    }
  });

  it('-R PORT: a fixed remote port, released when ssh disconnects', async () => {
    const rport = await freePort();
    const bg = sshBackground(['-R', `${rport}:127.0.0.1:${echoPort}`]);
    try {
      await waitUntil('the -R listener', () => canDial({ port: rport }));
      expect((await roundTrip({ port: rport }, Buffer.from('reverse'))).toString()).toBe('reverse');
    } finally {
      await bg.stop();
    }
    await waitUntil('the listener to close', async () => !(await canDial({ port: rport })));
  });

  it('-R on a port in use: ExitOnForwardFailure makes ssh exit with the error', async () => {
    const r = await ssh(['-N', '-o', 'ExitOnForwardFailure=yes', '-R', `127.0.0.1:${echoPort}:127.0.0.1:${echoPort}`, TARGET]);
    expect(r.code).toBe(255);
    expect(r.stderr).toContain(`remote port forwarding failed for listen port ${echoPort}`);
  });

  it('-L and -R with Unix sockets (direct-streamlocal, streamlocal-forward)', async () => {
    const remoteEchoPath = join(dir, 'remote-echo.sock');
    const unixEcho = createServer({ allowHalfOpen: true }, (s) => s.pipe(s));
    await new Promise<void>((resolve) => unixEcho.listen(remoteEchoPath, resolve));
    const localPath = join(dir, 'local.sock');
    const remotePath = join(dir, 'remote-listen.sock');
    const bg = sshBackground(['-L', `${localPath}:${remoteEchoPath}`, '-R', `${remotePath}:127.0.0.1:${echoPort}`]);
    try {
      await waitUntil('the -L socket', () => canDial({ path: localPath }));
      expect((await roundTrip({ path: localPath }, Buffer.from('via -L unix'))).toString()).toBe('via -L unix');
      await waitUntil('the -R socket', () => canDial({ path: remotePath }));
      expect((await roundTrip({ path: remotePath }, Buffer.from('via -R unix'))).toString()).toBe('via -R unix');
    } finally {
      await bg.stop();
      unixEcho.close();
    }
  });

  it('-W: stdin and stdout joined to a server-side TCP service', async () => {
    const data = randomBytes(2 * 1024 * 1024);
    const r = await ssh(['-W', `127.0.0.1:${echoPort}`, TARGET], data);
    expect(r.code).toBe(0);
    expect(sha256(r.stdout)).toBe(sha256(data));
  });

  it('-W to a closed port: ssh prints the server reason and fails', async () => {
    const closed = await freePort();
    const r = await runBin(openSshBinaries().ssh, [...sshArgs('INFO'), '-W', `127.0.0.1:${closed}`, TARGET]);
    expect(r.code).toBe(255);
    expect(r.stderr).toContain('channel 0: open failed: connect failed: Connection refused');
    expect(r.stderr).toContain('stdio forwarding failed');
  });
});
