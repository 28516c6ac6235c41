import t from 'tap';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { startServer } from './helpers/server-process.js';
import { REFERENCE_DEFAULTS } from './helpers/reference-env.js';

// A user of the Python reference server keeps their `.env` and changes only the command. Here
// that `.env` holds every variable of the reference's configuration table at its documented
// default (README "Optional Settings" + the two API keys + the compose default for the knowledge
// base), once per AGENT_TYPE. The server must start, warn about what it does not apply, and serve
// /health. No cloud service is contacted: the cloud and remote agents connect per session only,
// and remote points at a closed loopback port.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));


/** A folder laid out like a checkout (model, dependencies) holding only this `.env`. */
function checkoutWithEnv(dotenv: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'reference-env-'));
  symlinkSync(join(ROOT, 'pretrained_models'), join(dir, 'pretrained_models'));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  writeFileSync(join(dir, '.env'), dotenv);
  return dir;
}

const AGENTS: Record<string, Record<string, string>> = {
  offline: {},
  local: {},
  sample_openai: {},
  sample_gemini: {},
  remote: { AGENT_URL: 'ws://127.0.0.1:9/ws' },
};

for (const [agentType, extra] of Object.entries(AGENTS)) {
  t.test(`reference .env at its documented defaults, AGENT_TYPE=${agentType}: starts, warns, serves /health`, async (t) => {
    const values = { ...REFERENCE_DEFAULTS, AGENT_TYPE: agentType, ...extra };
    const dir = checkoutWithEnv(Object.entries(values).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    // Only what a test must own comes from the real environment (which wins over .env): a free
    // loopback port and one inference worker.
    const server = await startServer({}, 60_000, dir);
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
  const server = await startServer({}, 60_000, dir);
  t.teardown(() => server.stop());
  t.equal(server.logs.find((l) => l.msg === 'listening')!.agentType, 'sample_openai', 'the inline comment is not part of the value');
  t.notOk(server.output().includes('replace-me-with-openssl'), 'the auth key is never logged');
  t.equal((await fetch(`http://127.0.0.1:${server.port}/health`)).status, 200);
});
