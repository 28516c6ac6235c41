import t from 'tap';
import { ConfigError } from '../../config/config.js';
import { TRIGGER_CONFETTI } from '../tools.js';
import { readOpenAISettings, sessionUpdate } from './settings.js';
import { instructionsWithKnowledgeBase } from '../knowledge-base.js';
import { redactSecrets } from '../redact-secrets.js';

const KEY = 'sk-abc123def456ghi789';

t.test('defaults are the Python reference\'s: semantic VAD, speed 1.2, transcription in English', async (t) => {
  const s = readOpenAISettings({ OPENAI_API_KEY: KEY });
  t.match(s, { model: 'gpt-realtime', voice: 'alloy', voiceSpeed: 1.2, transcriptionLanguage: 'en', baseURL: undefined, noiseReduction: 'near_field', turnDetection: { type: 'semantic_vad' } });
  t.same(s.warnings, []);
  const u = sessionUpdate(s, 'hi', []);
  t.match(u.session, {
    type: 'realtime', instructions: 'hi', tool_choice: 'none',
    audio: { input: { turn_detection: { type: 'semantic_vad' }, noise_reduction: { type: 'near_field' }, transcription: { language: 'en' } }, output: { speed: 1.2 } },
  });
  t.notOk('eagerness' in ((u.session.audio as any).input.turn_detection), 'unset eagerness is left to the service');
  const server = readOpenAISettings({ OPENAI_API_KEY: KEY, OPENAI_VAD_TYPE: 'server_vad' });
  t.same(server.turnDetection, { type: 'server_vad', threshold: 0.9, silenceDurationMs: 500, prefixPaddingMs: 300 }, 'server_vad tuning defaults are the reference\'s too');
});

t.test('a reference .env: server-VAD tuning under semantic_vad is ignored with a warning, not refused', async (t) => {
  const s = readOpenAISettings({
    OPENAI_API_KEY: KEY, OPENAI_VAD_TYPE: 'semantic_vad', OPENAI_VAD_THRESHOLD: '0.9', OPENAI_VAD_SILENCE_DURATION_MS: '500', OPENAI_VAD_PREFIX_PADDING_MS: '300',
  });
  t.same(s.turnDetection, { type: 'semantic_vad', eagerness: undefined });
  t.equal(s.warnings.length, 1, 'one warning for the three');
  t.match(s.warnings[0], { variable: 'OPENAI_VAD_THRESHOLD, OPENAI_VAD_SILENCE_DURATION_MS, OPENAI_VAD_PREFIX_PADDING_MS', message: /server_vad only; ignored with semantic_vad/ });
  t.same((sessionUpdate(s, 'x', []).session.audio as any).input.turn_detection, { type: 'semantic_vad', create_response: true, interrupt_response: true }, 'none of them reaches OpenAI');
  const manual = readOpenAISettings({ OPENAI_API_KEY: KEY, OPENAI_VAD_TYPE: 'none', OPENAI_VAD_THRESHOLD: '0.5' });
  t.match(manual.warnings, [{ variable: 'OPENAI_VAD_THRESHOLD', message: /ignored with none/ }]);
  t.throws(() => readOpenAISettings({ OPENAI_API_KEY: KEY, OPENAI_VAD_TYPE: 'semantic_vad', OPENAI_VAD_THRESHOLD: 'high' }), { variable: 'OPENAI_VAD_THRESHOLD' } as object as Error, 'a value that is not a number is still an error');
});

t.test('OPENAI_NOISE_REDUCTION= (empty) means off; OPENAI_TRANSCRIPTION_LANGUAGE= (empty) means no hint', async (t) => {
  const s = readOpenAISettings({ OPENAI_API_KEY: KEY, OPENAI_NOISE_REDUCTION: '', OPENAI_TRANSCRIPTION_LANGUAGE: ' ' });
  t.equal(s.noiseReduction, null);
  t.equal(s.transcriptionLanguage, undefined);
  const input = (sessionUpdate(s, 'x', []).session.audio as any).input;
  t.equal(input.noise_reduction, null);
  t.notOk('language' in input.transcription);
  t.equal(readOpenAISettings({ OPENAI_API_KEY: KEY, OPENAI_NOISE_REDUCTION: 'far_field' }).noiseReduction, 'far_field');
});

