/**
 * Pseudo-terminals for `hermit serve` sessions (RFC 4254 section 6.2 pty-req, 6.7 window-change,
 * section 8 terminal modes, RFC 4335 break) without a native module.
 *
 * Node cannot open a pty itself (no openpty/ioctl binding), so a small helper process owns the
 * pty and the command runs on its slave side. Two helpers, chosen in this order:
 *
 * 1. `python` — python3's standard `pty` module runs a ~100-line helper (below) that forks the
 *    command with the slave as its controlling terminal, sets the initial window size and the
 *    requested terminal modes with `ioctl`/`tcsetattr` *before* exec, and then copies bytes
 *    between its stdin/stdout (pipes to us) and the pty master with bounded buffers, so
 *    backpressure on either side stops reading on the other. A fourth descriptor carries control
 *    lines: `winch` (TIOCSWINSZ on the master; the kernel then sends SIGWINCH to the terminal's
 *    foreground process group, exactly as with a real terminal), `kill` (killpg of the command's
 *    session, as sshd does for `signal`), `break` (tcsendbreak on the master, as sshd does; Linux
 *    ptys accept and ignore it) and, back from the helper, the command's exact wait status
 *    (exit code, or signal number and the core-dumped flag).
 * 2. `script` — util-linux `script -qfec CMD /dev/null` (always present on Debian: bsdutils is
 *    essential) when there is no python3. The command line first runs `stty` inside the pty to set
 *    the size and the echo/icanon-style flags, then execs the real command. Resizes run
 *    `stty -F /dev/pts/N rows R cols C` against the slave, found through /proc (the command is
 *    script's child, its fd 0 is the slave); setting the size through the slave also raises
 *    SIGWINCH. Limits: a command killed by a signal is reported as exit status 128+N (script -e
 *    turns the signal into that status, so exit-signal cannot be sent), `break` is refused, only
 *    flag modes are applied (no control characters), a login shell is started with `-l` rather
 *    than a `-` in argv[0], and a resize or signal that arrives before the command has started
 *    goes to script itself.
 *
 * Common limits, both helpers: input EOF is ignored, as sshd does for pty sessions (the pty stays
 * open, so `cat` keeps reading; the client ends the session by closing the channel), and stdout
 * and stderr are one stream, as on any terminal. Sessions are not registered in utmp/wtmp.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, readFileSync, readlinkSync } from 'node:fs';
import type { Socket } from 'node:net';
import { constants as osConstants } from 'node:os';
import { delimiter, join } from 'node:path';
import { Writable, type Readable } from 'node:stream';
import type { TerminalModes } from '../../core/index.ts';

export type PtyBackend = 'python' | 'script';

export interface PtySize {
  readonly rows: number;
  readonly cols: number;
  readonly widthPx: number;
  readonly heightPx: number;
}

export interface PtySpawnOptions {
  /** Program to run (looked up on PATH when it has no slash). */
  readonly file: string;
  /** argv[0] and the arguments; argv[0] may differ from `file` (e.g. `-bash` for a login shell). */
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  readonly size: PtySize;
  readonly modes: TerminalModes;
  readonly backend: PtyBackend;
}

/** How the command ended, as a wait status says it. */
export interface PtyExit {
  readonly code: number | null;
  /** Signal name without `SIG` (`KILL`), when the command was killed. */
  readonly signal: string | null;
  readonly coreDumped: boolean;
}

export interface PtyProcess {
  readonly backend: PtyBackend;
  /** What the terminal shows (stdout and stderr of the command, with terminal processing). */
  readonly output: Readable;
  /** Keyboard input for the terminal. */
  readonly input: Writable;
  /** Settles when the helper is gone and all output has been read. */
  readonly exited: Promise<PtyExit>;
  resize(size: PtySize): void;
  /** Send a signal (name without `SIG`) to the command's process group. False if unknown. */
  signal(name: string): boolean;
  /** RFC 4335 break; false where the helper cannot send one. */
  sendBreak(): boolean;
  /** The session is over: hang up the terminal (SIGHUP to the command) and close our ends. */
  hangup(): void;
}

const PYTHON_CANDIDATES = ['/usr/bin/python3', '/usr/local/bin/python3'];

function executable(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): string | null {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir && executable(join(dir, name))) return join(dir, name);
  }
  return null;
}

let pythonPath: string | null | undefined;
let scriptPath: string | null | undefined;

/** The system python3: the distribution's binary first (a version-manager shim starts slowly). */
function findPython(): string | null {
  if (pythonPath === undefined) pythonPath = PYTHON_CANDIDATES.find(executable) ?? onPath('python3');
  return pythonPath;
}

