/**
 * `hermit serve` with its descriptor limit lowered (a shell's `ulimit -n` before exec): clients
 * that hold more connections than the server has descriptors, and a command that cannot start for
 * lack of them, end those connections or that request — never the server (issue 7, bug 5).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { createConnection, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentUserName } from '../server-host/server-auth.ts';
import { ensureBuilt, openSshBinaries, run, startHermitServe, tempDir, type HermitServer } from './openssh.ts';

const bins = openSshBinaries();
const user = currentUserName();
const DESCRIPTOR_LIMIT = 256;
let dir: string;
let server: HermitServer;
let authorizedKeys: string;

interface SlowClient {
  readonly socket: Socket;
  /** The server sent its identification line: it accepted and runs this connection. */
  greeted: boolean;
  ended: boolean;
}

/** A client that connects, says who it is and then never logs in. */
function slowClient(port: number): SlowClient {
  const socket = createConnection({ host: '127.0.0.1', port });
  const client: SlowClient = { socket, greeted: false, ended: false };
  socket.on('connect', () => socket.write('SSH-2.0-slow_client\r\n'));
  socket.on('data', (d: Buffer) => {
    if (d.toString('latin1').startsWith('SSH-2.0-')) client.greeted = true;
  });
  socket.on('error', () => {});
  socket.on('close', () => (client.ended = true));
  return client;
}

async function until(what: string, pred: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; server said:\n${server.output().stderr.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const count = (re: RegExp) => (server.output().stderr.match(new RegExp(re.source, 'gm')) ?? []).length;

/** Open `n` slow clients and wait until each was either taken on or dropped. */
async function flood(n: number): Promise<SlowClient[]> {
  const clients = Array.from({ length: n }, () => slowClient(server.port));
  await until('every slow client to be greeted or dropped', () => clients.every((c) => c.greeted || c.ended));
  return clients;
}

function ssh(command: string) {
  return run(bins.ssh, ['-p', String(server.port), '-i', join(dir, 'id'), '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', `${user}@127.0.0.1`, command], { timeoutMs: 60_000 });
}

beforeAll(async () => {
  dir = await tempDir('serve-descriptors');
  await ensureBuilt();
  const keygen = await run(bins.sshKeygen, ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'id')]);
  expect(keygen.code).toBe(0);
  authorizedKeys = join(dir, 'authorized_keys');
  await writeFile(authorizedKeys, await readFile(join(dir, 'id.pub')));
});

/** A fresh `hermit serve` (so one test's flood does not meet the other's) with the limit lowered. */
async function startServer(extra: readonly string[]): Promise<void> {
  await server?.stop();
  server = await startHermitServe(['--state-dir', join(dir, 'state'), '--authorized-keys', authorizedKeys, ...extra], undefined, { descriptorLimit: DESCRIPTOR_LIMIT });
}

afterAll(async () => {
  await server?.stop();
});

describe(`hermit serve with ulimit -n ${DESCRIPTOR_LIMIT}`, () => {
  it('300 connections that never log in: MaxStartups (default 10:30:100) refuses the excess and logs it, a login still gets through', async () => {
    await startServer([]);
    const clients = await flood(300);
    const kept = clients.filter((c) => c.greeted && !c.ended);
    // Past 10 waiting, refusals start at random; at 100 every new one is refused — and the
    // descriptors left over are enough for a real user while the slow clients still hang on.
    expect(kept.length).toBeGreaterThanOrEqual(10);
    expect(kept.length).toBeLessThanOrEqual(100);
    const refusedLines = count(/: refused: \d+ connections have not logged in yet \(MaxStartups 10:30:100\)$/);
    expect(refusedLines).toBe(300 - kept.length);
    expect(server.running()).toBe(true);

    // Below `begin` waiting connections nothing is refused: a real user gets in while nine of
    // the slow clients still hang on.
    const closedBefore = count(/: closed/);
    const released = kept.length - 9;
    for (const c of kept.slice(0, released)) c.socket.destroy();
    await until('all but nine waiting connections to be released', () => count(/: closed/) >= closedBefore + released);
    const during = await ssh('echo logged in past the flood; exit 3');
    expect([during.stdout, during.code]).toEqual(['logged in past the flood\n', 3]);

    for (const c of clients) c.socket.destroy();
    await until('the server to release the kept connections', () => count(/: closed/) >= closedBefore + kept.length + 1);
    const after = await ssh('echo still serving; exit 4');
    expect([after.stdout, after.code]).toEqual(['still serving\n', 4]);
    expect(server.running()).toBe(true);
  }, 120_000);

  it('with MaxStartups raised past the descriptors: the excess is dropped at accept, a command that cannot start fails that request only', async () => {
    await startServer(['-o', 'MaxStartups=1000']);
    const clients = await flood(300);
    const kept = clients.filter((c) => c.greeted && !c.ended);
    // The server took on what its descriptors allow; the rest were closed unread.
    expect(kept.length).toBeGreaterThan(100);
    expect(kept.length).toBeLessThan(DESCRIPTOR_LIMIT);
    expect(clients.filter((c) => c.ended).length).toBe(300 - kept.length);
    expect(count(/: refused: /)).toBe(0);
    expect(server.running()).toBe(true);

    // Room for the login's own socket and the authorized_keys read, not for the command's pipes.
    const closedBefore = count(/: closed/);
    for (const c of kept.slice(0, 2)) c.socket.destroy();
    await until('two connections to be released', () => count(/: closed/) >= closedBefore + 2);
    const refused = await ssh('echo should not run');
    expect(refused.stdout).toBe('');
    expect(refused.code).toBe(255);
    expect(refused.stderr).toMatch(/exec request failed on channel 0/);
    expect(count(/: channel 0: exec "echo should not run" failed: .*(EMFILE|ENFILE|descriptors)/)).toBe(1);
    expect(server.running()).toBe(true);

    const closedAgain = count(/: closed/);
    const stillOpen = clients.filter((c) => !c.ended);
    for (const c of clients) c.socket.destroy();
    await until('the server to release the slow connections', () => count(/: closed/) >= closedAgain + stillOpen.length);
    const r = await ssh('echo works again');
    expect([r.stdout, r.code]).toEqual(['works again\n', 0]);
  }, 120_000);
});
