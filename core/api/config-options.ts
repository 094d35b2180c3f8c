/**
 * `connect({ host: 'alias', config: true })`: ssh_config(5) applied to the client's options, as
 * ssh applies it (the resolution itself is the pure resolveSshConfig; this module reads the files
 * through the Runtime and maps the settings onto ClientOptions). Options the caller gives
 * explicitly win over the configuration, as ssh's command line does.
 */
import type { ClientOptions } from './client.ts';
import type { DynamicForwardOptions, LocalForwardOptions, RemoteForwardOptions } from './forwarding.ts';
import { HostKeyPolicy } from './host-key-policy.ts';
import { expandTilde } from './prompter.ts';
import type { Runtime } from './runtime.ts';
import { resolveSshConfig, type ResolvedSshConfig } from './ssh-config.ts';

/** Where the configuration comes from: `true` for ~/.ssh/config, a file path, or the text itself. */
export type ConfigSource = boolean | string | { readonly text: string; readonly path?: string };

const MAX_ROUNDS = 32;

/**
 * Resolve the configuration for `host`. The resolver is synchronous and pure, so the files it
 * asks for (Include, globs) are read through the runtime between rounds until it needs no more.
 */
export async function loadSshConfig(
  runtime: Runtime,
  request: { readonly host: string; readonly user?: string; readonly port?: number; readonly config: ConfigSource; readonly options?: Readonly<Record<string, string>> },
): Promise<ResolvedSshConfig> {
  const home = runtime.homeDir();
  const source = request.config;
  let path: string | undefined;
  let text: string;
  if (typeof source === 'object') {
    text = source.text;
    path = source.path;
  } else {
    path = typeof source === 'string' ? expandTilde(source, home) : `${home}/.ssh/config`;
    text = (await readOptional(runtime, path)) ?? (typeof source === 'string' ? missing(path) : '');
  }
  const fileCache = new Map<string, string | undefined>();
  const dirCache = new Map<string, readonly string[] | undefined>();
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const wantFiles = new Set<string>();
    const wantDirs = new Set<string>();
    const resolved = resolveSshConfig({
      host: request.host,
      user: request.user,
      port: request.port,
      localUser: runtime.userName(),
      homeDir: home,
      text,
      path,
      options: request.options,
      env: { HOME: home },
      files: {
        read: (p) => (fileCache.has(p) ? fileCache.get(p) : (wantFiles.add(p), undefined)),
        list: (d) => (dirCache.has(d) ? dirCache.get(d) : (wantDirs.add(d), undefined)),
      },
    });
    if (wantFiles.size === 0 && wantDirs.size === 0) return resolved;
    await Promise.all([
      ...[...wantFiles].map(async (p) => fileCache.set(p, await readOptional(runtime, p))),
      ...[...wantDirs].map(async (d) => dirCache.set(d, await runtime.listDirectory(d).catch(() => undefined))),
    ]);
  }
  throw new Error(`ssh_config ${path ?? ''}: too many nested Include files`);
}

function missing(path: string): never {
  throw Object.assign(new Error(`cannot read ssh_config ${path}: it does not exist`), { code: 'ENOENT' });
}

