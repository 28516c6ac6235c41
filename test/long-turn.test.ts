import t from 'tap';
import { startServer } from './helpers/server-process.js';
import { WidgetClient, frameAudio, syncFrames } from './helpers/widget-client.js';
import { FakeRemoteAgent, syntheticSpeech } from './helpers/fake-remote-agent.js';

/**
 * A turn longer than the session's 4 s ring, through the real server, pool, pacer and sockets:
 * 10 s of agent audio delivered as fast as the agent can send it, in two odd-sized messages (the
 * first alone is over the ring), so most of it waits for ring space. The client must get every
 * byte, in order, in exactly 10 × 30 frames, paced in real time.
 */
const agent = await FakeRemoteAgent.start();
const server = await startServer({ AGENT_TYPE: 'remote', AGENT_URL: agent.url, LOG_LEVEL: 'debug' });
t.teardown(async () => {
  await server.stop();
  await agent.close();
});

t.test('10 s of agent audio at once: byte for byte, 300 frames, paced', async (t) => {
  const client = await WidgetClient.connect(server.url());
  await client.waitType('config');
  const pcm = syntheticSpeech(10, { pauseAt: [4.0, 4.5] });
  t.equal(pcm.length, 480_000, '10 s of 24 kHz PCM16');
  agent.onText = (up) => void agent.speak(up, pcm, { chunkBytes: 240_001 }); // 5 s + 1 byte, then the rest
  client.send({ type: 'text', data: 'tell me a long story' });
  const end = await client.waitFor((m) => m.type === 'avatar_state' && m.state === 'Listening', 120_000);
  agent.onText = null;

  const msgs = client.received.slice(0, end + 1).map((r) => r.msg);
  const start = msgs.find((m) => m.type === 'audio_start')!;
  const frames = syncFrames(client, 0, end + 1);
  t.equal(frames.length, 10 * 30, 'frames = seconds × 30');
  t.equal(frames.findIndex((f, i) => f.frameIndex !== i || f.turnId !== start.turnId), -1, 'indices 0…299 of one turn, in order');
  const audio = frameAudio(frames);
  t.equal(audio.length, pcm.length, 'no padding: 10 s is whole frames');
  t.ok(audio.equals(pcm), 'the client got exactly the bytes the agent sent');
  t.same(msgs.slice(-3).map((m) => m.type), ['audio_end', 'transcript_done', 'avatar_state'], 'then the turn ends');

  const ringFull = server.logs.find((l) => l.msg === 'ring full; agent audio waits in the turn queue');
  t.match(ringFull, { turnId: start.turnId }, 'the turn really outgrew the ring');
  t.ok((ringFull!.waitingSamples as number) > 0, `${ringFull!.waitingSamples as number} samples waited for ring space`);

  // Paced, not burst: frame k (after the 2 lead frames) leaves no earlier than (k − 2)/30 s after
  // audio_start (a lower bound of the pacer's clock origin); 2 ms for whole Date.now() ms.
  const clockFloor = start.timestamp as number;
  const early = frames.findIndex((f, k) => k > 2 && (f.timestamp as number) - clockFloor < (k - 2) * (1000 / 30) - 2);
  t.equal(early, -1, 'no frame ahead of its media-clock time');
  await client.close();
});