function findScript(): string | null {
  if (scriptPath === undefined) scriptPath = ['/usr/bin/script', '/bin/script'].find(executable) ?? onPath('script');
  return scriptPath;
}

/** Which helper this machine can use, preferring python3 (exact exit signals, resize without /proc). */
export function detectPtyBackend(prefer?: PtyBackend): PtyBackend | null {
  const have = { python: findPython() !== null, script: findScript() !== null };
  if (prefer) return have[prefer] ? prefer : null;
  if (have.python) return 'python';
  if (have.script) return 'script';
  return null;
}

/** Signal number for a name without `SIG`, or null. */
export function signalNumber(name: string): number | null {
  const n = (osConstants.signals as Record<string, number | undefined>)[`SIG${name}`];
  return typeof n === 'number' ? n : null;
}

/** Signal name without `SIG` for a number (`9` → `KILL`). */
export function signalName(signo: number): string | null {
  for (const [name, n] of Object.entries(osConstants.signals)) if (n === signo) return name.replace(/^SIG/, '');
  return null;
}

function clampSize(size: PtySize): PtySize {
  const c = (v: number) => (Number.isInteger(v) && v >= 0 ? Math.min(v, 0xffff) : 0);
  return { rows: c(size.rows), cols: c(size.cols), widthPx: c(size.widthPx), heightPx: c(size.heightPx) };
}

export function spawnPty(options: PtySpawnOptions): PtyProcess {
  return options.backend === 'python' ? spawnPython(options) : spawnScript(options);
}

// ---------------------------------------------------------------- python helper

/*
 * Runs as `python3 -c HELPER CONFIG_JSON`; fd 0/1 are pipes to us, fd 2 is for the helper's own
 * failures, fd 3 is the control socket. Buffers are bounded (64 KiB each way): a full buffer
 * stops reading the side that fills it, so a stalled reader stalls the writer instead of growing
 * memory. Python ignores SIGPIPE itself, and an ignored signal survives exec, so the child
 * restores the default before exec; signals are blocked over the fork so that one sent before
 * the exec is not caught by Python in the child but delivered to the command.
 */
