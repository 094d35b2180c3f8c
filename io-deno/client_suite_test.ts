/**
 * The shared client suite (io-node/tests/client-suite.ts) under Deno: hermit-ssh/deno's connect
 * with Web streams, against the same sshd and hermit serve as the Node run.
 */
import { clientSuite } from '../io-node/tests/client-suite.ts';
import { connect } from './client.ts';
import { HostKeyPolicy } from './trust.ts';

const writers = new WeakMap<WritableStream<Uint8Array>, WritableStreamDefaultWriter<Uint8Array>>();
const writerOf = (stream: WritableStream<Uint8Array>) => {
  let w = writers.get(stream);
  if (!w) writers.set(stream, (w = stream.getWriter()));
  return w;
};

const suite = clientSuite({
  name: 'deno',
  connect,
  HostKeyPolicy,
  // The pure provider's fast cipher.
  algorithms: { cipher: 'chacha20-poly1305@openssh.com' },
  async readAll(stream) {
    const chunks: Uint8Array[] = [];
    for await (const chunk of stream as ReadableStream<Uint8Array>) chunks.push(chunk);
    const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) (all.set(c, at), (at += c.length));
    return all;
  },
  async readUntil(stream, text) {
    let seen = '';
    const decoder = new TextDecoder();
    const reader = (stream as ReadableStream<Uint8Array>).getReader();
    try {
      while (!seen.includes(text)) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += decoder.decode(value, { stream: true });
      }
    } finally {
      reader.releaseLock();
    }
    return seen;
  },
  write: (stream, bytes) => writerOf(stream as WritableStream<Uint8Array>).write(bytes),
  end: (stream) => writerOf(stream as WritableStream<Uint8Array>).close(),
  pipe: (from, to) => void (from as ReadableStream<Uint8Array>).pipeTo(to as WritableStream<Uint8Array>),
});

Deno.test({
  name: 'the shared client suite under Deno',
  // The servers' child processes and sockets outlive single steps by design.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await suite.setup();
    try {
      for (const c of suite.cases) await t.step(c.name, c.run);
    } finally {
      await suite.teardown();
    }
  },
});
