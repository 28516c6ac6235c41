import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../../config/config.js';
import { defaultVadModelPath } from './silero-vad.js';
import type { SegmenterOptions } from './speech-segmenter.js';

/** `AGENT_TYPE=local` settings, read from `config.env` and validated once at start (docs/agents-local.md). */
export interface LocalSettings {
  /** The segmenter's tuning (its frame size and rate come from the model), plus the VAD pool. */
  vad: Omit<SegmenterOptions, 'frameSamples' | 'sampleRate'> & { modelPath: string; threads: number };
  /** null: no recogniser configured (speech is detected, for barge-in, but not transcribed). */
  stt: { url: string; model: string; apiKey: string | undefined; language: string | undefined; prompt: string | undefined; timeoutMs: number } | null;
  /** null: the built-in responder answers. */
  llm: { url: string; model: string; apiKey: string | undefined; temperature: number | undefined; maxTokens: number | undefined; timeoutMs: number; historyMessages: number } | null;
}

type Env = Readonly<Record<string, string | undefined>>;

function text(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

function num(env: Env, name: string, fallback: number, min: number, max: number, integer = false): number {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v)) throw new ConfigError(name, `expected a number, got "${raw}"`);
  if (integer && !Number.isInteger(v)) throw new ConfigError(name, `expected an integer, got "${raw}"`);
  if (v < min || v > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${v}`);
  return v;
}

function optionalNum(env: Env, name: string, min: number, max: number, integer = false): number | undefined {
  return text(env, name) === undefined ? undefined : num(env, name, 0, min, max, integer);
}

function httpUrl(env: Env, name: string): string | undefined {
  const raw = text(env, name);
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `not a URL: "${raw}" (e.g. http://127.0.0.1:11434/v1)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(name, `must be an http:// or https:// URL, got ${url.protocol}`);
  return raw;
}

export function readLocalSettings(env: Env): LocalSettings {
  const modelPath = resolve(text(env, 'LOCAL_VAD_MODEL_PATH') ?? defaultVadModelPath());
  if (!existsSync(modelPath)) throw new ConfigError('LOCAL_VAD_MODEL_PATH', `no file at ${modelPath}`);
  const threshold = num(env, 'LOCAL_VAD_THRESHOLD', 0.5, 0.01, 0.99);
  const negativeThreshold = num(env, 'LOCAL_VAD_NEG_THRESHOLD', Math.max(0.01, threshold - 0.15), 0.01, 0.99);
  if (negativeThreshold > threshold) throw new ConfigError('LOCAL_VAD_NEG_THRESHOLD', `must not exceed LOCAL_VAD_THRESHOLD (${threshold}), got ${negativeThreshold}`);

  const sttUrl = httpUrl(env, 'LOCAL_STT_URL');
  const llmUrl = httpUrl(env, 'LOCAL_LLM_URL');
  const llmModel = text(env, 'LOCAL_LLM_MODEL');
  if (llmUrl && !llmModel) throw new ConfigError('LOCAL_LLM_MODEL', 'LOCAL_LLM_URL is set: name the model to ask (e.g. llama3.2 for Ollama; any name for llama.cpp\'s server)');
  const language = text(env, 'LOCAL_STT_LANGUAGE');
  if (language !== undefined && !/^[a-z]{2,3}$/.test(language)) throw new ConfigError('LOCAL_STT_LANGUAGE', `expected an ISO-639-1 code such as "en", got "${language}"`);

  return {
    vad: {
      modelPath,
      threshold,
      negativeThreshold,
      minSilenceMs: num(env, 'LOCAL_VAD_MIN_SILENCE_MS', 600, 100, 10_000, true),
      minSpeechMs: num(env, 'LOCAL_VAD_MIN_SPEECH_MS', 200, 32, 5000, true),
      speechPadMs: num(env, 'LOCAL_VAD_SPEECH_PAD_MS', 300, 0, 2000, true),
      maxSpeechMs: num(env, 'LOCAL_VAD_MAX_SPEECH_S', 30, 2, 300) * 1000,
      threads: num(env, 'LOCAL_VAD_THREADS', 1, 1, 64, true),
    },
    stt: sttUrl
      ? {
          url: sttUrl,
          model: text(env, 'LOCAL_STT_MODEL') ?? 'whisper-1',
          apiKey: text(env, 'LOCAL_STT_API_KEY'),
          language,
          prompt: text(env, 'LOCAL_STT_PROMPT'),
          timeoutMs: num(env, 'LOCAL_STT_TIMEOUT_MS', 30_000, 500, 600_000, true),
        }
      : null,
    llm: llmUrl
      ? {
          url: llmUrl,
          model: llmModel!,
          apiKey: text(env, 'LOCAL_LLM_API_KEY'),
          temperature: optionalNum(env, 'LOCAL_LLM_TEMPERATURE', 0, 2),
          maxTokens: optionalNum(env, 'LOCAL_LLM_MAX_TOKENS', 1, 100_000, true),
          timeoutMs: num(env, 'LOCAL_LLM_TIMEOUT_MS', 60_000, 500, 600_000, true),
          historyMessages: num(env, 'LOCAL_LLM_HISTORY_MESSAGES', 20, 1, 1000, true),
        }
      : null,
  };
}
