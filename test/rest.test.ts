import t from 'tap';
import { startServer } from './helpers/server-process.js';
import { WidgetClient } from './helpers/widget-client.js';
import { FakeRemoteAgent, syntheticSpeech } from './helpers/fake-remote-agent.js';
import { parsePrometheus } from './helpers/prometheus-parse.js';
import { Waiters } from './helpers/waiters.js';

const agent = await FakeRemoteAgent.start();
const server = await startServer({ AGENT_TYPE: 'remote', AGENT_URL: agent.url });
t.teardown(async () => {
  await server.stop();
  await agent.close();
});
const http = (path: string) => fetch(`http://127.0.0.1:${server.port}${path}`);

t.test('GET /health: healthy with the model loaded and the pool at size', async (t) => {
  const res = await http('/health');
  t.equal(res.status, 200);
  const body = (await res.json()) as Record<string, unknown>;
  t.match(body, { status: 'healthy', model: { loaded: true, input: 'audio', output: 'blendshapes' }, workers: 1 });
});

t.test('GET /inf: name, version, status; no internals without DEBUG', async (t) => {
  const body = (await (await http('/inf')).json()) as Record<string, unknown>;
  t.match(body, { name: 'avatar-stream-server', status: 'running' });
  t.match(body.version, /^\d+\.\d+\.\d+/);
  t.notOk('agentType' in body);
});

t.test('unknown routes are 404 JSON', async (t) => {
  const res = await http('/nope');
  t.equal(res.status, 404);
});

t.test('GET /metrics is valid Prometheus text and counts a turn', async (t) => {
  const client = await WidgetClient.connect(server.url());
  await client.waitType('config');
  agent.onText = (up) => void agent.speak(up, syntheticSpeech(0.5));
  client.send({ type: 'text', data: 'hi' });
  client.send({ type: 'bogus' });
  await client.waitFor((m) => m.type === 'avatar_state' && m.state === 'Listening', 10_000);
  agent.onText = null;
  // The pacer reports its stats once a second: wait for the report that covers this turn (every
  // frame after the 3 lead frames is either timed for lateness or counted as an underrun).
  const waiter = new Waiters('metrics');
  let text = '';
  const pacedFrames = (): number => {
    const { samples } = parsePrometheus(text);
    const v = (name: string) => samples.find((s) => s.name === name)?.value ?? 0;
    return v('avatar_pacing_lateness_seconds_count') + v('avatar_pacing_underruns_total');
  };
  await waiter.waitForAsync(async () => {
    const res = await http('/metrics');
    t.equal(res.status, 200);
    t.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
    text = await res.text();
    return pacedFrames() >= 15 - 3;
  });
  const { samples, types } = parsePrometheus(text);
  const value = (name: string, labels: Record<string, string> = {}) =>
    samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  t.equal(value('avatar_turns_completed_total'), 1);
  t.equal(value('avatar_frames_sent_total'), 15);
  t.equal(value('avatar_errors_total', { code: 'UNKNOWN_TYPE' }), 1);
  t.equal(value('avatar_sessions'), 1);
  t.equal(types.get('avatar_pacing_lateness_seconds'), 'histogram');
  // Whether a frame was late depends on how busy the host is (bench/ measures that); that each
  // frame after the lead ones is accounted for exactly once does not.
  t.equal(pacedFrames(), 15 - 3, 'every frame after the 3 lead frames is timed or counted as an underrun');
  t.ok(value('avatar_inference_rtf_count')! >= 2, 'RTF observed per window');
  t.ok(value('avatar_event_loop_delay_p99_seconds')! >= 0);
  await client.close();
});

t.test('GET /stats has the engineers\' numbers', async (t) => {
  const body = (await (await http('/stats')).json()) as { inference: { rtfP50: number; windows: number }; pacing: { latenessP99Ms: number } };
  t.ok(body.inference.windows >= 2);
  t.ok(Number.isFinite(body.inference.rtfP50) && body.inference.rtfP50 > 0, `RTF measured (${body.inference.rtfP50}); speed itself is the bench's job`);
  t.type(body.pacing.latenessP99Ms, 'number');
});

t.test('GET /openapi.json is a valid OpenAPI 3.1 document built from the code\'s schemas', async (t) => {
  const { Validator } = await import('@seriousme/openapi-schema-validator');
  const spec = (await (await http('/openapi.json')).json()) as { components: { schemas: Record<string, unknown> }; paths: Record<string, unknown> };
  const result = await new Validator().validate(spec as never);
  t.ok(result.valid, JSON.stringify(result.errors));
  const { serverMessageSchemas } = await import('../src/protocol/widget-schemas.js');
  t.same(spec.components.schemas.WidgetServer_sync_frame, JSON.parse(JSON.stringify(serverMessageSchemas.sync_frame)), 'same schema as the serializer');
  for (const p of ['/health', '/inf', '/metrics', '/api/auth/token', '/ws']) t.ok(p in spec.paths, p);
});

t.test('GET /docs and /redoc are served from npm packages, with no CDN', async (t) => {
  for (const [page, asset] of [['/docs', '/docs/swagger-ui-bundle.js'], ['/redoc', '/redoc/redoc.standalone.js']] as const) {
    const html = await (await http(page)).text();
    t.notMatch(html, /https?:\/\//, `${page} references no external host`);
    t.ok(html.includes(asset));
    const js = await http(asset);
    t.equal(js.status, 200);
    t.ok((await js.arrayBuffer()).byteLength > 100_000, `${asset} is the real bundle`);
  }
});

t.test('GET /inf with DEBUG adds the agent type and the ws URL', async (t) => {
  const debug = await startServer({ AGENT_TYPE: 'remote', AGENT_URL: agent.url, DEBUG: 'true' });
  t.teardown(() => debug.stop());
  const body = (await (await fetch(`http://127.0.0.1:${debug.port}/inf`)).json()) as Record<string, unknown>;
  t.match(body, { status: 'running', agentType: 'remote', wsUrl: `ws://127.0.0.1:${debug.port}/ws`, uwsNative: true });
  t.notOk(debug.output().includes('"level":10'), 'no trace noise');
  t.ok(debug.logs.some((l) => l.level === 20), 'debug level is on');
});
