import { ConfigError, type ConfigWarning } from '../../config/config.js';
import { EnvReader } from '../../config/env-reader.js';
import { OUTPUT_SAMPLE_RATE } from '../../audio/constants.js';
import { toOpenAITools, type ToolDefinition } from '../tools.js';

/**
 * `AGENT_TYPE=sample_openai` settings, read once from the environment and validated. Every
 * setting here ends up in the `session.update` built by `sessionUpdate`. Nothing is ignored
 * silently: server-VAD tuning under `semantic_vad` (which the Python reference's own `.env`
 * carries) is ignored with a warning, as the reference ignores it.
 */
export interface OpenAISettings {
  apiKey: string;
  model: string;
  /** undefined → the `openai` package's default (https://api.openai.com/v1). */
  baseURL: string | undefined;
  voice: string;
  voiceSpeed: number;
  transcriptionModel: string;
  transcriptionLanguage: string | undefined;
  turnDetection:
    | { type: 'server_vad'; threshold?: number; silenceDurationMs?: number; prefixPaddingMs?: number }
    | { type: 'semantic_vad'; eagerness?: 'low' | 'medium' | 'high' | 'auto' }
    | null;
  noiseReduction: 'near_field' | 'far_field' | null;
  /** Settings read but not applied, for the agent to log once at start. */
  warnings: readonly ConfigWarning[];
}

/** The Python reference's defaults, so that its users hear the same assistant. */
export const OPENAI_DEFAULTS = {
  model: 'gpt-realtime',
  voice: 'alloy',
  voiceSpeed: 1.2,
  transcriptionModel: 'gpt-4o-transcribe',
  transcriptionLanguage: 'en',
  turnDetection: 'semantic_vad',
  /** server_vad tuning when server_vad is chosen without its own values. */
  vadThreshold: 0.9,
  vadSilenceDurationMs: 500,
  vadPrefixPaddingMs: 300,
  noiseReduction: 'near_field',
} as const;

const SERVER_VAD_TUNING = ['OPENAI_VAD_THRESHOLD', 'OPENAI_VAD_SILENCE_DURATION_MS', 'OPENAI_VAD_PREFIX_PADDING_MS'] as const;

type Env = Readonly<Record<string, string | undefined>>;


export function readOpenAISettings(env: Env): OpenAISettings {
  const r = new EnvReader(env);
  const warnings: ConfigWarning[] = [];
  const apiKey = r.required('OPENAI_API_KEY', 'AGENT_TYPE=sample_openai needs an OpenAI API key');
  const type = r.oneOf('OPENAI_TURN_DETECTION', ['server_vad', 'semantic_vad', 'none'] as const, OPENAI_DEFAULTS.turnDetection, 'OPENAI_VAD_TYPE');
  const threshold = r.num('OPENAI_VAD_THRESHOLD', { min: 0, max: 1 });
  const silenceDurationMs = r.num('OPENAI_VAD_SILENCE_DURATION_MS', { min: 0, max: 10_000, integer: true });
  const prefixPaddingMs = r.num('OPENAI_VAD_PREFIX_PADDING_MS', { min: 0, max: 10_000, integer: true });
  const eagerness = r.oneOf('OPENAI_VAD_EAGERNESS', ['low', 'medium', 'high', 'auto'] as const, undefined);
  let turnDetection: OpenAISettings['turnDetection'] = null;
  if (type === 'server_vad') {
    if (eagerness) throw new ConfigError('OPENAI_VAD_EAGERNESS', 'applies to OPENAI_TURN_DETECTION=semantic_vad only');
    turnDetection = {
      type,
      threshold: threshold ?? OPENAI_DEFAULTS.vadThreshold,
      silenceDurationMs: silenceDurationMs ?? OPENAI_DEFAULTS.vadSilenceDurationMs,
      prefixPaddingMs: prefixPaddingMs ?? OPENAI_DEFAULTS.vadPrefixPaddingMs,
    };
  } else {
    const ignored = SERVER_VAD_TUNING.filter((name) => r.raw(name));
    if (ignored.length > 0) {
      warnings.push({ variable: ignored.join(', '), message: `apply to OPENAI_VAD_TYPE=server_vad only; ignored with ${type}` });
    }
    if (type === 'semantic_vad') turnDetection = { type, eagerness };
  }
  // `OPENAI_NOISE_REDUCTION=` (present, empty) means off, as in the reference; unset means the default.
  const nr = r.isSetEmpty('OPENAI_NOISE_REDUCTION') ? 'off' : r.oneOf('OPENAI_NOISE_REDUCTION', ['near_field', 'far_field', 'off', 'none'] as const, OPENAI_DEFAULTS.noiseReduction);
  return {
    apiKey,
    model: r.str('OPENAI_MODEL', OPENAI_DEFAULTS.model),
    baseURL: r.url('OPENAI_BASE_URL'),
    voice: r.str('OPENAI_VOICE', OPENAI_DEFAULTS.voice),
    voiceSpeed: r.num('OPENAI_VOICE_SPEED', { min: 0.25, max: 1.5 }) ?? OPENAI_DEFAULTS.voiceSpeed,
    transcriptionModel: r.str('OPENAI_TRANSCRIPTION_MODEL', OPENAI_DEFAULTS.transcriptionModel),
    // Present and empty: no language hint (the service detects the language).
    transcriptionLanguage: r.isSetEmpty('OPENAI_TRANSCRIPTION_LANGUAGE') ? undefined : r.str('OPENAI_TRANSCRIPTION_LANGUAGE', OPENAI_DEFAULTS.transcriptionLanguage),
    turnDetection,
    noiseReduction: nr === 'off' || nr === 'none' ? null : nr,
    warnings,
  };
}

/**
 * The GA `session.update` for these settings. The connection is made without the beta header,
 * so the GA shape applies (`session.type`, `audio.input` / `audio.output`).
 */
export function sessionUpdate(s: OpenAISettings, instructions: string, tools: readonly ToolDefinition[]): { type: 'session.update'; session: Record<string, unknown> } {
  const pcm = { type: 'audio/pcm', rate: OUTPUT_SAMPLE_RATE };
  let turnDetection: Record<string, unknown> | null = null;
  if (s.turnDetection?.type === 'server_vad') {
    const td = s.turnDetection;
    turnDetection = dropUndefined({
      type: 'server_vad', threshold: td.threshold, silence_duration_ms: td.silenceDurationMs, prefix_padding_ms: td.prefixPaddingMs,
      create_response: true, interrupt_response: true,
    });
  } else if (s.turnDetection?.type === 'semantic_vad') {
    turnDetection = dropUndefined({ type: 'semantic_vad', eagerness: s.turnDetection.eagerness, create_response: true, interrupt_response: true });
  }
  return {
    type: 'session.update',
    session: {
      type: 'realtime',
      instructions,
      output_modalities: ['audio'],
      audio: {
        input: {
          format: pcm,
          transcription: dropUndefined({ model: s.transcriptionModel, language: s.transcriptionLanguage }),
          noise_reduction: s.noiseReduction ? { type: s.noiseReduction } : null,
          turn_detection: turnDetection,
        },
        output: dropUndefined({ format: pcm, voice: s.voice, speed: s.voiceSpeed }),
      },
      tools: toOpenAITools(tools),
      tool_choice: tools.length > 0 ? 'auto' : 'none',
    },
  };
}

function dropUndefined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}
