import t from 'tap';
import { ConfigError } from '../../config/config.js';
import { TRIGGER_CONFETTI } from '../tools.js';
import { readOpenAISettings, sessionUpdate } from './settings.js';
import { instructionsWithKnowledgeBase } from '../knowledge-base.js';
import { redactSecrets } from '../redact-secrets.js';

const KEY = 'sk-abc123def456ghi789';

t.test('defaults', async (t) => {
  const s = readOpenAISettings({ OPENAI_API_KEY: KEY });
  t.match(s, { model: 'gpt-realtime', voice: 'alloy', voiceSpeed: undefined, baseURL: undefined, noiseReduction: 'near_field', turnDetection: { type: 'server_vad' } });
  const u = sessionUpdate(s, 'hi', []);
  t.match(u.session, { type: 'realtime', instructions: 'hi', tool_choice: 'none', audio: { input: { turn_detection: { type: 'server_vad' }, noise_reduction: { type: 'near_field' } } } });
  t.notOk('threshold' in ((u.session.audio as any).input.turn_detection), 'unset values are left to the service');
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
    [{ OPENAI_TURN_DETECTION: 'semantic_vad', OPENAI_VAD_SILENCE_DURATION_MS: '500' }, 'OPENAI_VAD_SILENCE_DURATION_MS'],
    [{ OPENAI_VAD_EAGERNESS: 'low' }, 'OPENAI_VAD_EAGERNESS'],
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