t.test('semantic VAD and manual turns', async (t) => {
  const sem = readOpenAISettings({ OPENAI_API_KEY: KEY, OPENAI_VAD_TYPE: 'semantic_vad', OPENAI_VAD_EAGERNESS: 'high', OPENAI_NOISE_REDUCTION: 'off' });
  const u = sessionUpdate(sem, 'x', [TRIGGER_CONFETTI]);
  t.same((u.session.audio as any).input.turn_detection, { type: 'semantic_vad', eagerness: 'high', create_response: true, interrupt_response: true });
  t.equal((u.session.audio as any).input.noise_reduction, null);
  t.equal(u.session.tool_choice, 'auto');
  const none = readOpenAISettings({ OPENAI_API_KEY: KEY, OPENAI_TURN_DETECTION: 'none' });
  t.equal((sessionUpdate(none, 'x', []).session.audio as any).input.turn_detection, null);
});

t.test('bad values name the variable and never echo it', async (t) => {
  t.throws(() => readOpenAISettings({}), new ConfigError('OPENAI_API_KEY', 'AGENT_TYPE=sample_openai needs an OpenAI API key'));
  const cases: Array<[Record<string, string>, string]> = [
    [{ OPENAI_VOICE_SPEED: '3' }, 'OPENAI_VOICE_SPEED'],
    [{ OPENAI_VAD_THRESHOLD: 'high' }, 'OPENAI_VAD_THRESHOLD'],
    [{ OPENAI_TURN_DETECTION: 'magic' }, 'OPENAI_TURN_DETECTION'],
    [{ OPENAI_TURN_DETECTION: 'server_vad', OPENAI_VAD_EAGERNESS: 'low' }, 'OPENAI_VAD_EAGERNESS'],
    [{ OPENAI_NOISE_REDUCTION: 'loud' }, 'OPENAI_NOISE_REDUCTION'],
    [{ OPENAI_BASE_URL: 'not a url' }, 'OPENAI_BASE_URL'],
    [{ OPENAI_VAD_PREFIX_PADDING_MS: '1.5' }, 'OPENAI_VAD_PREFIX_PADDING_MS'],
  ];
  for (const [env, variable] of cases) {
    t.throws(() => readOpenAISettings({ OPENAI_API_KEY: KEY, ...env }), { variable } as object as Error, variable);
  }
  try {
    readOpenAISettings({ OPENAI_API_KEY: KEY, OPENAI_VAD_THRESHOLD: KEY });
    t.fail('should throw');
  } catch (err) {
    t.notMatch((err as Error).message, KEY, 'the bad value is not echoed');
  }
});

t.test('knowledge base is appended to the instructions', async (t) => {
  t.equal(instructionsWithKnowledgeBase('Be brief.', ''), 'Be brief.');
  const s = instructionsWithKnowledgeBase('Be brief.', 'We open at 9.');
  t.ok(s.startsWith('Be brief.\n\n'));
  t.match(s, /<knowledge_base>\nWe open at 9.\n<\/knowledge_base>$/);
});

t.test('redaction', async (t) => {
  t.equal(redactSecrets(`bad key ${KEY}!`, [KEY]), 'bad key [redacted]!');
  t.equal(redactSecrets('Incorrect API key provided: sk-proj-****abcd', []), 'Incorrect API key provided: sk-[redacted]');
  t.equal(redactSecrets('wss://h/ws?key=AIzaSyXXXXXXXXXXXXXXX&x=1', []), 'wss://h/ws?key=[redacted]&x=1');
});
