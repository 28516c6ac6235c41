import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../../config/config.js';
import { EnvReader } from '../../config/env-reader.js';
import { DEFAULT_MAX_SENTENCE_CHARS } from '../offline/sentences.js';
import { defaultVadModelPath } from '../local/silero-vad.js';
import type { SegmenterOptions } from '../local/speech-segmenter.js';

/**
 * The Claw agents' voice settings, under the reference's names (STT_*, TTS_*), each also
 * accepted with the agent's prefix (ZEROCLAW_STT_MODEL, OPENCLAW_TTS_VOICE_NAME…, which the
 * reference documents but never reads); the prefixed name wins. Read and validated once at start.
 */
export interface VoiceSettings {
  /** null: speech is detected (barge-in) but not transcribed; `sttOffReason` says why. */
  stt: { url: string; apiKey: string | undefined; model: string; language: string | undefined; prompt: string | undefined; timeoutMs: number } | null;
  sttOffReason: string;
  /** null: the built-in flite voice speaks; `ttsOffReason` says why. */
  tts: { url: string; apiKey: string | undefined; model: string; voice: string; speed: number; timeoutMs: number } | null;
  ttsOffReason: string;
  /** Piper tuning the reference reads; only the length scale has an OpenAI-API equivalent (speed). */
  piper: { voicePath: string | undefined; onnxModelDir: string | undefined; noiseScale: number; noiseWScale: number; lengthScale: number };
  sentenceMaxChars: number;
  vad: Omit<SegmenterOptions, 'frameSamples' | 'sampleRate'> & { modelPath: string; threads: number };
}

/** Reference defaults (faster-whisper small.en, Piper en_US-hfc_female-medium, Silero v5 thresholds). */
export const VOICE_DEFAULTS = {
  sttModel: 'small.en',
  ttsVoice: 'en_US-hfc_female-medium',
  ttsModel: 'tts-1',
  vadStart: 0.6,
  vadEnd: 0.35,
  vadMinSilenceMs: 280,
  /** Barge-in after 4 consecutive 32 ms speech frames. */
  vadMinSpeechMs: 128,
  noiseScale: 0.75,
  noiseWScale: 0.8,
  lengthScale: 0.95,
} as const;

/** The speech server (TTS_*) of any voice agent: `local` reads the plain names, the Claw agents theirs too. */
export interface SpeechServerSettings {
  /** null: the built-in flite voice speaks; `ttsOffReason` says why. */
  tts: VoiceSettings['tts'];
  ttsOffReason: string;
  piper: VoiceSettings['piper'];
}

type Env = Readonly<Record<string, string | undefined>>;

/** Readers for a setting under the agent's prefix first, then the plain name. */
function prefixedReader(env: Env, prefix: VoicePrefix | null) {
  const r = new EnvReader(env);
  const names = (name: string): string[] => (prefix ? [`${prefix}_${name}`, name] : [name]);
  const first = (name: string): string => names(name)[0]!;
  const rest = (name: string): string[] => names(name).slice(1);
  return {
    r,
    names,
    str: (name: string, fallback: string): string => r.str(first(name), fallback, ...rest(name)),
    opt: (name: string): string | undefined => r.optStr(first(name), ...rest(name)),
    num: (name: string, fallback: number, min: number, max: number, integer = false): number => r.num(first(name), { min, max, integer }, ...rest(name)) ?? fallback,
    bool: (name: string, fallback: boolean): boolean => r.bool(first(name), fallback, ...rest(name)),
    url: (name: string): string | undefined => {
      const hit = r.raw(...names(name));
      if (!hit) return undefined;
      const u = new EnvReader({ [hit.name]: hit.value }).url(hit.name);
      if (u && !/^https?:/i.test(u)) throw new ConfigError(hit.name, 'expected an http:// or https:// URL');
      return u;
    },
  };
}

export type VoicePrefix = 'OPENCLAW' | 'ZEROCLAW';

