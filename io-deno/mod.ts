/**
 * hermit-ssh for Deno (`hermit-ssh/deno`): the engine over `Deno.connect` / `Deno.listen`, with the
 * same shape as the Node entry. The pure crypto provider is the default here; Deno's node:crypto
 * is fast for chacha20-poly1305 but slow for AES-GCM, so pick per workload.
 */
export * from '../core/index.ts';
export { DenoConnectionPump, type DenoCloseReason, type DenoPumpOptions } from './pump.ts';
export { connect, listen, type DenoConnectOptions, type DenoListenOptions, type DenoServer } from './net.ts';
