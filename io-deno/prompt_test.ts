/**
 * The Deno terminal / SSH_ASKPASS prompter (io-deno/prompt.ts): an askpass program run with
 * Deno.Command gives the answer (its first line), a failing one cancels, nobody to ask prints the
 * note; and ClientCredentials on Deno asks it for an encrypted key's passphrase after PK_OK.
 */
import assert from 'node:assert/strict';
import { generatePrivateKey, pureCrypto, serializeOpenSshPrivateKey, formatPublicKeyLine, systemRandom, verifySignature } from '../core/index.ts';
import { ClientCredentials } from './trust.ts';
import { prompt, systemPrompter } from './prompt.ts';

async function askpassScript(dir: string, body: string): Promise<string> {
  const path = `${dir}/askpass.sh`;
  await Deno.writeTextFile(path, `#!/bin/sh\n${body}\n`);
  await Deno.chmod(path, 0o755);
  return path;
}

Deno.test('the Deno prompter: askpass answers, a failing askpass cancels, nobody to ask prints how to answer', async () => {
  const dir = await Deno.makeTempDir({ prefix: 'hermit-deno-prompt-' });
  try {
    const ok = await askpassScript(dir, 'printf "sesame\\nsecond line\\n"; echo "$1" > "$(dirname "$0")/asked"');
    const answer = await prompt({ prompt: "Enter passphrase for key 'k': ", what: 'the passphrase' }, { env: { SSH_ASKPASS: ok, SSH_ASKPASS_REQUIRE: 'force' }, stdinIsTty: false });
    assert.equal(answer, 'sesame');
    assert.equal(await Deno.readTextFile(`${dir}/asked`), "Enter passphrase for key 'k': \n");
    const failing = await askpassScript(dir, 'exit 1');
    assert.equal(await prompt({ prompt: 'p', what: 'w' }, { env: { SSH_ASKPASS: failing, SSH_ASKPASS_REQUIRE: 'force' }, stdinIsTty: false }), null);
    const notes: string[] = [];
    const nobody = systemPrompter({ env: {}, stdinIsTty: false, stderr: { write: (t: string) => notes.push(t) } });
    assert.equal(nobody.available, false);
    assert.equal(await nobody.ask({ prompt: 'p', what: 'the password for alice@host' }), null);
    assert.match(notes.join(''), /cannot ask for the password for alice@host: stdin is not a terminal/);
    const missing: string[] = [];
    await prompt({ prompt: 'p', what: 'w' }, { env: { SSH_ASKPASS: `${dir}/no-such-program`, SSH_ASKPASS_REQUIRE: 'force' }, stdinIsTty: false, stderr: { write: (t: string) => missing.push(t) } });
    assert.match(missing.join(''), /cannot run SSH_ASKPASS program .*no-such-program/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test('ClientCredentials on Deno asks the SSH_ASKPASS program for an encrypted key and signs with it', async () => {
  const dir = await Deno.makeTempDir({ prefix: 'hermit-deno-prompt-' });
  try {
    const key = generatePrivateKey('ed25519', systemRandom, pureCrypto);
    await Deno.writeTextFile(`${dir}/id`, serializeOpenSshPrivateKey(key, systemRandom, { passphrase: 'open sesame', rounds: 2 }));
    await Deno.writeTextFile(`${dir}/id.pub`, `${formatPublicKeyLine(key.publicKey, 'k')}\n`);
    const askpass = await askpassScript(dir, 'echo "open sesame"');
    const credentials = await ClientCredentials.load({
      username: 'alice',
      host: 'h',
      identityFiles: [`${dir}/id`],
      env: { SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force' },
    });
    const data = new TextEncoder().encode('session id and request');
    const signature = await credentials.answer({ id: 1, blocking: true, kind: 'sign', purpose: 'publickey', key: key.publicKey, algorithm: 'ssh-ed25519', data });
    assert.ok(signature instanceof Uint8Array);
    assert.equal(verifySignature(pureCrypto, key.publicKey, "ssh-ed25519", signature as Uint8Array, data), true);
    await credentials.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
