import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startServer } from './helpers/server-process.js';
import { WidgetClient } from './helpers/widget-client.js';

// The default configuration: no API key, no network: built-in responder + flite TTS.
const dir = mkdtempSync(join(tmpdir(), 'kb-'));
const kb = join(dir, 'kb.md');
writeFileSync(kb, '# Opening hours\n\nThe museum opens at nine in the morning and closes at six in the evening.\n\n# Tickets\n\nTickets cost twelve euros; children enter for free.\n');
const server = await startServer({ KNOWLEDGE_BASE_SOURCE: kb });
t.teardown(() => server.stop());

t.test('npm start defaults: offline agent answers typed text with speech and lip-sync', async (t) => {
  t.ok(server.logs.some((l) => l.msg === 'offline agent ready'), 'offline agent started');
  const client = await WidgetClient.connect(server.url());
  await client.waitType('config');
  client.send({ type: 'text', data: 'When does the museum open?' });
  const end = await client.waitFor((m) => m.type === 'avatar_state' && m.state === 'Listening', 20_000);
  const msgs = client.received.slice(0, end + 1).map((r) => r.msg);
  const frames = msgs.filter((m) => m.type === 'sync_frame');
  t.ok(frames.length > 30, `a spoken answer (${frames.length} frames)`);
  t.ok(frames.every((f, i) => f.frameIndex === i));
  const done = msgs.find((m) => m.type === 'transcript_done' && m.role === 'assistant')!;
  t.match(done.text, /nine in the morning/, 'answered from the knowledge base');
  const jaw = frames.map((f) => (f.weights as Record<string, number>).jawOpen!);
  t.ok(Math.max(...jaw) > 0.2, 'the mouth moves with the TTS speech');
  const audio = Buffer.concat(frames.map((f) => Buffer.from(f.audio as string, 'base64')));
  let energy = 0;
  for (let i = 0; i < audio.length; i += 2) energy += audio.readInt16LE(i) ** 2;
  t.ok(Math.sqrt(energy / (audio.length / 2)) > 500, 'frames carry real speech');
  await client.close();
});

t.test('a greeting, then an interrupt by new text', async (t) => {
  const client = await WidgetClient.connect(server.url());
  await client.waitType('config');
  client.send({ type: 'text', data: 'Tell me about tickets and children and prices and everything you know, please, in detail.' });
  await client.waitType('sync_frame', 20_000);
  client.send({ type: 'text', data: 'hello' });
  const i = await client.waitType('interrupt', 5000);
  t.match(client.received[i + 1]!.msg, { type: 'avatar_state', state: 'Listening' });
  const end = await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'assistant' && !m.interrupted, 20_000, i);
  t.match(client.received[end]!.msg.text, /hello|hi/i, 'greeted back');
  await client.close();
});
