/**
 * The shared client suite (client-suite.ts) under Node: hermit-ssh/node's connect with Node
 * streams, against sshd and hermit serve. io-deno/client_suite_test.ts runs the same cases in Deno.
 */
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { connect } from '../streams/client.ts';
import { HostKeyPolicy } from '../trust/host-key-policy.ts';
import { failEachTestWithoutOpenSsh, SETUP_TIMEOUT_MS } from './openssh.ts';
import { clientSuite } from './client-suite.ts';

const haveOpenSsh = failEachTestWithoutOpenSsh();

const suite = clientSuite({
  name: 'node',
  connect,
  HostKeyPolicy,
  async readAll(stream) {
    const chunks: Buffer[] = [];
    for await (const chunk of stream as Readable) chunks.push(chunk as Buffer);
    return new Uint8Array(Buffer.concat(chunks));
  },
  async readUntil(stream, text) {
    let seen = '';
    for await (const chunk of stream as Readable) {
      seen += (chunk as Buffer).toString('utf8');
      if (seen.includes(text)) break;
    }
    return seen;
  },
  async write(stream, bytes) {
    const w = stream as Writable;
    if (!w.write(bytes)) await once(w, 'drain');
  },
  pipe: (from, to) => void (from as Readable).pipe(to as Writable),
  async end(stream) {
    const w = stream as Writable;
    w.end();
    await once(w, 'finish');
  },
});

describe('the shared client suite under Node', () => {
  beforeAll(async () => {
    if (haveOpenSsh) await suite.setup();
  }, SETUP_TIMEOUT_MS);
  afterAll(() => suite.teardown());
  for (const c of suite.cases) it(c.name, c.run);
});
