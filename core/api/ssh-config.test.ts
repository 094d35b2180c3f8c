/**
 * resolveSshConfig against OpenSSH: every fixture in fixtures/ssh-config/ is resolved by us and by
 * `ssh -G` (run live; it prints the configuration and does not connect), and every option we model
 * must come out equal. Then unit tests for errors, Include depth, negation, Match exec, expansion.
 *
 * How the fixtures reach ssh: the directory is copied to a temporary one with `@FIXTURES@` replaced
 * by that directory, so absolute Includes point at the copy. Relative Includes are looked up by ssh
 * in `~/.ssh`, which glob(3) spells with `$HOME` — the test runs ssh with HOME=<copy>/home and gives
 * our resolver a `files` reader that maps `<homeDir>/.ssh/…` to the same place. Everything else
 * (tilde expansion of IdentityFile & co., the default known_hosts) uses the real home directory on
 * both sides, as ssh takes it from the password database.
 *
 * Normalisations, each because of how ssh -G prints, not because we differ:
 * - IdentityFile/CertificateFile: ssh -G 9.2 prints them unexpanded (it expands them only when loading
 *   keys), so the test has ssh expand them: it passes the printed strings back as
 *   `-o UserKnownHostsFile=…`, which ssh expands with the same tilde + `%` + `${}` rules, and reads
 *   the expanded `userknownhostsfile` line.
 * - yes/no: ssh prints StrictHostKeyChecking yes/no as true/false.
 * - DynamicForward: ssh -G also prints a LocalForward whose target is a Unix socket as a
 *   `dynamicforward` line (its dump only looks at the connect host), so the expected dynamic lines
 *   include those; they are compared as a set because our lists keep local and dynamic apart.
 * - Algorithm lists: ssh prints the list after applying `+ - ^` to its own defaults. Our cipher
 *   defaults equal OpenSSH's (asserted below), so a modified Ciphers is compared by applying it with
 *   core's applyAlgorithmOption to our defaults. For MACs, KexAlgorithms, HostKeyAlgorithms and
 *   PubkeyAcceptedAlgorithms our defaults differ from OpenSSH's (no umac, sk-* or sntrup), so a
 *   modified list is compared by applying it with applyAlgorithmOption to the default list ssh
 *   prints for an empty configuration; unmodified lists are compared as they are.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { applyAlgorithmOption, defaultAlgorithms } from '../index.ts';
import {
  resolveSshConfig,
  SshConfigError,
  type ResolvedSshConfig,
  type ResolveSshConfigInput,
  type SshConfigFiles,
  type SshConfigForward,
} from './ssh-config.ts';

const SSH = '/usr/bin/ssh';
const fixtureDir = join(import.meta.dirname, '..', '..', 'fixtures', 'ssh-config');
const me = userInfo();
const uid = process.getuid?.() ?? 0;
const work = mkdtempSync(join(tmpdir(), 'hermit-ssh-config-'));
const fakeHome = join(work, 'home');
const env: Record<string, string | undefined> = { ...process.env, HOME: fakeHome, HERMIT_FWD_DIR: '/tmp/hermit-fwd', HERMIT_KEY_DIR: '/opt/hermit-keys' };

/** Copy the fixtures with @FIXTURES@ replaced by the copy's path. */
function copyFixtures(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) {
    const src = join(from, name);
    const dst = join(to, name);
    if (statSync(src).isDirectory()) copyFixtures(src, dst);
    else writeFileSync(dst, readFileSync(src, 'utf8').replaceAll('@FIXTURES@', work));
  }
}
copyFixtures(fixtureDir, work);
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Our window on the copy, with `~/.ssh` where ssh's glob finds it ($HOME). */
function realPath(path: string): string {
  const home = `${me.homedir.replace(/\/$/, '')}/.ssh/`;
  return path.startsWith(home) ? join(fakeHome, '.ssh', path.slice(home.length)) : path;
}
const files: SshConfigFiles = {
  read(path) {
    const p = realPath(path);
    return existsSync(p) && statSync(p).isFile() ? readFileSync(p, 'utf8') : undefined;
  },
  list(dir) {
    const p = realPath(dir);
    return existsSync(p) && statSync(p).isDirectory() ? readdirSync(p) : undefined;
  },
};

