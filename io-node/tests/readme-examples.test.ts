/**
 * Every example of the README's library section, run as a user would run it: each ```js block
 * with Node, the ```ts block with Deno, against a private sshd reached through a `myserver` entry
 * in ~/.ssh/config (HOME is a temporary directory), and each output compared with the ```text
 * block that follows it.
 */
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, failEachTestWithoutOpenSsh, makeHostKeys, nodeExecutable, openSshBinaries, repoRoot, run, SETUP_TIMEOUT_MS, startSshd, tempDir, type Sshd } from './openssh.ts';

const haveOpenSsh = failEachTestWithoutOpenSsh();
const USER = 'hermit-test';

interface Example {
  readonly language: 'js' | 'ts';
  readonly code: string;
  readonly expected: string;
}

/** The code blocks of the "Using it as a library" section, each with the text block after it. */
function examples(readme: string): Example[] {
  const section = readme.slice(readme.indexOf('## Using it as a library'), readme.indexOf('\n## ', readme.indexOf('## Using it as a library') + 5));
  const out: Example[] = [];
  const blocks = [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)];
  for (let i = 0; i < blocks.length; i++) {
    const [, language, code] = blocks[i]!;
    if (language !== 'js' && language !== 'ts') continue;
    const next = blocks[i + 1];
    if (!next || next[1] !== 'text') throw new Error(`README example ${out.length + 1} has no \`\`\`text block with its output after it`);
    out.push({ language, code: code!, expected: next[2]!.trim() });
  }
  return out;
}

let sshd: Sshd;
let home: string;
let dir: string;

beforeAll(async () => {
  if (!haveOpenSsh) return;
  dir = await tempDir('readme');
  home = join(dir, 'home');
  await mkdir(join(home, '.ssh'), { recursive: true, mode: 0o700 });
  await ensureBuilt();
  const keys = await makeHostKeys();
  const key = join(home, '.ssh', 'id_ed25519');
  const made = await run(openSshBinaries().sshKeygen, ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
  if (made.code !== 0) throw new Error(made.stderr);
  await writeFile(join(dir, 'authorized_keys'), await readFile(`${key}.pub`));
  await chmod(dir, 0o755);
  sshd = await startSshd({ keys, extra: ['Match All', `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`] });
  const knownHosts = await Promise.all(Object.values(keys.paths).map(async (p) => `[127.0.0.1]:${sshd.port} ${(await readFile(`${p}.pub`, 'utf8')).split(' ').slice(0, 2).join(' ')}`));
  await writeFile(join(home, '.ssh', 'known_hosts'), knownHosts.join('\n') + '\n');
  await writeFile(
    join(home, '.ssh', 'config'),
    ['Host myserver', '  HostName 127.0.0.1', `  Port ${sshd.port}`, `  User ${USER}`, '  IdentityFile ~/.ssh/id_ed25519', '  StrictHostKeyChecking yes', ''].join('\n'),
  );
}, SETUP_TIMEOUT_MS);

afterAll(() => sshd?.stop());

const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
const found = examples(readme);

describe('README library examples', () => {
  it('the section has its examples (Node and Deno)', () => {
    expect(found.filter((e) => e.language === 'js').length).toBeGreaterThanOrEqual(4);
    expect(found.filter((e) => e.language === 'ts').length).toBe(1);
  });

  found.forEach((example, i) => {
    it(`example ${i + 1} (${example.language === 'js' ? 'Node' : 'Deno'}) prints what the README says`, async () => {
      const env = { ...process.env, HOME: home, SSH_PORT: String(sshd.port), SSH_USER: USER, SSH_AUTH_SOCK: '' };
      const file = join(dir, `example-${i + 1}.${example.language === 'js' ? 'mjs' : 'ts'}`);
      let r;
      if (example.language === 'js') {
        const entry = pathToFileURL(join(repoRoot, 'dist', 'io-node', 'index.js')).href;
        await writeFile(file, example.code.replaceAll("'hermit-ssh/node'", `'${entry}'`));
        r = await run(nodeExecutable, [file], { env, timeoutMs: 60_000 });
      } else {
        // Inside the checkout, so Deno finds package.json and node_modules for the bare imports.
        const local = join(repoRoot, '.hermit-test', `readme-example-${process.pid}-${i + 1}.ts`);
        const entry = pathToFileURL(join(repoRoot, 'io-deno', 'mod.ts')).href;
        await writeFile(local, example.code.replaceAll("'npm:hermit-ssh/deno'", `'${entry}'`));
        r = await run(join(repoRoot, 'node_modules', '.bin', 'deno'), ['run', '--quiet', '--allow-all', local], { env, timeoutMs: 90_000 });
        await rm(local, { force: true });
      }
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(example.expected);
    });
  });
});
