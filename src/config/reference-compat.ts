import { existsSync } from 'node:fs';
import { normalize, resolve } from 'node:path';
import { FRAME_RATE, MODEL_SAMPLE_RATE, OUTPUT_SAMPLE_RATE } from '../audio/constants.js';
import { ConfigError, type ConfigWarning } from './config-error.js';
import { EnvReader } from './env-reader.js';

/**
 * What the Python reference server's settings mean here, so that its `.env` starts this server
 * unchanged (docs/migrating-from-the-python-server.md). Only settings whose reference meaning
 * needs more than "same name, same value" live here.
 */

type Env = Readonly<Record<string, string | undefined>>;

/** The reference's default `ONNX_MODEL_PATH`: a model its users download themselves. */
export const REFERENCE_MODEL_PATH = 'pretrained_models/wav2arkit_cpu.onnx';

/**
 * The lip-sync model file. A missing file is fatal, except the reference's default path: a
 * reference `.env` names it whether or not the file was ever downloaded, so our shipped model
 * is used instead, with a warning that says so.
 */
export function lipsyncModelPath(env: Env, shippedModelPath: string, warnings: ConfigWarning[]): string {
  const given = new EnvReader(env).str('ONNX_MODEL_PATH', shippedModelPath);
  const path = resolve(given);
  if (existsSync(path)) return path;
  if (normalize(given) === normalize(REFERENCE_MODEL_PATH)) {
    warnings.push({
      variable: 'ONNX_MODEL_PATH',
      message: `no file at ${path} (the Python reference's default model, downloaded separately): using the shipped model ${shippedModelPath} instead`,
    });
    return resolve(shippedModelPath);
  }
  throw new ConfigError('ONNX_MODEL_PATH', `no file at ${path}`);
}

/**
 * The reference's audio-rate and frame-rate settings. The widget protocol fixes 24 kHz PCM16 both
 * ways and 1/30 s of audio per frame, and the lip-sync model takes 16 kHz, so each is accepted at
 * that value only (it is what the reference documents as its default) and refused, naming the
 * supported value, at any other.
 */
export function checkReferenceSampleRates(env: Env): void {
  const r = new EnvReader(env);
  const fixed: Array<[string, number, string]> = [
    ['INPUT_SAMPLE_RATE', OUTPUT_SAMPLE_RATE, 'the widget protocol sends microphone audio as 24 kHz PCM16'],
    ['OUTPUT_SAMPLE_RATE', OUTPUT_SAMPLE_RATE, 'the widget protocol plays 24 kHz PCM16'],
    ['WAV2ARKIT_SAMPLE_RATE', MODEL_SAMPLE_RATE, 'the lip-sync models take 16 kHz audio'],
    ['BLENDSHAPE_FPS', FRAME_RATE, 'the widget protocol carries 1/30 s of audio per sync_frame'],
  ];
  for (const [name, supported, why] of fixed) {
    const v = r.num(name, { min: 1, max: 1_000_000, integer: true });
    if (v !== undefined && v !== supported) throw new ConfigError(name, `only ${supported} is supported (${why}), got ${v}; remove the line or set ${supported}`);
  }
}

/** `KNOWLEDGE_BASE_SOURCE`: unset, blank or `none` (the reference's compose default) mean no knowledge base. */
export function knowledgeBaseSource(env: Env): string {
  const v = new EnvReader(env).str('KNOWLEDGE_BASE_SOURCE', '');
  return v.toLowerCase() === 'none' ? '' : v;
}

/**
 * `AUTH_ENABLE_RATE_LIMITING` (reference name, default true): false turns off our connection and
 * message rate limits, which the server then applies as unlimited buckets.
 */
export function rateLimitingEnabled(env: Env, warnings: ConfigWarning[]): boolean {
  const enabled = new EnvReader(env).bool('AUTH_ENABLE_RATE_LIMITING', true);
  if (!enabled) {
    warnings.push({ variable: 'AUTH_ENABLE_RATE_LIMITING', message: 'false: connection (per origin and per address) and message rate limits are off (message size, session count and slow-client limits still apply)' });
  }
  return enabled;
}