type SshOutput = Map<string, string[]>;

function runSsh(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(SSH, ['-G', ...args], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function sshG(args: readonly string[]): SshOutput {
  const r = runSsh(args);
  if (r.status !== 0) throw new Error(`ssh -G ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  const out: SshOutput = new Map();
  for (const line of r.stdout.split('\n')) {
    if (line === '') continue;
    const sp = line.indexOf(' ');
    const k = line.slice(0, sp);
    const list = out.get(k) ?? [];
    list.push(line.slice(sp + 1));
    out.set(k, list);
  }
  return out;
}

/** A case line's arguments: whitespace-separated, double quotes group. */
function splitArgs(s: string): string[] {
  return [...s.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

interface Case {
  file: string;
  args: string[];
  error: boolean;
}

function casesOf(name: string): Case[] {
  const text = readFileSync(join(work, name), 'utf8');
  const out: Case[] = [];
  for (const m of text.matchAll(/^# (case|error): (.*?)\r?$/gm)) out.push({ file: join(work, name), args: splitArgs(m[2]!), error: m[1] === 'error' });
  return out;
}

/** Our input for an ssh command line (`-l`, `-p`, `-o K=V`, host). */
function inputFor(c: Case): ResolveSshConfigInput {
  let user: string | undefined;
  let port: number | undefined;
  const options: Record<string, string[]> = {};
  let host = '';
  for (let i = 0; i < c.args.length; i++) {
    const a = c.args[i]!;
    if (a === '-l') user ??= c.args[++i]!;
    else if (a === '-p') port ??= Number(c.args[++i]!);
    else if (a === '-o') {
      const o = c.args[++i]!;
      const eq = o.indexOf('=');
      (options[o.slice(0, eq)] ??= []).push(o.slice(eq + 1));
    } else host = a;
  }
  return {
    host,
    user,
    port,
    options,
    localUser: me.username,
    homeDir: me.homedir,
    uid,
    localHostname: hostname(),
    env,
    files,
    exec: (command) => spawnSync('/bin/sh', ['-c', command], { env, stdio: 'ignore' }).status === 0,
    path: c.file,
    text: readFileSync(c.file, 'utf8'),
  };
}

/** ssh's own expansion of IdentityFile-like strings (see the header). */
function sshExpandPaths(c: Case, raws: readonly string[]): string[] {
  const quote = (s: string): string => `"${s.replace(/[\\"]/g, '\\$&')}"`;
  const once = (list: readonly string[]): string => sshG(['-F', c.file, '-o', `UserKnownHostsFile=${list.map(quote).join(' ')}`, ...c.args]).get('userknownhostsfile')![0]!;
  if (raws.length === 0) return [];
  if (raws.some((r) => r.includes(' '))) return raws.map((r) => once([r]));
  return once(raws).split(' ');
}

function listen(f: SshConfigForward): string {
  return f.listenPath ?? (f.listenHost === undefined ? String(f.listenPort) : `[${f.listenHost}]:${f.listenPort}`);
}
function connect(f: SshConfigForward): string {
  if (f.dynamic) return '[socks]:0';
  return f.connectPath ?? (f.connectHost === undefined ? String(f.connectPort) : `[${f.connectHost}]:${f.connectPort}`);
}

const yesNo = (b: boolean): string => (b ? 'yes' : 'no');
const ALGORITHMS = [
  ['ciphers', 'ciphers', 'cipher'],
  ['macs', 'macs', 'mac'],
  ['kexAlgorithms', 'kexalgorithms', 'kex'],
  ['hostKeyAlgorithms', 'hostkeyalgorithms', 'hostKey'],
  ['pubkeyAcceptedAlgorithms', 'pubkeyacceptedalgorithms', 'hostKey'],
] as const;

