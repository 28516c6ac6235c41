import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ConfigError, loadConfig, readEnv } from './config.js';
import { TokenBucket } from '../server/rate-limit.js';

t.test('defaults', async (t) => {
  const c = loadConfig({});
  t.equal(c.port, 8080);
  t.equal(c.host, '0.0.0.0');
  t.equal(c.agentType, 'offline');
  t.ok(c.inferenceWorkers >= 1);
  t.match(c.onnxModelPath, /pretrained_models\/.+\.onnx$/);
});

t.test('bad values stop the server naming the variable', async (t) => {
  const bad: Array<[Record<string, string>, string]> = [
    [{ SERVER_PORT: 'eighty' }, 'SERVER_PORT'],
    [{ SERVER_PORT: '70000' }, 'SERVER_PORT'],
    [{ INFERENCE_WORKERS: '0' }, 'INFERENCE_WORKERS'],
    [{ INFERENCE_WORKERS: '1.5' }, 'INFERENCE_WORKERS'],
    [{ BLENDSHAPE_FPS: '60' }, 'BLENDSHAPE_FPS'],
    [{ DEBUG: 'maybe' }, 'DEBUG'],
    [{ ONNX_MODEL_PATH: '/nope/model.onnx' }, 'ONNX_MODEL_PATH'],
    [{ AUDIO_CHUNK_DURATION: '0.25' }, 'AUDIO_CHUNK_DURATION'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
  ];
  for (const [env, name] of bad) {
    let caught: unknown;
    try {
      loadConfig(env);
    } catch (err) {
      caught = err;
    }
    t.ok(caught instanceof ConfigError && caught.variable === name && caught.message.startsWith(name), `${name}: ${String(caught)}`);
  }
});

t.test('.env fills in what the environment does not set', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  const file = join(dir, '.env');
  writeFileSync(file, 'SERVER_PORT=9001\nAGENT_TYPE=remote\n# comment\n');
  const env = readEnv(file, { AGENT_TYPE: 'offline' });
  t.equal(env.SERVER_PORT, '9001');
  t.equal(env.AGENT_TYPE, 'offline', 'the real environment wins');
  t.equal(loadConfig(env).port, 9001);
});

t.test('KNOWLEDGE_BASE_SOURCE unset, blank or none (the reference compose default): no knowledge base', async (t) => {
  for (const v of [undefined, '', '  ', 'none', 'None', 'NONE']) {
    t.equal(loadConfig(v === undefined ? {} : { KNOWLEDGE_BASE_SOURCE: v }).knowledgeBaseSource, '', JSON.stringify(v));
  }
  t.equal(loadConfig({ KNOWLEDGE_BASE_SOURCE: 'data/kb.md' }).knowledgeBaseSource, 'data/kb.md');
});

t.test('USE_SSL=true without a certificate stops the server with a message saying how to fix it', async (t) => {
  for (const [env, variable, text] of [
    [{ USE_SSL: 'true' }, 'SSL_CERT_FILE', /needs the certificate \(PEM\) file: set SSL_CERT_FILE, or set USE_SSL=false when TLS ends at a proxy/],
    [{ USE_SSL: 'true', SSL_CERT_FILE: '/nope/cert.pem' }, 'SSL_CERT_FILE', /no certificate \(PEM\) file at \/nope\/cert.pem/],
    [{ USE_SSL: 'true', SSL_CERT_FILE: 'package.json' }, 'SSL_KEY_FILE', /needs the private key \(PEM\) file/],
  ] as const) {
    t.throws(() => loadConfig(env), { name: 'ConfigError', variable, message: text } as object as Error, variable);
  }
  t.equal(loadConfig({ USE_SSL: 'false' }).tls, null);
});

t.test('AUTH_ENABLE_RATE_LIMITING (reference name): false makes both limits unlimited, with a warning', async (t) => {
  const on = loadConfig({});
  t.match(on.rateLimit, { enabled: true, connectionsBurst: 100, messagesBurst: 60 });
  t.same(on.warnings, []);
  const off = loadConfig({ AUTH_ENABLE_RATE_LIMITING: 'false', RATE_LIMIT_MESSAGES_BURST: '5' });
  t.match(off.rateLimit, { enabled: false, connectionsBurst: Infinity, messagesBurst: Infinity });
  const bucket = new TokenBucket(off.rateLimit.messagesBurst, off.rateLimit.messagesPerS, 0);
  let refused = 0;
  for (let i = 0; i < 10_000; i++) if (!bucket.take(0)) refused++;
  t.equal(refused, 0, 'an unlimited bucket never refuses, even with no time passing');
  t.match(off.warnings, [{ variable: 'AUTH_ENABLE_RATE_LIMITING', message: /rate limits are off/ }]);
  t.throws(() => loadConfig({ AUTH_ENABLE_RATE_LIMITING: 'sometimes' }), { variable: 'AUTH_ENABLE_RATE_LIMITING' } as object as Error);
});

t.test('INPUT_SAMPLE_RATE, OUTPUT_SAMPLE_RATE, WAV2ARKIT_SAMPLE_RATE, BLENDSHAPE_FPS: accepted at what we run, refused otherwise', async (t) => {
  const c = loadConfig({ INPUT_SAMPLE_RATE: '24000', OUTPUT_SAMPLE_RATE: '24000', WAV2ARKIT_SAMPLE_RATE: '16000', BLENDSHAPE_FPS: '30' });
  t.same(c.warnings, []);
  for (const [name, value, supported] of [['INPUT_SAMPLE_RATE', '16000', 24000], ['OUTPUT_SAMPLE_RATE', '48000', 24000], ['WAV2ARKIT_SAMPLE_RATE', '24000', 16000], ['BLENDSHAPE_FPS', '60', 30], ['INPUT_SAMPLE_RATE', 'fast', 24000]] as const) {
    t.throws(() => loadConfig({ [name]: value }), { variable: name, message: new RegExp(value === 'fast' ? 'expected a number' : `only ${supported} is supported`) } as object as Error, `${name}=${value}`);
  }
});

t.test('ONNX_MODEL_PATH at the reference default with no file there: the shipped model, with a warning', async (t) => {
  const c = loadConfig({ ONNX_MODEL_PATH: './pretrained_models/wav2arkit_cpu.onnx' });
  t.match(c.onnxModelPath, /pretrained_models\/lipsync-small\.onnx$/);
  t.match(c.warnings, [{ variable: 'ONNX_MODEL_PATH', message: /Python reference's default model.*using the shipped model/ }]);
  t.throws(() => loadConfig({ ONNX_MODEL_PATH: './pretrained_models/other.onnx' }), { variable: 'ONNX_MODEL_PATH' } as object as Error, 'any other missing model is still fatal');
});

t.test('REALTIME_PRIORITY: off by default, auto (10, quiet if refused), or an explicit 1–99', async (t) => {
  t.same(loadConfig({}).realtimePriority, { priority: 0, explicit: false });
  t.same(loadConfig({ REALTIME_PRIORITY: 'AUTO' }).realtimePriority, { priority: 10, explicit: false });
  for (const off of ['off', '0', 'false']) t.equal(loadConfig({ REALTIME_PRIORITY: off }).realtimePriority.priority, 0, off);
  t.same(loadConfig({ REALTIME_PRIORITY: '20' }).realtimePriority, { priority: 20, explicit: true });
  for (const bad of ['100', '-1', '1.5', 'high', 'rr']) {
    t.throws(() => loadConfig({ REALTIME_PRIORITY: bad }), { name: 'ConfigError', variable: 'REALTIME_PRIORITY' } as object as Error, bad);
  }
});
