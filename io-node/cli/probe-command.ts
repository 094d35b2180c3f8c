/**
 * `hermit probe`: connect, negotiate, authenticate, and report what the server offers and how
 * authentication went. Options follow ssh(1) and ssh_config(5) spelling.
 */
import { userInfo } from 'node:os';
import { applyAlgorithmOption, parseStrictHostKeyChecking, SshUsageError, type StrictHostKeyChecking } from '../../core/index.ts';
import { UsageError, algorithmOption, parsePort, parsePositiveSeconds, splitOption, tokens } from './cli-common.ts';
import { ClientCredentials, CredentialOptionError, parsePreferredAuthentications } from '../trust/client-credentials.ts';
import { HostKeyPolicy, HostKeyVerificationError } from '../trust/host-key-policy.ts';
import { formatProbeJson, formatProbeLines, probe, type AlgorithmOptions, type ProbeResult } from './probe.ts';
import { noPrompter, systemPrompter } from '../trust/prompt.ts';

export const PROBE_HELP = `Usage: hermit probe [-p PORT] [-l USER] [-i FILE]... [-A] [-o Name=value]... [--timeout SECONDS] [--json] [USER@]HOST

Connect, run the key exchange, check the host key against known_hosts, ask which authentication
methods the server accepts, authenticate with the keys, agent and prompts available (as ssh
would), disconnect without opening a session, and print one 'name: value' line each for:
server-version, kex, host-key-algorithm, host-key-fingerprint, cipher-c2s, cipher-s2c, mac-c2s,
mac-s2c ('<implicit>' for AEAD ciphers), strict-kex (yes/no), server-sig-algs (or '(none)'),
auth-methods (the server's answer to 'none'), auth-result (success/failure), auth-method (the
method that succeeded, or '(none)'), host-key-status:
  known        a known_hosts line holds the key
  certificate  a valid host certificate from an @cert-authority key
  added        new key, accepted and appended to the known_hosts file (accept-new, or 'yes' at the prompt)
  accepted     new key, accepted for this probe by StrictHostKeyChecking=no (not recorded)
  changed      the key differs from known_hosts but StrictHostKeyChecking=no went on (no passwords sent)
  unverified   new key and nobody could be asked: the report is printed but nothing beyond the
               'none' request is sent (auth-result: failure); verify the fingerprint, then add the
               key (StrictHostKeyChecking=accept-new) or answer the question on a terminal

Authentication, as ssh(1) does it: the agent's keys first (SSH_AUTH_SOCK), then the -i files (or
~/.ssh/id_rsa, id_ecdsa, id_ed25519 when no -i is given); FILE-cert.pub beside a key file is offered
first. Passphrases, passwords and keyboard-interactive answers are read from the terminal or from
the SSH_ASKPASS program (SSH_ASKPASS_REQUIRE=force|prefer, or no terminal and DISPLAY set). When
neither is available, password and keyboard-interactive are not tried unless named in
PreferredAuthentications.

Exit status: 0 when the report was printed, whatever auth-result says (check that line);
1 when the probe could not complete (connection, negotiation, host key refused: the message names
the known_hosts file:line and both fingerprints); 2 for a wrong command line.

Options:
  -p PORT            port to connect to (default 22).
  -l USER            user to log in as (default: current user).
  -i FILE            identity (private key) file; repeatable. FILE.pub supplies the public key so
                     that an encrypted FILE is only decrypted once the server accepts the key.
  -A                 use the agent (SSH_AUTH_SOCK), and fail if it cannot be reached. The agent is
                     used by default when SSH_AUTH_SOCK is set; the probe opens no session, so there
                     is nothing to forward it to.
  -o Name=value      as in ssh_config(5):
                       KexAlgorithms, Ciphers, MACs, HostKeyAlgorithms (full list, +append,
                         -remove, ^first), Port, User, ConnectTimeout (seconds);
                       IdentityFile (repeatable), IdentitiesOnly=yes|no, IdentityAgent=PATH|none,
                       PubkeyAcceptedAlgorithms=LIST (e.g. rsa-sha2-256; +/-/^ modifiers),
                       PreferredAuthentications=publickey,keyboard-interactive,password,
                       PubkeyAuthentication, PasswordAuthentication, KbdInteractiveAuthentication
                         =yes|no, NumberOfPasswordPrompts=N (default 3),
                       BatchMode=yes (never ask anything: keys only, no passphrases);
                       StrictHostKeyChecking=yes|accept-new|no|ask: without it the probe asks on a
                         terminal and otherwise reports 'unverified' (see above); an explicit 'ask'
                         with nobody to ask refuses, as 'yes' does. 'no' accepts an unknown key
                         without recording it (unlike ssh, which records it);
                       UserKnownHostsFile (default ~/.ssh/known_hosts ~/.ssh/known_hosts2;
                         space-separated, repeatable, 'none' or /dev/null for no file; new keys go
                         to the first), GlobalKnownHostsFile (default /etc/ssh/ssh_known_hosts
                         /etc/ssh/ssh_known_hosts2), HashKnownHosts=yes|no (hash names of new lines).
  --timeout SECONDS  give up if the server has not answered for this long (default 30; time spent
                     waiting for the user does not count).
  --json             print the report as one JSON object (lists as arrays, strict-kex as boolean,
                     auth-method null on failure).
  -h, --help         show this help.
`;

