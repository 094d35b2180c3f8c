/**
 * The few Web globals core/ and machines/ may use, for `tsconfig.core.json` only (which has no DOM
 * and no @types/node, so `node:*`, `Buffer`, `process`, `Deno`, timers and `require` do not
 * compile there). Each is present in Node >= 20, Deno and browsers. Kept outside core/ so the main
 * tsconfig.json, which has the full DOM and Node declarations, never sees these narrower ones.
 * Add a global here only when core needs it and every runtime has it.
 */

/** WHATWG Encoding: UTF-8 only, which is all core uses. */
interface TextEncoder {
  encode(input?: string): Uint8Array;
}
declare var TextEncoder: { prototype: TextEncoder; new (): TextEncoder };

interface TextDecoderOptions {
  fatal?: boolean;
  ignoreBOM?: boolean;
}
interface TextDecoder {
  decode(input?: Uint8Array, options?: { stream?: boolean }): string;
}
declare var TextDecoder: { prototype: TextDecoder; new (label?: string, options?: TextDecoderOptions): TextDecoder };

/** Web Crypto's randomness, the default random source (core/random.ts). */
interface Crypto {
  getRandomValues<T extends Uint8Array>(array: T): T;
}
declare var crypto: Crypto;

/** HTML's microtask queue (core/testing's in-memory runtime); not a timer: it never reads a clock. */
declare function queueMicrotask(callback: () => void): void;

/** The AbortSignal an API caller passes in; core only reads it and listens for 'abort'. */
interface AbortSignal {
  readonly aborted: boolean;
  readonly reason: any;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** Explicit resource management (`await using`, `Symbol.asyncDispose` on connections). */
interface SymbolConstructor {
  readonly asyncDispose: unique symbol;
}
