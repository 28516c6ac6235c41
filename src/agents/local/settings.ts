import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../../config/config.js';
import { EnvReader } from '../../config/env-reader.js';
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

function httpUrl(r: EnvReader, name: string): string | undefined {
  const raw = r.optStr(name);
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
  const r = new EnvReader(env);
  const modelPath = resolve(r.optStr('LOCAL_VAD_MODEL_PATH') ?? defaultVadModelPath());
  if (!existsSync(modelPath)) throw new ConfigError('LOCAL_VAD_MODEL_PATH', `no file at ${modelPath}`);
  const threshold = r.numOr('LOCAL_VAD_THRESHOLD', 0.5, { min: 0.01, max: 0.99 });
  const negativeThreshold = r.numOr('LOCAL_VAD_NEG_THRESHOLD', Math.max(0.01, threshold - 0.15), { min: 0.01, max: 0.99 });
  if (negativeThreshold > threshold) throw new ConfigError('LOCAL_VAD_NEG_THRESHOLD', `must not exceed LOCAL_VAD_THRESHOLD (${threshold}), got ${negativeThreshold}`);

  const sttUrl = httpUrl(r, 'LOCAL_STT_URL');
  const llmUrl = httpUrl(r, 'LOCAL_LLM_URL');
  const llmModel = r.optStr('LOCAL_LLM_MODEL');
  if (llmUrl && !llmModel) throw new ConfigError('LOCAL_LLM_MODEL', 'LOCAL_LLM_URL is set: name the model to ask (e.g. llama3.2 for Ollama; any name for llama.cpp\'s server)');
  const language = r.optStr('LOCAL_STT_LANGUAGE');
  if (language !== undefined && !/^[a-z]{2,3}$/.test(language)) throw new ConfigError('LOCAL_STT_LANGUAGE', `expected an ISO-639-1 code such as "en", got "${language}"`);

  return {
    vad: {
      modelPath,
      threshold,
      negativeThreshold,
      minSilenceMs: r.numOr('LOCAL_VAD_MIN_SILENCE_MS', 600, { min: 100, max: 10_000, integer: true }),
      minSpeechMs: r.numOr('LOCAL_VAD_MIN_SPEECH_MS', 200, { min: 32, max: 5000, integer: true }),
      speechPadMs: r.numOr('LOCAL_VAD_SPEECH_PAD_MS', 300, { min: 0, max: 2000, integer: true }),
      maxSpeechMs: r.numOr('LOCAL_VAD_MAX_SPEECH_S', 30, { min: 2, max: 300 }) * 1000,
      threads: r.numOr('LOCAL_VAD_THREADS', 1, { min: 1, max: 64, integer: true }),
    },
    stt: sttUrl
      ? {
          url: sttUrl,
          model: r.optStr('LOCAL_STT_MODEL') ?? 'whisper-1',
          apiKey: r.optStr('LOCAL_STT_API_KEY'),
          language,
          prompt: r.optStr('LOCAL_STT_PROMPT'),
          timeoutMs: r.numOr('LOCAL_STT_TIMEOUT_MS', 30_000, { min: 500, max: 600_000, integer: true }),
        }
      : null,
    llm: llmUrl
      ? {
          url: llmUrl,
          model: llmModel!,
          apiKey: r.optStr('LOCAL_LLM_API_KEY'),
          temperature: r.num('LOCAL_LLM_TEMPERATURE', { min: 0, max: 2 }),
          maxTokens: r.num('LOCAL_LLM_MAX_TOKENS', { min: 1, max: 100_000, integer: true }),
          timeoutMs: r.numOr('LOCAL_LLM_TIMEOUT_MS', 60_000, { min: 500, max: 600_000, integer: true }),
          historyMessages: r.numOr('LOCAL_LLM_HISTORY_MESSAGES', 20, { min: 1, max: 1000, integer: true }),
        }
      : null,
  };
}
