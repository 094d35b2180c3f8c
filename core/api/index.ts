/**
 * The promise API (DESIGN.md section 3), written once over a {@link Runtime}: io-node and io-deno
 * supply the runtime and native stream views; everything else is here.
 */
export * from './runtime.ts';
export { ConnectionDriver, type CloseReason, type DriverOptions } from './driver.ts';
