import type { Test as Tap } from 'tap';
import { rmSync } from 'node:fs';
import { startServer } from './server-process.js';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Every variable of the Python reference server's configuration table (its README's required and
 * optional settings) at its documented default, plus the compose default of KNOWLEDGE_BASE_SOURCE.
 * Facts read from its public README; "(auto-generated)" and "(none)" are written as empty values.
 */
export const REFERENCE_DEFAULTS: Record<string, string> = {
  OPENAI_API_KEY: 'sk-your-api-key-here',
  GEMINI_API_KEY: 'your-gemini-api-key-here',
  AGENT_URL: '',
  OPENAI_MODEL: 'gpt-realtime',
  OPENAI_VOICE: 'alloy',
  OPENAI_VOICE_SPEED: '1.2',
  OPENAI_TRANSCRIPT_SPEED: '15.0',
  OPENAI_TRANSCRIPTION_MODEL: 'gpt-4o-transcribe',
  OPENAI_TRANSCRIPTION_LANGUAGE: 'en',
  OPENAI_VAD_TYPE: 'semantic_vad',
  OPENAI_VAD_THRESHOLD: '0.9',
  OPENAI_VAD_SILENCE_DURATION_MS: '500',
  OPENAI_VAD_PREFIX_PADDING_MS: '300',
  OPENAI_NOISE_REDUCTION: 'near_field',
  GEMINI_MODEL: 'gemini-2.5-flash-native-audio-preview-12-2025',
  GEMINI_VOICE: 'Leda',
  GEMINI_API_VERSION: 'v1alpha',
  GEMINI_THINKING_BUDGET: '-1',
  GEMINI_GOOGLE_SEARCH_GROUNDING: 'false',
  GEMINI_PROACTIVE_AUDIO: 'false',
  GEMINI_CONTEXT_WINDOW_COMPRESSION: 'true',
  GEMINI_INPUT_SAMPLE_RATE: '16000',
  GEMINI_OUTPUT_SAMPLE_RATE: '24000',
  GEMINI_TRANSCRIPT_SPEED: '15.0',
  GEMINI_VAD_START_SENSITIVITY: 'START_SENSITIVITY_LOW',
  GEMINI_VAD_END_SENSITIVITY: 'END_SENSITIVITY_LOW',
  GEMINI_TURN_COVERAGE: 'TURN_INCLUDES_ALL_INPUT',
  ASSISTANT_INSTRUCTIONS: 'You are a helpful and friendly AI assistant. Be concise in your responses.',
  ONNX_MODEL_PATH: './pretrained_models/wav2arkit_cpu.onnx',
  SERVER_HOST: '0.0.0.0',
  SERVER_PORT: '8080',
  USE_SSL: 'false',
  DEBUG: 'false',
  DEBUG_AUDIO_CAPTURE: 'false',
  INPUT_SAMPLE_RATE: '24000',
  OUTPUT_SAMPLE_RATE: '24000',
  WAV2ARKIT_SAMPLE_RATE: '16000',
  BLENDSHAPE_FPS: '30',
  AUDIO_CHUNK_DURATION: '0.5',
  TRANSCRIPT_CHARS_PER_SECOND: '16.0',
  AUTH_ENABLED: 'false',
  AUTH_SECRET_KEY: '',
  AUTH_TOKEN_TTL: '3600',
  AUTH_ALLOWED_ORIGINS: 'http://localhost:5173,http://localhost:5174,http://localhost:5175',
  AUTH_ENABLE_RATE_LIMITING: 'true',
  KNOWLEDGE_BASE_SOURCE: 'none',
};

/** A folder laid out like a checkout (model, dependencies) holding only this `.env`. */
export function checkoutWithEnv(dotenv: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'reference-env-'));
  symlinkSync(join(ROOT, 'pretrained_models'), join(dir, 'pretrained_models'));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  writeFileSync(join(dir, '.env'), dotenv);
  return dir;
}

/**
 * One AGENT_TYPE started from a `.env` holding REFERENCE_DEFAULTS: it must start, warn about
 * what it does not apply, keep the keys out of its output and serve /health.
 */
export function testReferenceEnvStart(t: Tap, agentType: string, extra: Record<string, string> = {}): void {
  t.test(`reference .env at its documented defaults, AGENT_TYPE=${agentType}: starts, warns, serves /health`, async (t) => {
    const values = { ...REFERENCE_DEFAULTS, AGENT_TYPE: agentType, ...extra };
    const dir = checkoutWithEnv(Object.entries(values).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    // Only what a test must own comes from the real environment (which wins over .env): a free
    // loopback port and one inference worker.
    const server = await startServer({}, 120_000, dir);
    t.teardown(() => server.stop());
    const listening = server.logs.find((l) => l.msg === 'listening')!;
    t.equal(listening.agentType, agentType, 'AGENT_TYPE read from .env');
    const warnings = server.logs.filter((l) => l.level === 40);
    t.ok(warnings.some((w) => w.variable === 'ONNX_MODEL_PATH'), 'the missing reference model is replaced by the shipped one, with a warning');
    if (agentType === 'sample_openai') {
      t.ok(warnings.some((w) => w.variable === 'OPENAI_VAD_THRESHOLD, OPENAI_VAD_SILENCE_DURATION_MS, OPENAI_VAD_PREFIX_PADDING_MS'), 'semantic_vad: the server-VAD tuning is ignored with a warning');
    }
    t.notOk(server.output().includes('configuration error'), 'no configuration error');
    t.notOk(server.output().includes('sk-your-api-key-here') || server.output().includes('your-gemini-api-key-here'), 'the keys are never logged');
    const res = await fetch(`http://127.0.0.1:${server.port}/health`);
    t.equal(res.status, 200, '/health');
    t.equal(await server.stop(), 0, 'clean exit');
  });
}
