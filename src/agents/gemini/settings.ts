import { EndSensitivity, Modality, StartSensitivity, TurnCoverage, type LiveConnectConfig } from '@google/genai';
import { ConfigError } from '../../config/config.js';
import { EnvReader } from '../../config/env-reader.js';
import { toGeminiFunctionDeclarations, type ToolDefinition } from '../tools.js';

/** Gemini Live takes 16 kHz microphone audio and speaks at 24 kHz. */
export const GEMINI_INPUT_SAMPLE_RATE = 16_000;
export const GEMINI_OUTPUT_SAMPLE_RATE = 24_000;

/**
 * `AGENT_TYPE=sample_gemini` settings, read once and validated. Every one of them reaches the
 * Live `setup` message built by `liveConnectConfig`.
 */
export interface GeminiSettings {
  apiKey: string;
  model: string;
  /** undefined → the SDK's default (https://generativelanguage.googleapis.com). */
  baseUrl: string | undefined;
  /** undefined → the SDK's default (v1beta); proactive audio needs v1alpha. */
  apiVersion: string | undefined;
  voice: string;
  /** -1 dynamic, 0 off, else tokens; undefined → the model's default. */
  thinkingBudget: number | undefined;
  contextWindowCompression: { triggerTokens: number | undefined; targetTokens: number | undefined } | null;
  vad: {
    startSensitivity: StartSensitivity | undefined;
    endSensitivity: EndSensitivity | undefined;
    prefixPaddingMs: number | undefined;
    silenceDurationMs: number | undefined;
  };
  turnCoverage: TurnCoverage | undefined;
  proactiveAudio: boolean;
  enableSearch: boolean;
}

/**
 * The Python reference's defaults where they shape what the user hears: low start and end
 * sensitivity (fewer false barge-ins from the avatar's own voice, fewer cut-off sentences) and
 * the whole input in each turn. API version and thinking budget keep the service's defaults
 * (README: migrating).
 */
export const GEMINI_DEFAULTS = {
  model: 'gemini-2.5-flash-native-audio-preview-12-2025',
  voice: 'Leda',
  startSensitivity: StartSensitivity.START_SENSITIVITY_LOW,
  endSensitivity: EndSensitivity.END_SENSITIVITY_LOW,
  turnCoverage: 'TURN_INCLUDES_ALL_INPUT',
} as const;

type Env = Readonly<Record<string, string | undefined>>;

/**
 * `HIGH` / `LOW` or the full enum name (`START_SENSITIVITY_HIGH`); `UNSPECIFIED` (any spelling the
 * reference documents) leaves it to the service.
 */
function sensitivity<T extends string>(r: EnvReader, name: string, prefix: string, values: Record<'HIGH' | 'LOW', T>, fallback: T): T | undefined {
  const raw = r.optStr(name);
  if (!raw) return fallback;
  const short = raw.toUpperCase().replace(prefix, '');
  if (short === 'HIGH' || short === 'LOW') return values[short];
  if (short === 'UNSPECIFIED' || short === 'SENSITIVITY_UNSPECIFIED') return undefined;
  throw new ConfigError(name, `expected HIGH, LOW, ${prefix}HIGH, ${prefix}LOW or ${prefix}UNSPECIFIED`);
}

/** The reference's rate settings name the only rates Gemini Live speaks: accepted at those, refused otherwise. */
function checkSampleRates(r: EnvReader): void {
  for (const [name, supported, why] of [
    ['GEMINI_INPUT_SAMPLE_RATE', GEMINI_INPUT_SAMPLE_RATE, 'the microphone is sent to Gemini Live at 16 kHz'],
    ['GEMINI_OUTPUT_SAMPLE_RATE', GEMINI_OUTPUT_SAMPLE_RATE, 'Gemini Live speaks 24 kHz PCM16'],
  ] as const) {
    const v = r.num(name, { min: 1, max: 1_000_000, integer: true });
    if (v !== undefined && v !== supported) throw new ConfigError(name, `only ${supported} is supported (${why}), got ${v}; remove the line or set ${supported}`);
  }
}