/** TTS_* (each also under `prefix`, which wins): the OpenAI-compatible speech server, or why flite speaks. */
export function readSpeechServerSettings(env: Env, prefix: VoicePrefix | null = null): SpeechServerSettings {
  const { opt, str, num, bool, url } = prefixedReader(env, prefix);
  const ttsEnabled = bool('TTS_ENABLED', true);
  const ttsUrl = url('TTS_BASE_URL');
  const lengthScale = num('TTS_LENGTH_SCALE', VOICE_DEFAULTS.lengthScale, 0.25, 4);
  return {
    tts: ttsEnabled && ttsUrl
      ? { url: ttsUrl, apiKey: opt('TTS_API_KEY'), model: str('TTS_MODEL', VOICE_DEFAULTS.ttsModel), voice: str('TTS_VOICE_NAME', VOICE_DEFAULTS.ttsVoice), speed: 1 / lengthScale, timeoutMs: num('TTS_TIMEOUT_MS', 15_000, 500, 600_000, true) }
      : null,
    ttsOffReason: !ttsEnabled ? 'TTS_ENABLED=false' : 'no speech server configured (TTS_BASE_URL unset)',
    piper: {
      voicePath: opt('TTS_VOICE_PATH'),
      onnxModelDir: opt('TTS_ONNX_MODEL_DIR'),
      noiseScale: num('TTS_NOISE_SCALE', VOICE_DEFAULTS.noiseScale, 0, 2),
      noiseWScale: num('TTS_NOISE_W_SCALE', VOICE_DEFAULTS.noiseWScale, 0, 2),
      lengthScale,
    },
  };
}

export function readVoiceSettings(env: Env, prefix: VoicePrefix): VoiceSettings {
  const { r, names, opt, str, num, bool, url } = prefixedReader(env, prefix);
  const sttEnabled = bool('STT_ENABLED', true);
  const sttUrl = url('STT_BASE_URL');
  const language = opt('STT_LANGUAGE');
  if (language !== undefined && !/^[a-z]{2,3}$/.test(language)) throw new ConfigError(r.raw(...names('STT_LANGUAGE'))!.name, 'expected an ISO-639-1 code such as "en"');
  const start = num('STT_VAD_START_THRESHOLD', VOICE_DEFAULTS.vadStart, 0.01, 0.99);
  const end = num('STT_VAD_END_THRESHOLD', VOICE_DEFAULTS.vadEnd, 0.01, 0.99);
  if (end > start) throw new ConfigError(r.raw(...names('STT_VAD_END_THRESHOLD'))?.name ?? 'STT_VAD_END_THRESHOLD', `must not exceed STT_VAD_START_THRESHOLD (${start})`);
  const modelPath = resolve(r.optStr('LOCAL_VAD_MODEL_PATH') ?? defaultVadModelPath());
  if (!existsSync(modelPath)) throw new ConfigError('LOCAL_VAD_MODEL_PATH', `no file at ${modelPath}`);

  return {
    stt: sttEnabled && sttUrl
      ? { url: sttUrl, apiKey: opt('STT_API_KEY'), model: str('STT_MODEL', VOICE_DEFAULTS.sttModel), language, prompt: opt('STT_INITIAL_PROMPT'), timeoutMs: num('STT_TIMEOUT_MS', 30_000, 500, 600_000, true) }
      : null,
    sttOffReason: !sttEnabled ? 'STT_ENABLED=false' : 'set STT_BASE_URL',
    ...readSpeechServerSettings(env, prefix),
    sentenceMaxChars: num('TTS_SENTENCE_MAX_CHARS', DEFAULT_MAX_SENTENCE_CHARS, 20, 2000, true),
    vad: {
      modelPath,
      threads: 1,
      threshold: start,
      negativeThreshold: end,
      minSilenceMs: num('STT_VAD_MIN_SILENCE_MS', VOICE_DEFAULTS.vadMinSilenceMs, 32, 10_000, true),
      minSpeechMs: VOICE_DEFAULTS.vadMinSpeechMs,
      speechPadMs: 300,
      maxSpeechMs: 30_000,
    },
  };
}