function yesNo(name: string, value: string): boolean {
  if (/^(yes|true)$/i.test(value)) return true;
  if (/^(no|false)$/i.test(value)) return false;
  throw new UsageError(`${name}=${value}: expected yes or no`);
}

const SUPPORTED_OPTIONS =
  'KexAlgorithms, Ciphers, MACs, HostKeyAlgorithms, Port, User, ConnectTimeout, IdentityFile, IdentitiesOnly, IdentityAgent, ' +
  'PreferredAuthentications, PubkeyAuthentication, PasswordAuthentication, KbdInteractiveAuthentication, NumberOfPasswordPrompts, ' +
  'BatchMode, StrictHostKeyChecking, UserKnownHostsFile, GlobalKnownHostsFile, HashKnownHosts';

export async function cmdProbe(args: readonly string[]): Promise<number> {
  let port: number | null = null;
  let user: string | null = null;
  let json = false;
  let connectTimeoutMs: number | null = null;
  let timeoutMs: number | null = null;
  const operands: string[] = [];
  const algorithms: Record<string, string> = {};
  const identityFiles: string[] = [];
  let identitiesOnly: boolean | null = null;
  let identityAgent: string | null | undefined;
  let requireAgent = false;
  let preferred: string[] | null = null;
  let pubkeyAccepted: string[] | null = null;
  const switches: { pubkey?: boolean; password?: boolean; kbd?: boolean } = {};
  let passwordPrompts: number | null = null;
  let batchMode: boolean | null = null;
  let strict: StrictHostKeyChecking | null = null;
  const userKnownHostsFiles: string[] = [];
  const globalKnownHostsFiles: string[] = [];
  let hashKnownHosts: boolean | null = null;
  for (const t of tokens(args, new Set(['-p', '-l', '-o', '-i', '--timeout']))) {
    switch (t.name) {
      case '-h':
      case '--help':
        process.stdout.write(PROBE_HELP);
        return 0;
      case '-p':
        port = parsePort(t.value, '-p');
        break;
      case '-l':
        if (t.value === '') throw new UsageError('-l needs a user name');
        user = t.value;
        break;
      case '-i':
        if (t.value === '') throw new UsageError('-i needs a key file, e.g. -i ~/.ssh/id_ed25519');
        identityFiles.push(t.value);
        break;
      case '-A':
        requireAgent = true;
        break;
      case '--json':
        json = true;
        break;
      case '--timeout':
        timeoutMs = parsePositiveSeconds(t.value, '--timeout');
        break;
      case '-o': {
        const { name, value } = splitOption(t.value);
        if (algorithmOption(algorithms, name, value)) break;
        // ssh_config(5): the first value given for an option wins; the file lists accumulate.
        switch (name.toLowerCase()) {
          case 'port':
            port ??= parsePort(value, '-o Port');
            break;
          case 'user':
            user ??= value;
            break;
          case 'connecttimeout':
            connectTimeoutMs = parsePositiveSeconds(value, '-o ConnectTimeout');
            break;
          case 'identityfile':
            identityFiles.push(value);
            break;
          case 'pubkeyacceptedalgorithms':
            // ssh_config semantics: a list, or +/-/^ modifiers of the defaults.
            try {
              pubkeyAccepted ??= applyAlgorithmOption('hostKey', value, ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256']).filter((a) => !a.includes('-cert-'));
            } catch (err) {
              if (err instanceof SshUsageError) throw new UsageError(err.message.replace('HostKeyAlgorithms', 'PubkeyAcceptedAlgorithms'));
              throw err;
            }
            break;
          case 'identitiesonly':
            identitiesOnly ??= yesNo(name, value);
            break;
          case 'identityagent':
            if (identityAgent === undefined) identityAgent = value.toLowerCase() === 'none' ? null : value;
            break;
          case 'preferredauthentications':
            try {
              preferred ??= parsePreferredAuthentications(value);
            } catch (err) {
              if (err instanceof CredentialOptionError) throw new UsageError(err.message);
              throw err;
            }
            break;
          case 'pubkeyauthentication':
            switches.pubkey ??= yesNo(name, value);
            break;
          case 'passwordauthentication':
            switches.password ??= yesNo(name, value);
            break;
          case 'kbdinteractiveauthentication':
          case 'challengeresponseauthentication':
            switches.kbd ??= yesNo(name, value);
            break;
          case 'numberofpasswordprompts':
            if (!/^\d+$/.test(value) || Number(value) > 100) throw new UsageError(`NumberOfPasswordPrompts=${value}: expected a whole number from 0 to 100`);
            passwordPrompts ??= Number(value);
            break;
          case 'batchmode':
            batchMode ??= yesNo(name, value);
            break;
          case 'stricthostkeychecking': {
            const mode = parseStrictHostKeyChecking(value);
            if (mode === null) throw new UsageError(`StrictHostKeyChecking=${value}: expected yes, accept-new, no (or off) or ask`);
            strict ??= mode;
            break;
          }
          case 'userknownhostsfile':
            userKnownHostsFiles.push(value);
            break;
          case 'globalknownhostsfile':
            globalKnownHostsFiles.push(value);
            break;
          case 'hashknownhosts':
            hashKnownHosts ??= yesNo(name, value);
            break;
          default:
            throw new UsageError(`unsupported option -o ${name}; hermit probe supports ${SUPPORTED_OPTIONS}`);
        }
        break;
      }
      case null:
        operands.push(t.value);
        break;
      default:
        throw new UsageError(`unknown option ${t.name}`);
    }
  }
  if (operands.length === 0) throw new UsageError('missing HOST, e.g. hermit probe -p 2222 127.0.0.1');
  if (operands.length > 1) throw new UsageError(`expected one HOST, got ${operands.length}: ${operands.join(' ')} (options go before HOST)`);
  let host = operands[0]!;
  const at = host.lastIndexOf('@');
  if (at !== -1) {
    user ??= host.slice(0, at);
    host = host.slice(at + 1);
  }
  if (host === '') throw new UsageError('HOST is empty');
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  const username = user ?? defaultUser();
  const finalPort = port ?? 22;

  const prompter = batchMode ? noPrompter : systemPrompter();
  const hostKeyPolicy = await HostKeyPolicy.load({
    host,
    port: finalPort,
    ...(userKnownHostsFiles.length > 0 ? { userKnownHostsFiles } : {}),
    ...(globalKnownHostsFiles.length > 0 ? { globalKnownHostsFiles } : {}),
    strictHostKeyChecking: strict ?? 'ask',
    hashKnownHosts: hashKnownHosts ?? false,
    prompter,
    // Unset: a probe still reports an unknown host (its fingerprint is what the user must check).
    whenNobodyCanBeAsked: strict === null ? 'unverified' : 'refuse',
    recordUnknownWhenNotStrict: false,
  });
  if (algorithms['hostKey'] === undefined) {
    const preferredHostKeys = hostKeyPolicy.preferredHostKeyAlgorithms();
    if (preferredHostKeys !== null) algorithms['hostKey'] = preferredHostKeys;
  }
  const credentials = await ClientCredentials.load({
    username,
    host,
    identityFiles,
    identitiesOnly: identitiesOnly ?? false,
    ...(identityAgent !== undefined ? { identityAgent } : {}),
    requireAgent,
    ...(preferred !== null ? { preferredAuthentications: preferred } : {}),
    ...(switches.pubkey !== undefined ? { pubkeyAuthentication: switches.pubkey } : {}),
    ...(switches.password !== undefined ? { passwordAuthentication: switches.password } : {}),
    ...(switches.kbd !== undefined ? { kbdInteractiveAuthentication: switches.kbd } : {}),
    ...(passwordPrompts !== null ? { numberOfPasswordPrompts: passwordPrompts } : {}),
    ...(pubkeyAccepted !== null ? { pubkeyAcceptedAlgorithms: pubkeyAccepted } : {}),
    batchMode: batchMode ?? false,
    prompter,
  });
  let result: ProbeResult;
  try {
    result = await probe({
      host,
      port: finalPort,
      username,
      hostKeyPolicy,
      credentials,
      ...(Object.keys(algorithms).length > 0 ? { algorithms: algorithms as AlgorithmOptions } : {}),
      ...(connectTimeoutMs !== null ? { connectTimeoutMs } : {}),
      ...(timeoutMs !== null ? { timeoutMs } : {}),
    });
  } catch (err) {
    if (err instanceof HostKeyVerificationError) {
      // Several lines on purpose: both fingerprints, the file:line and the commands to fix it.
      process.stderr.write(`hermit probe: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    await credentials.close();
  }
  if (result.authDisconnect !== null) process.stderr.write(`hermit probe: the server ended authentication: ${result.authDisconnect}\n`);
  process.stdout.write(json ? formatProbeJson(result) + '\n' : formatProbeLines(result).join('\n') + '\n');
  return 0;
}

function defaultUser(): string {
  const fromEnv = process.env['USER'] || process.env['LOGNAME'];
  if (fromEnv) return fromEnv;
  try {
    return userInfo().username;
  } catch {
    // No passwd entry (containers with arbitrary uids): any name gets the same method list.
    return 'hermit';
  }
}