export function readGeminiSettings(env: Env): GeminiSettings {
  const r = new EnvReader(env);
  const apiKey = r.required('GEMINI_API_KEY', 'AGENT_TYPE=sample_gemini needs a Gemini API key');
  const proactiveAudio = r.bool('GEMINI_PROACTIVE_AUDIO', false);
  const compression = r.bool('GEMINI_CONTEXT_WINDOW_COMPRESSION', true);
  const triggerTokens = r.num('GEMINI_CONTEXT_WINDOW_TRIGGER_TOKENS', { min: 1000, max: 10_000_000, integer: true });
  const targetTokens = r.num('GEMINI_CONTEXT_WINDOW_TARGET_TOKENS', { min: 0, max: 10_000_000, integer: true });
  if (!compression && (triggerTokens !== undefined || targetTokens !== undefined)) {
    throw new ConfigError(triggerTokens !== undefined ? 'GEMINI_CONTEXT_WINDOW_TRIGGER_TOKENS' : 'GEMINI_CONTEXT_WINDOW_TARGET_TOKENS', 'needs GEMINI_CONTEXT_WINDOW_COMPRESSION=true');
  }
  if (triggerTokens !== undefined && targetTokens !== undefined && targetTokens >= triggerTokens) {
    throw new ConfigError('GEMINI_CONTEXT_WINDOW_TARGET_TOKENS', 'must be below GEMINI_CONTEXT_WINDOW_TRIGGER_TOKENS');
  }
  checkSampleRates(r);
  const coverage = r.oneOf('GEMINI_TURN_COVERAGE', ['TURN_INCLUDES_ONLY_ACTIVITY', 'TURN_INCLUDES_ALL_INPUT', 'TURN_COVERAGE_UNSPECIFIED'] as const, GEMINI_DEFAULTS.turnCoverage);
  return {
    apiKey,
    model: r.str('GEMINI_MODEL', GEMINI_DEFAULTS.model),
    baseUrl: r.url('GEMINI_BASE_URL'),
    apiVersion: r.optStr('GEMINI_API_VERSION') ?? (proactiveAudio ? 'v1alpha' : undefined),
    voice: r.str('GEMINI_VOICE', GEMINI_DEFAULTS.voice),
    thinkingBudget: r.num('GEMINI_THINKING_BUDGET', { min: -1, max: 32_768, integer: true }),
    contextWindowCompression: compression ? { triggerTokens, targetTokens } : null,
    vad: {
      startSensitivity: sensitivity(r, 'GEMINI_VAD_START_SENSITIVITY', 'START_SENSITIVITY_', { HIGH: StartSensitivity.START_SENSITIVITY_HIGH, LOW: StartSensitivity.START_SENSITIVITY_LOW }, GEMINI_DEFAULTS.startSensitivity),
      endSensitivity: sensitivity(r, 'GEMINI_VAD_END_SENSITIVITY', 'END_SENSITIVITY_', { HIGH: EndSensitivity.END_SENSITIVITY_HIGH, LOW: EndSensitivity.END_SENSITIVITY_LOW }, GEMINI_DEFAULTS.endSensitivity),
      prefixPaddingMs: r.num('GEMINI_VAD_PREFIX_PADDING_MS', { min: 0, max: 10_000, integer: true }),
      silenceDurationMs: r.num('GEMINI_VAD_SILENCE_DURATION_MS', { min: 0, max: 10_000, integer: true }),
    },
    turnCoverage: coverage === 'TURN_COVERAGE_UNSPECIFIED' ? undefined : TurnCoverage[coverage],
    proactiveAudio,
    enableSearch: r.bool('GEMINI_ENABLE_SEARCH', false, 'GEMINI_GOOGLE_SEARCH_GROUNDING'),
  };
}

/** The `live.connect` config: audio out, both transcriptions on, every setting applied. */
export function liveConnectConfig(s: GeminiSettings, instructions: string, tools: readonly ToolDefinition[], resumptionHandle?: string): LiveConnectConfig {
  const config: LiveConnectConfig = {
    responseModalities: [Modality.AUDIO],
    systemInstruction: instructions,
    speechConfig: { voiceConfig: { prebuiltVoiceConfig: { voiceName: s.voice } } },
    inputAudioTranscription: {},
    outputAudioTranscription: {},
    realtimeInputConfig: {
      automaticActivityDetection: {
        disabled: false,
        ...(s.vad.startSensitivity && { startOfSpeechSensitivity: s.vad.startSensitivity }),
        ...(s.vad.endSensitivity && { endOfSpeechSensitivity: s.vad.endSensitivity }),
        ...(s.vad.prefixPaddingMs !== undefined && { prefixPaddingMs: s.vad.prefixPaddingMs }),
        ...(s.vad.silenceDurationMs !== undefined && { silenceDurationMs: s.vad.silenceDurationMs }),
      },
      ...(s.turnCoverage && { turnCoverage: s.turnCoverage }),
    },
    // Resumption lets a reconnect (after a drop or a goAway) continue the same conversation.
    sessionResumption: resumptionHandle ? { handle: resumptionHandle } : {},
  };
  if (s.thinkingBudget !== undefined) config.thinkingConfig = { thinkingBudget: s.thinkingBudget };
  if (s.contextWindowCompression) {
    const c = s.contextWindowCompression;
    config.contextWindowCompression = {
      ...(c.triggerTokens !== undefined && { triggerTokens: String(c.triggerTokens) }),
      slidingWindow: c.targetTokens !== undefined ? { targetTokens: String(c.targetTokens) } : {},
    };
  }
  if (s.proactiveAudio) config.proactivity = { proactiveAudio: true };
  const toolList: NonNullable<LiveConnectConfig['tools']> = [];
  if (tools.length > 0) toolList.push({ functionDeclarations: toGeminiFunctionDeclarations(tools) });
  if (s.enableSearch) toolList.push({ googleSearch: {} });
  if (toolList.length > 0) config.tools = toolList;
  return config;
}