const PYTHON_HELPER = String.raw`
import errno, fcntl, json, os, pty, select, signal, struct, sys, termios
cfg = json.loads(sys.argv[1])
CTL = 3
LIMIT = 65536
IFLAGS = ('IGNPAR','PARMRK','INPCK','ISTRIP','INLCR','IGNCR','ICRNL','IUCLC','IXON','IXANY','IXOFF','IMAXBEL','IUTF8')
OFLAGS = ('OPOST','OLCUC','ONLCR','OCRNL','ONOCR','ONLRET')
CFLAGS = ('PARENB','PARODD')
LFLAGS = ('ISIG','ICANON','XCASE','ECHO','ECHOE','ECHOK','ECHONL','NOFLSH','TOSTOP','IEXTEN','ECHOCTL','ECHOKE','PENDIN')

def winsize(fd, s):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', s[0], s[1], s[2], s[3]))

def apply_modes(fd, modes):
    a = termios.tcgetattr(fd)
    for name, value in modes.items():
        bit = getattr(termios, name, None)
        if not isinstance(bit, int):
            continue
        if name in ('CS7', 'CS8'):
            if value:
                a[2] = (a[2] & ~termios.CSIZE) | bit
            continue
        if name.startswith('V'):
            if bit < len(a[6]) and name not in ('VMIN', 'VTIME'):
                a[6][bit] = bytes([0 if value == 255 else value & 0xff])
            continue
        idx = 0 if name in IFLAGS else 1 if name in OFLAGS else 2 if name in CFLAGS else 3 if name in LFLAGS else -1
        if idx >= 0:
            a[idx] = (a[idx] | bit) if value else (a[idx] & ~bit)
    termios.tcsetattr(fd, termios.TCSANOW, a)

wake_r, wake_w = os.pipe()
os.set_blocking(wake_r, False)
os.set_blocking(wake_w, False)
signal.set_wakeup_fd(wake_w)
signal.signal(signal.SIGCHLD, lambda *_: None)

# Signals stay blocked across the fork: one sent to the command before it has exec'd must hit
# it with the default action after exec, not Python's handler (which would swallow it).
saved_mask = signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
# The size and modes are set on the terminal before the command exists, so a window-change that
# arrives right after the start cannot be overwritten by the command's own set-up.
master, slave = os.openpty()
winsize(slave, cfg['size'])
try:
    apply_modes(slave, cfg['modes'])
except Exception:
    pass
tty_name = os.ttyname(slave)
pid = os.fork()
if pid == 0:
    try:
        for sig in (signal.SIGINT, signal.SIGPIPE, signal.SIGXFSZ, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, saved_mask)
        os.close(CTL)
        os.close(master)
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        if slave > 2:
            os.close(slave)
        os.environ['SSH_TTY'] = tty_name
        os.execvp(cfg['file'], cfg['argv'])
    except BaseException as e:
        os.write(2, ('hermit: cannot run %s: %s\r\n' % (cfg['file'], e)).encode())
    os._exit(127)
os.close(slave)
signal.pthread_sigmask(signal.SIG_SETMASK, saved_mask)

for fd in (0, 1, master, CTL):
    os.set_blocking(fd, False)
to_master = bytearray()
to_out = bytearray()
ctl_buf = b''
stdin_open = master_open = ctl_open = out_ok = True
status = None

def control(line):
    global master_open
    parts = line.split()
    if not parts:
        return
    try:
        if parts[0] == 'winch':
            if master_open:
                winsize(master, [int(x) for x in parts[1:5]])
            # Input written after a resize waits for this, so the command sees the new size first.
            os.write(CTL, b'winched\n')
        elif parts[0] == 'kill':
            try:
                os.killpg(pid, int(parts[1]))
            except ProcessLookupError:
                os.kill(pid, int(parts[1]))
        elif parts[0] == 'break' and master_open:
            termios.tcsendbreak(master, 0)
    except OSError:
        pass

def read_master():
    global master_open
    try:
        data = os.read(master, LIMIT)
    except BlockingIOError:
        return False
    except OSError:
        data = b''
    if not data:
        master_open = False
        return False
    to_out.extend(data)
    return True

def write_out():
    global out_ok
    try:
        n = os.write(1, to_out)
        del to_out[:n]
    except BlockingIOError:
        pass
    except OSError:
        out_ok = False
        to_out.clear()

while status is None:
    try:
        p, st = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        p, st = pid, 0
    if p == pid:
        status = st
        break
    rl = [wake_r]
    if ctl_open:
        rl.append(CTL)
    if stdin_open and len(to_master) < LIMIT:
        rl.append(0)
    if master_open and len(to_out) < LIMIT:
        rl.append(master)
    wl = []
    if to_master and master_open:
        wl.append(master)
    if to_out:
        wl.append(1)
    r, w, _ = select.select(rl, wl, [])
    if wake_r in r:
        try:
            while os.read(wake_r, 512):
                pass
        except OSError:
            pass
    if CTL in r:
        try:
            data = os.read(CTL, 4096)
        except BlockingIOError:
            data = None
        except OSError:
            data = b''
        if data == b'':
            ctl_open = False
            try:
                os.killpg(pid, signal.SIGHUP)
            except OSError:
                pass
        elif data:
            ctl_buf += data
            while b'\n' in ctl_buf:
                line, ctl_buf = ctl_buf.split(b'\n', 1)
                control(line.decode('ascii', 'replace'))
    if 0 in r:
        try:
            data = os.read(0, LIMIT)
        except BlockingIOError:
            data = None
        except OSError:
            data = b''
        if data == b'':
            stdin_open = False
        elif data:
            to_master.extend(data)
    if master in r:
        read_master()
    if master in w and master_open:
        try:
            n = os.write(master, to_master)
            del to_master[:n]
        except BlockingIOError:
            pass
        except OSError:
            to_master.clear()
    if 1 in w:
        write_out()

# The command is gone. Output it wrote may still be on its way through the pty, so read until
# the slave side is closed (EIO); but a background process that keeps the terminal open gets
# only a short grace period and a bounded amount, not the power to hold the session.
os.set_blocking(1, True)
drained = 0
while master_open and drained < (1 << 20):
    if not select.select([master], [], [], 0.1)[0]:
        break
    before = len(to_out)
    if not read_master():
        break
    drained += len(to_out) - before
    while to_out and out_ok:
        write_out()
while to_out and out_ok:
    write_out()
if os.WIFSIGNALED(status):
    report = 'signal %d %d\n' % (os.WTERMSIG(status), 1 if os.WCOREDUMP(status) else 0)
else:
    report = 'exit %d\n' % os.WEXITSTATUS(status)
try:
    os.set_blocking(CTL, True)
    os.write(CTL, report.encode())
except OSError:
    pass
os._exit(0)
`;

/** Collect the helper's exit; stdout/stderr 'close' (all output read) comes with the child's 'close'. */
function waitClose(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: 127, signal: null }));
  });
}