async function readOptional(runtime: Runtime, path: string): Promise<string | undefined> {
  try {
    return new TextDecoder().decode(await runtime.readFile(path));
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT' || (err as { code?: string }).code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/** What the configuration adds to the options, before the caller's own (which win). */
export interface ConfigDerived {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly privateKeys?: readonly string[];
  readonly certificates?: readonly string[];
  readonly identitiesOnly?: boolean;
  readonly preferredAuthentications?: readonly string[];
  readonly pubkeyAcceptedAlgorithms?: string;
  readonly batchMode?: boolean;
  readonly agent?: boolean | string;
  readonly forwardAgent?: boolean | string;
  readonly algorithms?: Record<string, string>;
  readonly keepaliveIntervalMs?: number;
  readonly keepaliveCountMax?: number;
  readonly connectTimeout?: number;
  readonly jump?: ReadonlyArray<{ readonly host: string; readonly port?: number; readonly username?: string }>;
  readonly hostKeyPolicy: () => Promise<HostKeyPolicy>;
  readonly forwards?: NonNullable<ClientOptions['forwards']>;
  readonly exitOnForwardFailure?: boolean;
  /** Settings that were resolved but that connect cannot apply (said in the log). */
  readonly unsupported: readonly string[];
}

/** Map resolved ssh_config settings onto client options (see ssh_config(5) for each keyword). */
export function optionsFromConfig(runtime: Runtime, c: ResolvedSshConfig): ConfigDerived {
  const algorithms: Record<string, string> = {};
  if (c.ciphers !== undefined) algorithms['cipher'] = c.ciphers;
  if (c.macs !== undefined) algorithms['mac'] = c.macs;
  if (c.kexAlgorithms !== undefined) algorithms['kex'] = c.kexAlgorithms;
  if (c.hostKeyAlgorithms !== undefined) algorithms['hostKey'] = c.hostKeyAlgorithms;
  const unsupported: string[] = [];
  const local: LocalForwardOptions[] = [];
  for (const f of c.localForward) {
    const bind = f.listenPath !== undefined ? { bindPath: f.listenPath } : { ...(f.listenHost !== undefined ? { bindHost: f.listenHost } : {}), bindPort: f.listenPort ?? 0 };
    if (f.connectPath !== undefined) local.push({ ...bind, remotePath: f.connectPath });
    else if (f.connectHost !== undefined && f.connectPort !== undefined) local.push({ ...bind, host: f.connectHost, port: f.connectPort });
  }
  const remote: RemoteForwardOptions[] = [];
  for (const f of c.remoteForward) {
    const bind = f.listenPath !== undefined ? { bindPath: f.listenPath } : { ...(f.listenHost !== undefined ? { bindHost: f.listenHost } : {}), bindPort: f.listenPort ?? 0 };
    if (f.connectPath !== undefined) remote.push({ ...bind, localPath: f.connectPath });
    else if (f.connectHost !== undefined && f.connectPort !== undefined) remote.push({ ...bind, host: f.connectHost, port: f.connectPort });
    else if (f.listenPath === undefined) remote.push({ ...bind, socks: true });
    else unsupported.push(`RemoteForward ${f.listenPath} without a target (SOCKS needs a TCP port)`);
  }
  const dynamic: DynamicForwardOptions[] = [];
  for (const f of c.dynamicForward) {
    if (f.listenPath !== undefined) unsupported.push('DynamicForward on a Unix socket');
    else dynamic.push({ ...(f.listenHost !== undefined ? { bindHost: f.listenHost } : {}), bindPort: f.listenPort ?? 0 });
  }
  const forwards = c.clearAllForwardings ? {} : { ...(local.length ? { local } : {}), ...(remote.length ? { remote } : {}), ...(dynamic.length ? { dynamic } : {}) };
  const agent = c.identityAgent === undefined ? true : c.identityAgent.toLowerCase() === 'none' ? undefined : c.identityAgent === 'SSH_AUTH_SOCK' ? true : c.identityAgent;
  return {
    host: c.hostname,
    port: c.port,
    username: c.user,
    // The default files only when none was named, and only those that exist (read later, missing ones skipped).
    privateKeys: c.identityFile,
    ...(c.certificateFile.length > 0 ? { certificates: c.certificateFile } : {}),
    ...(c.identitiesOnly ? { identitiesOnly: true } : {}),
    ...(c.preferredAuthentications ? { preferredAuthentications: c.preferredAuthentications } : {}),
    ...(c.pubkeyAcceptedAlgorithms !== undefined ? { pubkeyAcceptedAlgorithms: c.pubkeyAcceptedAlgorithms } : {}),
    ...(c.batchMode ? { batchMode: true } : {}),
    ...(agent !== undefined && (agent !== true || runtime.env('SSH_AUTH_SOCK')) ? { agent } : {}),
    ...(c.forwardAgent ? { forwardAgent: c.forwardAgentSocket ?? true } : {}),
    ...(Object.keys(algorithms).length > 0 ? { algorithms } : {}),
    ...(c.serverAliveInterval > 0 ? { keepaliveIntervalMs: c.serverAliveInterval * 1000, keepaliveCountMax: c.serverAliveCountMax } : {}),
    ...(c.connectTimeout !== undefined ? { connectTimeout: c.connectTimeout * 1000 } : {}),
    ...(c.proxyJumpHops.length > 0
      ? { jump: c.proxyJumpHops.map((h) => ({ host: h.host, ...(h.port !== undefined ? { port: h.port } : {}), ...(h.user !== undefined ? { username: h.user } : {}) })) }
      : {}),
    ...(Object.keys(forwards).length > 0 ? { forwards } : {}),
    ...(c.exitOnForwardFailure ? { exitOnForwardFailure: true } : {}),
    unsupported,
    hostKeyPolicy: () =>
      HostKeyPolicy.load({
        runtime,
        host: c.hostKeyAlias ?? c.hostname,
        port: c.port,
        userKnownHostsFiles: c.userKnownHostsFile,
        globalKnownHostsFiles: c.globalKnownHostsFile,
        strictHostKeyChecking: c.strictHostKeyChecking,
      }),
  };
}
