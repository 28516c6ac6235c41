import t from 'tap';
import { ConfigError, loadConfig } from './config.js';

t.test('transcript speaking rate: default, global, per agent', async (t) => {
  t.equal(loadConfig({}).transcriptCharsPerSecond, 16);
  t.equal(loadConfig({ TRANSCRIPT_CHARS_PER_SECOND: '12' }).transcriptCharsPerSecond, 12);
  const speeds = { TRANSCRIPT_CHARS_PER_SECOND: '12', OPENAI_TRANSCRIPT_SPEED: '18', GEMINI_TRANSCRIPT_SPEED: '20' };
  t.equal(loadConfig({ ...speeds, AGENT_TYPE: 'sample_openai' }).transcriptCharsPerSecond, 18);
  t.equal(loadConfig({ ...speeds, AGENT_TYPE: 'sample_gemini' }).transcriptCharsPerSecond, 20);
  t.equal(loadConfig({ ...speeds, AGENT_TYPE: 'remote' }).transcriptCharsPerSecond, 12);
  t.throws(() => loadConfig({ TRANSCRIPT_CHARS_PER_SECOND: '0' }), ConfigError);
  t.throws(() => loadConfig({ AGENT_TYPE: 'sample_openai', OPENAI_TRANSCRIPT_SPEED: 'fast' }), /OPENAI_TRANSCRIPT_SPEED/);
});