/**
 * Node reports a spawn that failed for want of descriptors (EMFILE, ENFILE) or processes (EAGAIN)
 * as a later 'error' event and leaves the pipes null: catch the event and refuse now, so that the
 * request fails instead of the server.
 */
export function requirePipes(child: ChildProcess, what: string): void {
  child.once('error', () => {});
  // On EMFILE/ENFILE Node gives up before it sets up stdio at all (child.stdio stays undefined).
  const stdio = child.stdio as ChildProcess['stdio'] | undefined;
  if (!stdio || stdio.some((s, i) => i < 3 && s == null)) throw new Error(`cannot start ${what}: its pipes could not be created (out of file descriptors or processes?)`);
}

function spawnPython(options: PtySpawnOptions): PtyProcess {
  const python = findPython();
  if (!python) throw new Error('python3 is not installed: no pty helper');
  const size = clampSize(options.size);
  const config = JSON.stringify({ file: options.file, argv: options.argv, size: [size.rows, size.cols, size.widthPx, size.heightPx], modes: options.modes });
  const child = spawn(python, ['-I', '-S', '-c', PYTHON_HELPER, config], {
    cwd: options.cwd,
    env: options.env,
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    // Its own session: the helper must not catch our terminal's signals (e.g. ^C in a foreground `hermit serve`).
    detached: true,
  });
  requirePipes(child, 'the pty helper');
  if (!child.stdio[3]) throw new Error('cannot start the pty helper: its control pipe could not be created');
  const control = child.stdio[3] as unknown as Socket;
  let report = '';
  // Keyboard input that follows a window-change waits until the helper applied it (the two travel
  // on different descriptors, and sshd applies a resize before any later input).
  let unappliedResizes = 0;
  const held: Array<{ chunk: Buffer; done: (error?: Error | null) => void }> = [];
  const stdin = child.stdin!;
  const release = (): void => {
    while (unappliedResizes === 0 && held.length > 0) {
      const { chunk, done } = held.shift()!;
      stdin.write(chunk, done);
    }
  };
  control.setEncoding('utf8');
  control.on('data', (s: string) => {
    report += s;
    const applied = s.split('winched\n').length - 1;
    if (applied > 0) {
      unappliedResizes = Math.max(0, unappliedResizes - applied);
      release();
    }
  });
  control.on('error', () => {});
  control.on('close', () => {
    unappliedResizes = 0;
    release();
  });
  stdin.on('error', () => {});
  const input = new Writable({
    highWaterMark: stdin.writableHighWaterMark,
    write(chunk: Buffer, _encoding, done) {
      if (unappliedResizes > 0) held.push({ chunk, done });
      else stdin.write(chunk, done);
    },
    final(done) {
      stdin.end(done);
    },
    destroy(error, done) {
      stdin.destroy();
      done(error);
    },
  });
  input.on('error', () => {});
  stdin.on('close', () => input.destroy());
  // Helper failures (python missing modules, bad config) are for the operator, not the session.
  let helperErrors = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (helperErrors = (helperErrors + s).slice(-4096)));
  const send = (line: string): boolean => {
    if (!control.writable) return false;
    control.write(line + '\n');
    return true;
  };
  const exited = waitClose(child).then(({ code, signal }): PtyExit => {
    const m = /^(exit|signal) (\d+)(?: (\d))?$/m.exec(report);
    if (m?.[1] === 'exit') return { code: Number(m[2]), signal: null, coreDumped: false };
    if (m?.[1] === 'signal') return { code: null, signal: signalName(Number(m[2])) ?? `SIG${m[2]}`, coreDumped: m[3] === '1' };
    // No report: the helper itself failed or was killed; say what we know.
    if (signal) return { code: null, signal: signal.replace(/^SIG/, ''), coreDumped: false };
    return { code: code ?? 255, signal: null, coreDumped: false };
  });
  return {
    backend: 'python',
    output: child.stdout!,
    input,
    exited,
    resize: (s) => {
      const c = clampSize(s);
      if (send(`winch ${c.rows} ${c.cols} ${c.widthPx} ${c.heightPx}`)) unappliedResizes++;
    },
    signal: (name) => {
      const n = signalNumber(name);
      return n !== null && send(`kill ${n}`);
    },
    sendBreak: () => send('break'),
    hangup: () => {
      send(`kill ${osConstants.signals.SIGHUP}`);
      // Closing the control socket makes the helper hang up as well, should the line not arrive.
      control.end();
      child.stdin!.destroy();
    },
  };
}