/** The options we model, as ssh -G would print them (apart from the normalisations in the header). */
function compare(c: Case, ours: ResolvedSshConfig, theirs: SshOutput, base: SshOutput): void {
  const one = (k: string): string | undefined => theirs.get(k)?.[0];
  const all = (k: string): string[] => theirs.get(k) ?? [];
  expect(ours.host, 'host').toBe(one('host'));
  expect(ours.hostname, 'hostname').toBe(one('hostname'));
  expect(String(ours.port), 'port').toBe(one('port'));
  expect(ours.user, 'user').toBe(one('user'));

  const sshIds = all('identityfile').filter((p) => p.toLowerCase() !== 'none');
  expect(ours.identityFile, 'identityfile').toEqual(sshExpandPaths(c, sshIds));
  expect(ours.certificateFile, 'certificatefile').toEqual(sshExpandPaths(c, all('certificatefile')));
  expect(yesNo(ours.identitiesOnly), 'identitiesonly').toBe(one('identitiesonly'));
  expect(ours.identityAgent, 'identityagent').toBe(one('identityagent'));
  expect(ours.forwardAgentSocket ?? yesNo(ours.forwardAgent), 'forwardagent').toBe(one('forwardagent'));
  expect(ours.proxyJump, 'proxyjump').toBe(one('proxyjump'));
  expect(ours.proxyCommand, 'proxycommand').toBe(one('proxycommand'));
  expect(ours.hostKeyAlias, 'hostkeyalias').toBe(one('hostkeyalias'));
  expect(ours.userKnownHostsFile.length === 0 ? 'none' : ours.userKnownHostsFile.join(' '), 'userknownhostsfile').toBe(one('userknownhostsfile'));
  expect(ours.globalKnownHostsFile.length === 0 ? 'none' : ours.globalKnownHostsFile.join(' '), 'globalknownhostsfile').toBe(one('globalknownhostsfile'));
  const strict = { true: 'yes', false: 'no' }[one('stricthostkeychecking')!] ?? one('stricthostkeychecking');
  expect(ours.strictHostKeyChecking, 'stricthostkeychecking').toBe(strict);
  // Debian's ssh (not upstream) defaults ServerAliveInterval to 300 under BatchMode; we follow
  // upstream, so with BatchMode on the expected value is what ssh prints once BatchMode is off.
  const alive = one('batchmode') === 'yes' ? sshG(['-F', c.file, '-o', 'BatchMode=no', ...c.args]).get('serveraliveinterval')![0] : one('serveraliveinterval');
  expect(String(ours.serverAliveInterval), 'serveraliveinterval').toBe(alive);
  expect(String(ours.serverAliveCountMax), 'serveralivecountmax').toBe(one('serveralivecountmax'));
  expect(ours.connectTimeout === undefined ? 'none' : String(ours.connectTimeout), 'connecttimeout').toBe(one('connecttimeout'));
  expect(ours.preferredAuthentications?.join(','), 'preferredauthentications').toBe(one('preferredauthentications'));
  expect(yesNo(ours.batchMode), 'batchmode').toBe(one('batchmode'));
  expect(yesNo(ours.passwordAuthentication), 'passwordauthentication').toBe(one('passwordauthentication'));
  expect(yesNo(ours.kbdInteractiveAuthentication), 'kbdinteractiveauthentication').toBe(one('kbdinteractiveauthentication'));
  expect(yesNo(ours.compression), 'compression').toBe(one('compression'));
  expect(String(ours.connectionAttempts), 'connectionattempts').toBe(one('connectionattempts'));
  expect(yesNo(ours.exitOnForwardFailure), 'exitonforwardfailure').toBe(one('exitonforwardfailure'));
  expect(yesNo(ours.clearAllForwardings), 'clearallforwardings').toBe(one('clearallforwardings'));

  expect(ours.localForward.map((f) => `${listen(f)} ${connect(f)}`), 'localforward').toEqual(all('localforward'));
  expect(ours.remoteForward.map((f) => `${listen(f)} ${connect(f)}`), 'remoteforward').toEqual(all('remoteforward'));
  const dynamicLines = [...ours.dynamicForward.map((f) => listen(f)), ...ours.localForward.filter((f) => f.connectPath !== undefined).map(listen)];
  expect(dynamicLines.sort(), 'dynamicforward').toEqual([...all('dynamicforward')].sort());

  for (const [field, keyword, kind] of ALGORITHMS) {
    const value = ours[field];
    const printed = one(keyword);
    const sshDefault = base.get(keyword)![0]!;
    if (value === undefined) expect(printed, keyword).toBe(sshDefault);
    else if (!'+-^'.includes(value[0]!)) expect(printed, keyword).toBe(value);
    else if (field === 'ciphers') expect(applyAlgorithmOption(kind, value).join(','), keyword).toBe(printed);
    else expect(applyAlgorithmOption(kind, value, sshDefault.split(',')).join(','), keyword).toBe(printed);
  }
}

