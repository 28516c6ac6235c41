import t from 'tap';
import { readLocalSettings } from './settings.js';

t.test('defaults: VAD on, no recogniser, built-in responder', async (t) => {
  const s = readLocalSettings({});
  t.match(s.vad, { threshold: 0.5, minSilenceMs: 600, minSpeechMs: 200, speechPadMs: 300, maxSpeechMs: 30_000, threads: 1 });
  t.ok(Math.abs(s.vad.negativeThreshold - 0.35) < 1e-9);
  t.match(s.vad.modelPath, /silero_vad_v5\.onnx$/);
  t.equal(s.stt, null);
  t.equal(s.llm, null);
});

t.test('servers', async (t) => {
  const s = readLocalSettings({
    LOCAL_STT_URL: 'http://127.0.0.1:8000/v1', LOCAL_STT_LANGUAGE: 'de',
    LOCAL_LLM_URL: 'http://localhost:11434/v1', LOCAL_LLM_MODEL: 'llama3.2', LOCAL_LLM_TEMPERATURE: '0.3', LOCAL_LLM_MAX_TOKENS: '200',
  });
  t.match(s.stt, { url: 'http://127.0.0.1:8000/v1', model: 'whisper-1', language: 'de', timeoutMs: 30_000 });
  t.match(s.llm, { url: 'http://localhost:11434/v1', model: 'llama3.2', temperature: 0.3, maxTokens: 200, historyMessages: 20 });
});

t.test('bad values stop the server, naming the variable', async (t) => {
  const bad: Array<[Record<string, string>, string]> = [
    [{ LOCAL_VAD_THRESHOLD: '2' }, 'LOCAL_VAD_THRESHOLD'],
    [{ LOCAL_VAD_THRESHOLD: '0.4', LOCAL_VAD_NEG_THRESHOLD: '0.6' }, 'LOCAL_VAD_NEG_THRESHOLD'],
    [{ LOCAL_VAD_MIN_SILENCE_MS: 'soon' }, 'LOCAL_VAD_MIN_SILENCE_MS'],
    [{ LOCAL_VAD_MODEL_PATH: '/nope.onnx' }, 'LOCAL_VAD_MODEL_PATH'],
    [{ LOCAL_LLM_URL: 'localhost:11434' }, 'LOCAL_LLM_URL'],
    [{ LOCAL_LLM_URL: 'ws://h/v1', LOCAL_LLM_MODEL: 'm' }, 'LOCAL_LLM_URL'],
    [{ LOCAL_LLM_URL: 'http://h/v1' }, 'LOCAL_LLM_MODEL'],
    [{ LOCAL_STT_URL: 'http://h/v1', LOCAL_STT_LANGUAGE: 'English' }, 'LOCAL_STT_LANGUAGE'],
    [{ LOCAL_LLM_URL: 'http://h/v1', LOCAL_LLM_MODEL: 'm', LOCAL_LLM_HISTORY_MESSAGES: '0' }, 'LOCAL_LLM_HISTORY_MESSAGES'],
  ];
  for (const [env, variable] of bad) t.throws(() => readLocalSettings(env), { name: 'ConfigError', variable }, variable);
});
