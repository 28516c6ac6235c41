import t from 'tap';
import { EndSensitivity, StartSensitivity, TurnCoverage } from '@google/genai';
import { liveConnectConfig, readGeminiSettings } from './settings.js';

const KEY = 'AIzaTESTKEY0123456789';

t.test('defaults: audio out, transcriptions on, compression on, resumption on', async (t) => {
  const s = readGeminiSettings({ GEMINI_API_KEY: KEY });
  t.match(s, { model: 'gemini-2.5-flash-native-audio-preview-12-2025', voice: 'Leda', apiVersion: undefined, proactiveAudio: false, enableSearch: false });
  const c = liveConnectConfig(s, 'hi', []);
  t.match(c, { responseModalities: ['AUDIO'], systemInstruction: 'hi', inputAudioTranscription: {}, outputAudioTranscription: {}, contextWindowCompression: { slidingWindow: {} }, sessionResumption: {} });
  t.notOk(c.thinkingConfig);
  t.notOk(c.tools);
  t.same(liveConnectConfig(s, 'hi', [], 'h1').sessionResumption, { handle: 'h1' });
});

t.test('reference defaults: low start and end sensitivity, the whole input in each turn; UNSPECIFIED leaves it to the service', async (t) => {
  const s = readGeminiSettings({ GEMINI_API_KEY: KEY });
  t.match(liveConnectConfig(s, 'x', []).realtimeInputConfig, {
    automaticActivityDetection: { startOfSpeechSensitivity: StartSensitivity.START_SENSITIVITY_LOW, endOfSpeechSensitivity: EndSensitivity.END_SENSITIVITY_LOW },
    turnCoverage: TurnCoverage.TURN_INCLUDES_ALL_INPUT,
  });
  const unspecified = readGeminiSettings({ GEMINI_API_KEY: KEY, GEMINI_VAD_START_SENSITIVITY: 'START_SENSITIVITY_UNSPECIFIED', GEMINI_VAD_END_SENSITIVITY: 'sensitivity_unspecified', GEMINI_TURN_COVERAGE: 'TURN_COVERAGE_UNSPECIFIED' });
  const c = liveConnectConfig(unspecified, 'x', []).realtimeInputConfig!;
  t.same(c, { automaticActivityDetection: { disabled: false } });
});

t.test('the reference\'s sample-rate settings are accepted at the rates Gemini Live speaks', async (t) => {
  t.ok(readGeminiSettings({ GEMINI_API_KEY: KEY, GEMINI_INPUT_SAMPLE_RATE: '16000', GEMINI_OUTPUT_SAMPLE_RATE: '24000' }));
  t.throws(() => readGeminiSettings({ GEMINI_API_KEY: KEY, GEMINI_INPUT_SAMPLE_RATE: '24000' }), { variable: 'GEMINI_INPUT_SAMPLE_RATE', message: /only 16000 is supported/ } as object as Error);
  t.throws(() => readGeminiSettings({ GEMINI_API_KEY: KEY, GEMINI_OUTPUT_SAMPLE_RATE: '16000' }), { variable: 'GEMINI_OUTPUT_SAMPLE_RATE', message: /only 24000 is supported/ } as object as Error);
});

t.test('explicit API version wins over the proactive-audio default; search alias', async (t) => {
  const s = readGeminiSettings({ GEMINI_API_KEY: KEY, GEMINI_PROACTIVE_AUDIO: 'yes', GEMINI_API_VERSION: 'v1beta', GEMINI_GOOGLE_SEARCH_GROUNDING: 'true', GEMINI_CONTEXT_WINDOW_COMPRESSION: 'false' });
  t.equal(s.apiVersion, 'v1beta');
  const c = liveConnectConfig(s, 'x', []);
  t.same(c.tools, [{ googleSearch: {} }]);
  t.same(c.proactivity, { proactiveAudio: true });
  t.notOk(c.contextWindowCompression);
});

t.test('bad values name the variable', async (t) => {
  t.throws(() => readGeminiSettings({}), { variable: 'GEMINI_API_KEY' } as object as Error);
  const cases: Array<[Record<string, string>, string]> = [
    [{ GEMINI_VAD_START_SENSITIVITY: 'medium' }, 'GEMINI_VAD_START_SENSITIVITY'],
    [{ GEMINI_VAD_END_SENSITIVITY: 'START_SENSITIVITY_LOW' }, 'GEMINI_VAD_END_SENSITIVITY'],
    [{ GEMINI_THINKING_BUDGET: '-2' }, 'GEMINI_THINKING_BUDGET'],
    [{ GEMINI_PROACTIVE_AUDIO: 'maybe' }, 'GEMINI_PROACTIVE_AUDIO'],
    [{ GEMINI_CONTEXT_WINDOW_COMPRESSION: 'false', GEMINI_CONTEXT_WINDOW_TRIGGER_TOKENS: '5000' }, 'GEMINI_CONTEXT_WINDOW_TRIGGER_TOKENS'],
    [{ GEMINI_CONTEXT_WINDOW_TRIGGER_TOKENS: '5000', GEMINI_CONTEXT_WINDOW_TARGET_TOKENS: '6000' }, 'GEMINI_CONTEXT_WINDOW_TARGET_TOKENS'],
    [{ GEMINI_BASE_URL: 'ftp://x' }, 'GEMINI_BASE_URL'],
    [{ GEMINI_TURN_COVERAGE: 'ALL' }, 'GEMINI_TURN_COVERAGE'],
  ];
  for (const [env, variable] of cases) t.throws(() => readGeminiSettings({ GEMINI_API_KEY: KEY, ...env }), { variable } as object as Error, variable);
});
