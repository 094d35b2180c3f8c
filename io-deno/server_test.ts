/**
 * The server API on Deno (io-deno/server.ts over core/api/server.ts) with OpenSSH's `ssh` as the
 * client: exec with stdout, stderr, stdin and the exit status; a refused key; and the RFC 8071
 * reverse direction between listenReverse and connectReverse.
 */
import assert from 'node:assert/strict';
import { formatPublicKeyLine, generatePrivateKey, publicKeysEqual, pureCrypto, serializeOpenSshPrivateKey, systemRandom } from '../core/index.ts';
import { connectReverse, listen, listenReverse } from './mod.ts';

const hostKey = generatePrivateKey('ed25519', systemRandom, pureCrypto);
const userKey = generatePrivateKey('ed25519', systemRandom, pureCrypto);
const strangerKey = generatePrivateKey('ed25519', systemRandom, pureCrypto);

async function keyFile(dir: string, name: string, key: typeof userKey): Promise<string> {
  const path = `${dir}/${name}`;
  await Deno.writeTextFile(path, serializeOpenSshPrivateKey(key, systemRandom), { mode: 0o600 });
  await Deno.chmod(path, 0o600);
  return path;
}

async function ssh(port: number, identity: string, knownHosts: string, command: string, input = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command('ssh', {
    args: ['-F', '/dev/null', '-p', String(port), '-i', identity, '-o', 'IdentitiesOnly=yes', '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', 'alice@127.0.0.1', command],
    stdin: 'piped',
    stdout: 'piped',
    stderr: 'piped',
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(input));
  await writer.close();
  const out = await child.output();
  return { code: out.code, stdout: new TextDecoder().decode(out.stdout), stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test('OpenSSH ssh runs a command on a Deno listen() server: output, stderr, stdin, exit status; a key the handler refuses is denied', async () => {
  const dir = await Deno.makeTempDir({ prefix: 'hermit-deno-server-' });
  const server = await listen({
    hostKeys: [hostKey],
    auth: { publicKey: (a) => a.username === 'alice' && publicKeysEqual(a.key, userKey.publicKey) },
    session: async (s) => {
      let input = '';
      for await (const chunk of s.stdin) input += new TextDecoder().decode(chunk);
      await s.stdout.write(`${s.username} ran "${s.command}" with ${input.length} bytes: ${input.toUpperCase()}`);
      await s.stderr.write('a note\n');
      return 3;
    },
  });
  try {
    const port = (server.address as { port: number }).port;
    const knownHosts = `${dir}/known_hosts`;
    await Deno.writeTextFile(knownHosts, `[127.0.0.1]:${port} ${formatPublicKeyLine(hostKey.publicKey)}\n`);
    const ok = await ssh(port, await keyFile(dir, 'user', userKey), knownHosts, 'shout', 'hello');
    assert.equal(ok.stdout, 'alice ran "shout" with 5 bytes: HELLO');
    assert.equal(ok.stderr, 'a note\n');
    assert.equal(ok.code, 3);
    const denied = await ssh(port, await keyFile(dir, 'stranger', strangerKey), knownHosts, 'shout');
    assert.equal(denied.code, 255);
    assert.match(denied.stderr, /Permission denied \(publickey\)/);
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test('RFC 8071 on Deno: connectReverse dials listenReverse, which logs in and runs a command on the dialing side', async () => {
  const results: Array<Promise<string>> = [];
  const listener = await listenReverse({
    bindPort: 0,
    username: 'alice',
    privateKeys: [userKey],
    hostKey: (d) => publicKeysEqual(d.hostKey, hostKey.publicKey),
    onConnection: (conn) => results.push(conn.run('whoami').then(async (r) => (await conn.close(), `${r.stdout}${r.exitStatus}`))),
  });
  const port = (listener.address as { port: number }).port;
  const served = await connectReverse({ host: '127.0.0.1', port, hostKeys: [hostKey], auth: { publicKey: (a) => publicKeysEqual(a.key, userKey.publicKey) }, session: (s) => void s.stdout.write(`${s.username}\n`) });
  await served.closed;
  assert.equal(results.length, 1);
  assert.equal(await results[0], 'alice\n0');
  await listener.close();
});
