import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ConfigError, loadConfig, readEnv } from './config.js';

t.test('defaults', async (t) => {
  const c = loadConfig({});
  t.equal(c.port, 8080);
  t.equal(c.host, '0.0.0.0');
  t.equal(c.agentType, 'offline');
  t.equal(c.blendshapeFps, 30);
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