const SUPPORTED_KEYWORDS = [
  'user', 'hostname', 'port', 'identityfile', 'certificatefile', 'identitiesonly', 'identityagent', 'forwardagent', 'proxyjump',
  'proxycommand', 'hostkeyalias', 'userknownhostsfile', 'globalknownhostsfile', 'stricthostkeychecking', 'ciphers', 'macs',
  'kexalgorithms', 'hostkeyalgorithms', 'pubkeyacceptedalgorithms', 'serveraliveinterval', 'serveralivecountmax', 'connecttimeout',
  'localforward', 'remoteforward', 'dynamicforward', 'preferredauthentications', 'batchmode', 'passwordauthentication',
  'kbdinteractiveauthentication', 'compression', 'connectionattempts', 'exitonforwardfailure', 'clearallforwardings',
];

const fixtureFiles = readdirSync(fixtureDir).filter((n) => n.endsWith('.conf')).sort();

describe('resolveSshConfig matches ssh -G (OpenSSH on this machine)', () => {
  it('finds ssh and at least 22 fixtures, each with cases', () => {
    expect(runSsh(['-V', '-F', '/dev/null', 'h']).stderr).toMatch(/OpenSSH_/);
    expect(fixtureFiles.length).toBeGreaterThanOrEqual(22);
    for (const f of fixtureFiles) expect(casesOf(f).length, f).toBeGreaterThan(0);
  });

  it("our default cipher list is OpenSSH's (so modified Ciphers lists can be compared through applyAlgorithmOption)", () => {
    expect(sshG(['-F', '/dev/null', 'h']).get('ciphers')![0]).toBe(defaultAlgorithms.cipher.join(','));
  });

  for (const name of fixtureFiles) {
    describe(name, () => {
      for (const c of casesOf(name)) {
        const label = c.args.join(' ');
        if (c.error) {
          it(`refuses it like ssh: ${label}`, () => {
            const r = runSsh(['-F', c.file, ...c.args]);
            expect(r.status).toBe(255);
            const sshLines = [...new Set([...r.stderr.matchAll(/^(\S+?):? line (\d+):/gm)].map((m) => `${m[1]}:${m[2]}`))];
            let err: unknown;
            try {
              resolveSshConfig(inputFor(c));
            } catch (e) {
              err = e;
            }
            expect(err).toBeInstanceOf(SshConfigError);
            const e = err as SshConfigError;
            expect([...new Set(e.problems.map((p) => `${p.file}:${p.line}`))]).toEqual(sshLines);
            expect(e.message).toContain(`${e.file} line ${e.line}: `);
          });
        } else {
          it(`resolves like ssh: ${label}`, () => {
            const theirs = sshG(['-F', c.file, ...c.args]);
            const base = sshG(['-F', '/dev/null', ...c.args]);
            // The case must exercise the file: some modelled option differs from an empty configuration.
            expect(SUPPORTED_KEYWORDS.some((k) => JSON.stringify(theirs.get(k)) !== JSON.stringify(base.get(k))), 'case changes nothing').toBe(true);
            compare(c, resolveSshConfig(inputFor(c)), theirs, base);
          });
        }
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Unit tests: no ssh, values written out.

const base: ResolveSshConfigInput = { host: 'h', localUser: 'me', homeDir: '/home/me', text: '', path: '/cfg' };
function resolve(text: string, more: Partial<ResolveSshConfigInput> = {}): ResolvedSshConfig {
  return resolveSshConfig({ ...base, text, ...more });
}
function failure(text: string, more: Partial<ResolveSshConfigInput> = {}): SshConfigError {
  try {
    resolve(text, more);
  } catch (e) {
    if (e instanceof SshConfigError) return e;
    throw e;
  }
  throw new Error('expected an SshConfigError');
}
function memoryFiles(map: Record<string, string>): SshConfigFiles {
  return {
    read: (p) => map[p],
    list: (dir) => {
      const prefix = dir.endsWith('/') ? dir : `${dir}/`;
      const names = Object.keys(map).filter((p) => p.startsWith(prefix)).map((p) => p.slice(prefix.length).split('/')[0]!);
      return names.length ? [...new Set(names)] : undefined;
    },
  };
}

describe('resolveSshConfig: defaults and values', () => {
  it('fills ssh defaults for an empty file', () => {
    const r = resolve('');
    expect(r).toMatchObject({
      hostname: 'h', port: 22, user: 'me', identitiesOnly: false, batchMode: false, forwardAgent: false, strictHostKeyChecking: 'ask',
      serverAliveInterval: 0, serverAliveCountMax: 3, connectTimeout: undefined, identityFileDefaulted: true,
      userKnownHostsFile: ['/home/me/.ssh/known_hosts', '/home/me/.ssh/known_hosts2'],
    });
    expect(r.identityFile[0]).toBe('/home/me/.ssh/id_rsa');
    expect(r.identityFile).toHaveLength(7);
  });

  it('keeps algorithm modifier text as written and unmodelled keywords raw', () => {
    const r = resolve('Ciphers +aes128-ctr\nMACs -hmac-sha1\nControlPath ~/.ssh/%C\nSendEnv A B\nSendEnv C\nKeepAlive no\n');
    expect(r.ciphers).toBe('+aes128-ctr');
    expect(r.macs).toBe('-hmac-sha1');
    expect(r.other).toEqual({ controlpath: ['~/.ssh/%C'], sendenv: ['A B', 'C'], tcpkeepalive: ['no'] });
  });

  it('expands %C as SHA-1 over %l%h%p%r and refuses tokens it cannot know', () => {
    const r = resolve('IdentityFile /k/%C\n', { localHostname: 'box.local', user: 'u', port: 2200 });
    // sha1("box.local" + "h" + "2200" + "u"), computed independently with node:crypto.
    expect(r.identityFile).toEqual([`/k/${createHash('sha1').update('box.localh2200u').digest('hex')}`]);
    const e = failure('Host *\n  IdentityFile /k/%l\n');
    expect(e.reason).toBe('expansion');
    expect([e.file, e.line]).toEqual(['/cfg', 2]);
    expect(failure('IdentityFile /k/%Z\n').message).toMatch(/unknown key %Z/);
    expect(failure('HostName %h-%p\n').message).toMatch(/unknown key %p/);
  });

  it('expands ${VAR} from input.env only', () => {
    expect(resolve('IdentityFile ${KEYS}/id\n', { env: { KEYS: '/vault' } }).identityFile).toEqual(['/vault/id']);
    expect(failure('IdentityFile ${KEYS}/id\n').reason).toBe('expansion');
    expect(failure('IdentityFile ${KEYS}/id\n', { env: {} }).message).toMatch(/KEYS/);
  });

  it('lets input.user and input.port override User and Port, and -o options come first', () => {
    const text = 'User file\nPort 1000\nIdentityFile /k/file\n';
    expect(resolve(text, { user: 'cli', port: 2000 })).toMatchObject({ user: 'cli', port: 2000 });
    const r = resolve(text, { options: { User: 'opt', IdentityFile: ['/k/a', '/k/b'] } });
    expect(r.user).toBe('opt');
    expect(r.identityFile).toEqual(['/k/a', '/k/b', '/k/file']);
    expect(failure('', { options: { Host: 'x' } }).file).toBe('command-line');
    expect(failure('', { port: 0 }).reason).toBe('usage');
  });
});

describe('resolveSshConfig: errors carry file and line', () => {
  it('an unknown keyword is "Bad configuration option" at its line', () => {
    const e = failure('Port 22\n\n  Frobnicate yes\n');
    expect(e).toBeInstanceOf(SshConfigError);
    expect(e.code).toBe('SSH_CONFIG_INVALID');
    expect(e.reason).toBe('bad-option');
    expect([e.file, e.line]).toEqual(['/cfg', 3]);
    expect(e.message).toBe('/cfg line 3: Bad configuration option: frobnicate');
  });

  it('names that are Object properties are not keywords', () => {
    expect(failure('constructor 1\n').reason).toBe('bad-option');
    expect(failure('toString x\n').line).toBe(1);
  });

  it('every bad line of a file is listed, as ssh counts them', () => {
    const e = failure('Port x\nBatchMode maybe\nUser\nPort 1 2\nLocalForward 80\nServerAliveInterval 5q\n');
    expect(e.problems.map((p) => [p.line, p.message])).toEqual([
      [1, "Bad port 'x'."],
      [2, 'unsupported option "maybe".'],
      [3, 'no argument after keyword "user"'],
      [4, 'keyword port extra arguments at end of line'],
      [5, 'Missing target argument.'],
      [6, 'invalid time value.'],
    ]);
    expect(e.message).toMatch(/^\/cfg line 1: Bad port 'x'\. \(and 5 more bad lines\)$/);
  });

  it('unbalanced quotes, bad Match lines', () => {
    expect(failure('IdentityFile "/x\n').message).toMatch(/invalid quotes/);
    expect(failure('Match\n').message).toMatch(/no argument after keyword "match"/);
    expect(failure('Match host\n').message).toMatch(/Missing Match criteria for host/);
    expect(failure('Match bogus x\n').message).toMatch(/Unsupported Match attribute bogus/);
    // "all" may follow one criterion (ssh counts attributes before it), not two.
    expect(resolve('Match user me all\n  Port 1\n').port).toBe(1);
    expect(resolve('Match user other all\n  Port 1\n').port).toBe(22);
    expect(failure('Match host h user me all\n').message).toMatch(/'all' cannot be combined with other Match attributes/);
  });

  it('unknown keywords: IgnoreUnknown and the collect mode list them instead', () => {
    const r = resolve('IgnoreUnknown Use*\nUseKeychain yes\n');
    expect(r.unknown).toEqual([{ file: '/cfg', line: 2, keyword: 'usekeychain', ignored: true }]);
    // IgnoreUnknown only covers what comes after it, as in ssh.
    expect(failure('UseKeychain yes\nIgnoreUnknown UseKeychain\n').line).toBe(1);
    const c = resolve('Frob 1\nPort 5\n', { unknownKeywords: 'collect' });
    expect(c.port).toBe(5);
    expect(c.unknown).toEqual([{ file: '/cfg', line: 1, keyword: 'frob', ignored: false }]);
  });

  it('deprecated and unsupported keywords are warnings', () => {
    const r = resolve('UseRoaming no\nRSAAuthentication yes\nProtocol 2\n');
    expect(r.warnings.map((w) => [w.line, w.message])).toEqual([
      [1, 'Deprecated option "useroaming"'],
      [2, 'Unsupported option "rsaauthentication"'],
    ]);
  });
});

describe('resolveSshConfig: negation', () => {
  it('a matching !pattern disables a Host block wherever it stands', () => {
    expect(resolve('Host * !h\n  Port 1\n').port).toBe(22);
    expect(resolve('Host !h *\n  Port 1\n').port).toBe(22);
    expect(resolve('Host !x *\n  Port 1\n').port).toBe(1);
    // A negated pattern alone never makes a block apply.
    expect(resolve('Host !x\n  Port 1\n').port).toBe(22);
  });

  it('Host patterns are case-sensitive, Match host is not', () => {
    expect(resolve('Host H\n  Port 1\n').port).toBe(22);
    expect(resolve('Match host H\n  Port 1\n').port).toBe(1);
  });

  it('negated Match criteria and negated entries in a pattern list', () => {
    expect(resolve('Match !host h\n  Port 1\n').port).toBe(22);
    expect(resolve('Match !host x\n  Port 1\n').port).toBe(1);
    expect(resolve('Match user "m*,!me"\n  Port 1\n').port).toBe(22);
    expect(resolve('Match user "m*,!mo"\n  Port 1\n').port).toBe(1);
    expect(resolve('Match !all\n  Port 1\n').port).toBe(22);
    expect(resolve('Match !localuser me\n  Port 1\nMatch localuser me\n  Port 2\n').port).toBe(2);
  });
});

describe('resolveSshConfig: Match exec and final', () => {
  it('Match exec runs through input.exec with tokens expanded', () => {
    const seen: string[] = [];
    const r = resolve('Match exec "test %h = %r@%p"\n  Port 9\n', { user: 'u', exec: (cmd) => (seen.push(cmd), true) });
    expect(seen).toEqual(['test h = u@22']);
    expect(r.port).toBe(9);
    expect(resolve('Match exec false\n  Port 9\n', { exec: () => false }).port).toBe(22);
  });

  it('Match exec without input.exec is a typed error, unless an earlier criterion already failed', () => {
    const e = failure('Port 5\nMatch exec "true"\n  User x\n');
    expect([e.reason, e.line]).toEqual(['match-exec', 2]);
    expect(resolve('Match host other exec "true"\n  Port 9\n').port).toBe(22);
  });

  it('Match final reads the file again with the final host name', () => {
    const text = 'Host a\n  HostName B.example\nHost b.example\n  User second\nMatch final\n  Port 3\nMatch canonical\n  IdentityFile /k/c\n';
    const r = resolve(text, { host: 'a' });
    expect(r).toMatchObject({ hostname: 'b.example', user: 'second', port: 3, identityFile: ['/k/c'] });
    expect(r.files).toEqual(['/cfg', '/cfg']);
    // Without "Match final" there is one pass and canonical is false.
    expect(resolve('Host a\n  HostName b\nHost b\n  User second\nMatch canonical\n  Port 3\n', { host: 'a' })).toMatchObject({ user: 'me', port: 22 });
  });
});

describe('resolveSshConfig: Include', () => {
  it('needs input.files', () => {
    expect(failure('Include x\n').reason).toBe('include-unavailable');
  });

  it('relative to ~/.ssh, globbed in sorted order without dot files, conditional inside Host', () => {
    const f = memoryFiles({
      '/home/me/.ssh/conf.d/b.conf': 'IdentityFile /k/b\n',
      '/home/me/.ssh/conf.d/a.conf': 'IdentityFile /k/a\nHost nomatch\n',
      '/home/me/.ssh/conf.d/.c.conf': 'IdentityFile /k/hidden\n',
      '/etc/x.conf': 'IdentityFile /k/x\n',
    });
    const r = resolve('Include conf.d/*.conf\nIdentityFile /k/main\nHost other\n  Include /etc/x.conf\n', { files: f });
    // a.conf's "Host nomatch" does not leak into b.conf or the main file.
    expect(r.identityFile).toEqual(['/k/a', '/k/b', '/k/main']);
    expect(r.files).toEqual(['/cfg', '/home/me/.ssh/conf.d/a.conf', '/home/me/.ssh/conf.d/b.conf', '/etc/x.conf']);
    const sys = resolve('Include x.conf\n', { system: true, files: memoryFiles({ '/etc/ssh/x.conf': 'Port 7\n' }) });
    expect(sys.port).toBe(7);
  });

  it('an error in an included file names that file and line', () => {
    const e = failure('Include /inc\n', { files: memoryFiles({ '/inc': '\nPort x\n' }) });
    expect([e.file, e.line]).toEqual(['/inc', 2]);
  });

  const chain = (n: number): Record<string, string> => {
    const m: Record<string, string> = {};
    for (let i = 1; i <= n; i++) m[`/d/f${i}`] = i < n ? `Include /d/f${i + 1}\n` : 'Port 1616\n';
    return m;
  };

  it('nests 16 deep and refuses a 17th level, as ssh', () => {
    expect(resolve('Include /d/f1\n', { files: memoryFiles(chain(16)) }).port).toBe(1616);
    const e = failure('Include /d/f1\n', { files: memoryFiles(chain(17)) });
    expect(e.reason).toBe('include-depth');
    expect([e.file, e.line]).toEqual(['/d/f16', 1]);
  });

  it('the depth limit is the one ssh -G enforces', () => {
    for (const [n, ok] of [[16, true], [17, false]] as const) {
      const dir = join(work, `depth-${n}`);
      mkdirSync(dir, { recursive: true });
      for (const [p, text] of Object.entries(chain(n))) writeFileSync(join(dir, p.slice(3)), text.replace('/d/', `${dir}/`));
      const main = join(dir, 'main');
      writeFileSync(main, `Include ${dir}/f1\n`);
      const r = runSsh(['-F', main, 'h']);
      expect(r.status === 0, `ssh with ${n} levels`).toBe(ok);
      if (!ok) expect(r.stderr).toMatch(/Too many recursive configuration includes/);
      const input = inputFor({ file: main, args: ['h'], error: !ok });
      if (ok) expect(resolveSshConfig(input).port).toBe(1616);
      else expect(() => resolveSshConfig(input)).toThrow(SshConfigError);
    }
  });
});