// ---------------------------------------------------------------- script(1) fallback

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** stty arguments for the flag modes it knows (lowercase names, `-` to clear). */
const STTY_FLAGS = [
  'IGNPAR', 'PARMRK', 'INPCK', 'ISTRIP', 'INLCR', 'IGNCR', 'ICRNL', 'IUCLC', 'IXON', 'IXANY', 'IXOFF', 'IMAXBEL', 'IUTF8',
  'ISIG', 'ICANON', 'XCASE', 'ECHO', 'ECHOE', 'ECHOK', 'ECHONL', 'NOFLSH', 'TOSTOP', 'IEXTEN', 'ECHOCTL', 'ECHOKE', 'PENDIN',
  'OPOST', 'OLCUC', 'ONLCR', 'OCRNL', 'ONOCR', 'ONLRET', 'PARENB', 'PARODD',
] as const;

function sttyModeArgs(modes: TerminalModes): string[] {
  const out: string[] = [];
  for (const name of STTY_FLAGS) {
    const v = modes[name];
    if (v !== undefined) out.push(v ? name.toLowerCase() : `-${name.toLowerCase()}`);
  }
  if (modes.CS8) out.push('cs8');
  else if (modes.CS7) out.push('cs7');
  return out;
}

/** The process script started (the session leader on the pty slave), found through /proc. */
function scriptChild(scriptPid: number): number | null {
  try {
    const first = readFileSync(`/proc/${scriptPid}/task/${scriptPid}/children`, 'utf8').trim().split(/\s+/)[0];
    return first ? Number(first) : null;
  } catch {
    return null;
  }
}

function spawnScript(options: PtySpawnOptions): PtyProcess {
  const script = findScript();
  if (!script) throw new Error('script(1) is not installed: no pty helper');
  const size = clampSize(options.size);
  const [argv0, ...args] = options.argv;
  // sh's exec cannot set argv[0]; a "-shell" argv[0] (login shell) becomes the -l flag.
  const login = argv0 !== undefined && argv0.startsWith('-');
  const words = [options.file, ...(login ? ['-l'] : []), ...args].map(shellQuote).join(' ');
  const stty = ['stty', 'rows', String(size.rows), 'cols', String(size.cols), ...sttyModeArgs(options.modes)].join(' ');
  const realShell = options.env['SHELL'];
  const restoreShell = realShell !== undefined ? `SHELL=${shellQuote(realShell)}; export SHELL; ` : 'unset SHELL; ';
  const line = `${stty} 2>/dev/null; SSH_TTY=$(tty); export SSH_TTY; ${restoreShell}exec ${words}`;
  // script runs its -c string with $SHELL; /bin/sh makes the wrapper above portable.
  const child = spawn(script, ['-qfec', line, '/dev/null'], { cwd: options.cwd, env: { ...options.env, SHELL: '/bin/sh' }, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  requirePipes(child, 'script (the pty helper)');
  child.stdin!.on('error', () => {});
  child.stderr!.resume();
  const exited = waitClose(child).then(({ code, signal }): PtyExit =>
    signal ? { code: null, signal: signal.replace(/^SIG/, ''), coreDumped: false } : { code: code ?? 255, signal: null, coreDumped: false },
  );
  let ended = false;
  void exited.then(() => (ended = true));
  const target = (): number | null => {
    if (child.pid === undefined || ended) return null;
    return scriptChild(child.pid) ?? child.pid;
  };
  return {
    backend: 'script',
    output: child.stdout!,
    input: child.stdin!,
    exited,
    resize: (s) => {
      const pid = target();
      if (pid === null) return;
      let tty: string;
      try {
        tty = readlinkSync(`/proc/${pid}/fd/0`);
      } catch {
        return;
      }
      if (!tty.startsWith('/dev/pts/')) return;
      const c = clampSize(s);
      const p = spawn('stty', ['-F', tty, 'rows', String(c.rows), 'cols', String(c.cols)], { stdio: 'ignore' });
      p.on('error', () => {});
    },
    signal: (name) => {
      const pid = target();
      const n = signalNumber(name);
      if (pid === null || n === null) return false;
      try {
        process.kill(-pid, n);
      } catch {
        try {
          process.kill(pid, n);
        } catch {
          return false;
        }
      }
      return true;
    },
    sendBreak: () => false,
    hangup: () => {
      const pid = target();
      if (pid !== null) {
        try {
          process.kill(-pid, 'SIGHUP');
        } catch {
          /* already gone */
        }
      }
      child.stdin!.destroy();
    },
  };
}
