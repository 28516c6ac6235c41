/**
 * Returning results from Piscina workers without copying their large buffers: Piscina posts a
 * task's return value with structured clone, which copies every ArrayBuffer in it unless the
 * value is `move`d with those buffers in its transfer list.
 */
import { move, transferableSymbol, valueSymbol } from 'piscina';

/** `value`, to return from a task, with `buffers` moved to the caller (each detaches here). */
export function returnTransferring<T extends object>(value: T, buffers: ArrayBuffer[]): T {
  return move({ [transferableSymbol]: buffers, [valueSymbol]: value }) as unknown as T;
}

/** The view's bytes as a whole ArrayBuffer of their own: its buffer when it is exactly that, else a copy. */
export function ownBuffer(view: ArrayBufferView): ArrayBuffer {
  const whole = view.byteOffset === 0 && view.byteLength === view.buffer.byteLength;
  return (whole ? view.buffer : new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice().buffer) as ArrayBuffer;
}
