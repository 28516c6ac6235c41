import t from 'tap';
import { rmSync } from 'node:fs';
import { startServer } from './helpers/server-process.js';
import { checkoutWithEnv } from './helpers/reference-env.js';
import { WidgetClient } from './helpers/widget-client.js';

// More of what a user of the Python reference brings: the shape of its example .env, and its
// rate-limiting switch. (Every variable at its default, per agent: reference-env.test.ts.)

t.test('the shape of the reference\'s example .env: inline comments, padded values, placeholders', async (t) => {
  const dir = checkoutWithEnv([
    '# ---- OpenAI ----',
    'OPENAI_API_KEY=sk-your-api-key-here',
    'OPENAI_VAD_THRESHOLD=0.5',
    'OPENAI_VAD_SILENCE_DURATION_MS=300',
    'OPENAI_VAD_PREFIX_PADDING_MS=300',
    'OPENAI_VAD_TYPE=server_vad',
    'OPENAI_TRANSCRIPTION_MODEL=  gpt-4o-transcribe',
    'OPENAI_NOISE_REDUCTION=',
    'AGENT_TYPE=sample_openai  # sample_openai, sample_gemini or remote',
    'AGENT_URL=  # remote agent only',
    '# KNOWLEDGE_BASE_SOURCE=https://example.com/kb.md',
    'ONNX_MODEL_PATH=./pretrained_models/wav2arkit_cpu.onnx',
    'AUTH_ENABLED=true',
    'AUTH_SECRET_KEY=replace-me-with-openssl-rand-hex-32',
    'AUTH_ALLOWED_ORIGINS=https://example.com,https://www.example.com',
    'AUTH_ENABLE_RATE_LIMITING=true',
  ].join('\n') + '\n');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const server = await startServer({}, 120_000, dir);
  t.teardown(() => server.stop());
  t.equal(server.logs.find((l) => l.msg === 'listening')!.agentType, 'sample_openai', 'the inline comment is not part of the value');
  t.notOk(server.output().includes('replace-me-with-openssl'), 'the auth key is never logged');
  t.equal((await fetch(`http://127.0.0.1:${server.port}/health`)).status, 200);
});

t.test('AUTH_ENABLE_RATE_LIMITING=false: a message flood is served, not cut off', async (t) => {
  const server = await startServer({ AUTH_ENABLE_RATE_LIMITING: 'false' }, 120_000);
  t.teardown(() => server.stop());
  t.ok(server.logs.some((l) => l.level === 40 && l.variable === 'AUTH_ENABLE_RATE_LIMITING'), 'warned once at start');
  const client = await WidgetClient.connect(server.url());
  t.teardown(() => client.close());
  await client.waitType('config');
  // Far beyond the default burst (60): with limits on this gets RATE_LIMITED and close 1008.
  const FLOOD = 500;
  for (let i = 0; i < FLOOD; i++) client.send({ type: 'ping', timestamp: i });
  await client.waitFor(() => client.received.filter((r) => r.msg.type === 'pong').length === FLOOD, 30_000);
  t.notOk(client.received.some((r) => r.msg.type === 'error'), 'no RATE_LIMITED');
  t.equal(client.closed, null, 'still open');
});
