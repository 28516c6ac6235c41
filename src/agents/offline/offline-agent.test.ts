import t from 'tap';
import { setImmediate as nextTurn } from 'node:timers/promises';
import pino from 'pino';
import { FliteTts, type SpeechAudio, type TextToSpeech } from './flite-tts.js';
import { NO_SPEECH_INPUT_REPLY, OfflineAgent, type OfflineAgentOptions } from './offline-agent.js';
import type { WordTiming } from '../agent.js';

// The real TTS in its worker thread, shared like the server shares it.
const tts = new FliteTts();
t.teardown(() => tts.close());
const logger = pino({ level: 'silent' });

const KB = `# Opening hours

We are open Monday to Friday from 9 am to 6 pm. On Saturdays we open at 10 am.

# Parking

Free parking is available behind the building.`;

function newAgent(opts: Partial<OfflineAgentOptions> = {}): OfflineAgent {
  return new OfflineAgent({ instructions: '', knowledgeBase: '', logger, tts, ...opts });
}

/**
 * The shared TTS, counting the syntheses an agent asked for. `settled()` is the positive signal
 * that a stopped response is over: every synthesis it started has finished and the event loop
 * has turned after it, so anything it was still going to emit would have been emitted.
 */
class TrackedTts implements TextToSpeech {
  readonly sampleRate = tts.sampleRate;
  started = 0;
  finished = 0;
  private readonly inflight = new Set<Promise<unknown>>();

  warm(): Promise<void> {
    return tts.warm();
  }

  synthesize(text: string): Promise<SpeechAudio> {
    this.started++;
    const p = tts.synthesize(text);
    const tracked = p.then(
      () => undefined,
      () => undefined,
    ).finally(() => {
      this.finished++;
      this.inflight.delete(tracked);
    });
    this.inflight.add(tracked);
    return p;
  }

  async settled(): Promise<void> {
    for (;;) {
      await nextTurn();
      if (this.inflight.size === 0) return;
      await Promise.all([...this.inflight]);
    }
  }
}

type Event =
  | { type: 'responseStart'; responseId: string }
  | { type: 'transcriptDelta'; text: string; words: WordTiming[] | undefined }
  | { type: 'audio'; pcm: Buffer }
  | { type: 'responseEnd'; responseId: string; transcript: string }
  | { type: 'error'; code: string; fatal: boolean; message: string };

function record(agent: OfflineAgent): Event[] {
  const events: Event[] = [];
  agent.on('responseStart', ({ responseId }) => events.push({ type: 'responseStart', responseId }));
  agent.on('transcriptDelta', ({ text, words }) => events.push({ type: 'transcriptDelta', text, words }));
  agent.on('audio', (pcm) => events.push({ type: 'audio', pcm }));
  agent.on('responseEnd', ({ responseId, transcript }) => events.push({ type: 'responseEnd', responseId, transcript }));
  agent.on('error', ({ code, fatal, message }) => events.push({ type: 'error', code, fatal, message }));
  return events;
}

function audioOf(events: Event[]): Buffer {
  return Buffer.concat(events.flatMap((e) => (e.type === 'audio' ? [e.pcm] : [])));
}

/** Resolves on the next responseEnd (events.once would reject on the agent's `error` events). */
function nextEnd(agent: OfflineAgent): Promise<{ responseId: string; transcript: string }> {
  return new Promise((resolve) => agent.once('responseEnd', resolve));
}

/** What one reply sounds like when nothing else is going on. */
async function soloAudio(text: string): Promise<Buffer> {
  const agent = newAgent();
  const events = record(agent);
  agent.sendText(text);
  await nextEnd(agent);
  return audioOf(events);
}

t.before(() => tts.warm());

t.test('one response: events in order, 100 ms chunks, transcript = deltas', async (t) => {
  const tracked = new TrackedTts();
  const agent = newAgent({ tts: tracked });
  await agent.connect();
  const events = record(agent);
  let synthesizedAtFirstAudio = -1;
  agent.once('audio', () => (synthesizedAtFirstAudio = tracked.finished));
  agent.sendText('Hello, what can you do?');
  t.same(events, [], 'nothing is emitted inside sendText');
  await nextEnd(agent);

  const start = events[0];
  const end = events.at(-1);
  t.equal(start?.type, 'responseStart');
  t.equal(end?.type, 'responseEnd');
  t.equal(events.filter((e) => e.type === 'responseStart' || e.type === 'responseEnd').length, 2);
  if (start?.type !== 'responseStart' || end?.type !== 'responseEnd') return;
  t.equal(end.responseId, start.responseId);
  t.equal(events[1]?.type, 'transcriptDelta', 'the first sentence is transcribed before its audio');

  const deltas = events.flatMap((e) => (e.type === 'transcriptDelta' ? [e] : []));
  t.equal(deltas.map((d) => d.text).join(''), end.transcript, 'raw fragments with their spaces: concatenated, the reply');
  // First audio comes early: it does not wait for the whole reply to be synthesized.
  t.ok(deltas.length >= 3, `${deltas.length} sentences`);
  t.equal(tracked.started, deltas.length, 'one synthesis per sentence');
  t.ok(synthesizedAtFirstAudio >= 1 && synthesizedAtFirstAudio < deltas.length, `first audio after ${synthesizedAtFirstAudio} of ${deltas.length} sentences were synthesized`);
  t.match(end.transcript, /^Hello! I'm the built-in offline assistant\./);
  const timings = deltas.flatMap((d) => d.words ?? []);
  t.equal(timings.length, end.transcript.split(' ').length, 'a timing for every word, from the TTS');
  for (let i = 1; i < timings.length; i++) t.ok(timings[i]!.startMs >= timings[i - 1]!.endMs - 1e-6, `word ${i} starts after the one before ends`);
  const audioMs = (audioOf(events).length / 2 / 24000) * 1000;
  const lastEndMs = timings.at(-1)!.endMs;
  t.ok(lastEndMs <= audioMs && lastEndMs > audioMs * 0.85, `last word ends at ${Math.round(lastEndMs)} ms of ${Math.round(audioMs)} ms`);

  const chunks = events.flatMap((e) => (e.type === 'audio' ? [e.pcm] : []));
  const last = chunks.at(-1)!;
  t.ok(chunks.slice(0, -1).every((c) => c.length === 4800), 'every chunk but the last is 100 ms at 24 kHz');
  t.ok(last.length > 0 && last.length <= 4800 && last.length % 2 === 0, `last chunk ${last.length} bytes`);
  const seconds = audioOf(events).length / 2 / 24000;
  t.ok(seconds > 3 && seconds < 30, `${seconds.toFixed(2)} s of speech for ${end.transcript.length} characters`);

  // Each sentence's words come before its audio: the deltas are not all at the start.
  const firstAudioIndex = events.findIndex((e) => e.type === 'audio');
  const lastDeltaIndex = events.findLastIndex((e) => e.type === 'transcriptDelta');
  t.ok(lastDeltaIndex > firstAudioIndex, 'sentence by sentence');
});

t.test('answers from the knowledge base', async (t) => {
  const agent = newAgent({ knowledgeBase: KB });
  const events = record(agent);
  agent.sendText('Where can I park?');
  const end = await nextEnd(agent);
  t.equal(end.transcript, 'Free parking is available behind the building.');
  t.ok(audioOf(events).length > 24000, 'and says it');
});

t.test('cancelResponse stops the response at once', async (t) => {
  const tracked = new TrackedTts();
  const agent = newAgent({ tts: tracked });
  const events = record(agent);
  let cancelledAt = -1;
  agent.on('audio', () => {
    if (cancelledAt < 0) {
      agent.cancelResponse(100);
      cancelledAt = events.length;
    }
  });
  agent.sendText('Please repeat this. It has several sentences. Each one takes a while to say. So cancelling must stop it.');
  await new Promise((resolve) => agent.once('audio', resolve));
  await tracked.settled();
  t.ok(cancelledAt > 0, 'audio started');
  t.ok(tracked.started <= 2, `nothing synthesized beyond the sentence being spoken and the next (${tracked.started})`);
  t.equal(events.length, cancelledAt, 'no event after the cancel');
  t.notOk(events.some((e) => e.type === 'responseEnd'), 'no responseEnd for a cancelled response');

  // The agent still works afterwards, and a cancel with nothing running is harmless.
  agent.cancelResponse(0);
  agent.sendText('hi');
  const end = await nextEnd(agent);
  t.equal(end.transcript, 'Hello! How can I help you today?');
});

t.test('cancel right after sendText: no events at all', async (t) => {
  const tracked = new TrackedTts();
  const agent = newAgent({ tts: tracked });
  const events = record(agent);
  agent.sendText('hello');
  agent.cancelResponse(0);
  await tracked.settled();
  t.same(events, []);
  t.equal(tracked.started, 0, 'nothing was synthesized');
  // The agent has gone on since: the next reply is the only one.
  agent.sendText('hi');
  const end = await nextEnd(agent);
  t.same(events.filter((e) => e.type === 'responseStart').map((e) => e.type === 'responseStart' && e.responseId), [end.responseId], 'only the later reply started');
});

t.test('a new sendText replaces the running response, never interleaving', async (t) => {
  const first = 'This is the first reply. It is long enough to still be playing. When the second one arrives.';
  const second = 'Second reply here.';
  const expected = await soloAudio(second);

  const tracked = new TrackedTts();
  const agent = newAgent({ tts: tracked });
  const events = record(agent);
  let interrupted = false;
  agent.on('audio', () => {
    if (!interrupted) {
      interrupted = true;
      agent.sendText(second);
    }
  });
  agent.sendText(first);
  await nextEnd(agent);
  await tracked.settled();
  const starts = events.flatMap((e, i) => (e.type === 'responseStart' ? [i] : []));
  const ends = events.filter((e) => e.type === 'responseEnd');
  t.equal(starts.length, 2, 'two responses started');
  t.equal(ends.length, 1, 'only the second one ended');
  const afterSecondStart = events.slice(starts[1]);
  t.ok(audioOf(afterSecondStart).equals(expected), 'everything after the second start is exactly the second reply');
  t.equal((ends[0] as Extract<Event, { type: 'responseEnd' }>).transcript, `You said: ${second}`);

  // Back to back, before either starts: only the last one is answered.
  const tracked2 = new TrackedTts();
  const agent2 = newAgent({ tts: tracked2 });
  const events2 = record(agent2);
  agent2.sendText('hello');
  agent2.sendText(second);
  await nextEnd(agent2);
  await tracked2.settled();
  t.equal(events2.filter((e) => e.type === 'responseStart').length, 1);
  t.ok(audioOf(events2).equals(expected));
});

t.test('two sessions share the TTS pool without mixing audio', async (t) => {
  const textA = 'Session A is talking about apples and oranges.';
  const textB = 'Session B prefers to talk about trains. And about boats too.';
  const [soloA, soloB] = [await soloAudio(textA), await soloAudio(textB)];
  const a = newAgent();
  const b = newAgent();
  const eventsA = record(a);
  const eventsB = record(b);
  a.sendText(textA);
  b.sendText(textB);
  await Promise.all([nextEnd(a), nextEnd(b)]);
  t.ok(audioOf(eventsA).equals(soloA), 'A got exactly its own audio');
  t.ok(audioOf(eventsB).equals(soloB), 'B got exactly its own audio');
});

t.test('TTS failure: error event, and the response still ends', async (t) => {
  const closedTts = new FliteTts();
  await closedTts.close();
  const agent = newAgent({ tts: closedTts });
  const events = record(agent);
  agent.sendText('hello');
  await nextEnd(agent);
  t.same(
    events.map((e) => e.type),
    ['responseStart', 'error', 'responseEnd'],
  );
  t.match(events[1], { code: 'TTS_FAILED', fatal: false, message: /speech synthesis failed/ });
  t.match(events[2], { transcript: '' });

  // Failing on the second sentence: the first is spoken, and the transcript says only that.
  let calls = 0;
  const flaky: TextToSpeech = {
    sampleRate: tts.sampleRate,
    warm: () => tts.warm(),
    synthesize: (text) => (calls++ === 1 ? Promise.reject(new Error('worker died')) : tts.synthesize(text)),
  };
  const agent2 = newAgent({ tts: flaky });
  const events2 = record(agent2);
  agent2.sendText('First sentence. Second sentence. Third sentence.');
  const end = await nextEnd(agent2);
  t.equal(end.transcript, 'You said: First sentence.');
  t.ok(audioOf(events2).length > 0, 'the first sentence was spoken');
  t.equal(events2.filter((e) => e.type === 'error').length, 1, 'one error, not one per sentence');
  t.equal(calls, 2, 'nothing more is synthesized after the failure');

  // Nobody listening for `error`: logged, not thrown.
  const quiet = newAgent({ tts: closedTts });
  quiet.sendText('hello');
  await nextEnd(quiet);
});

t.test('microphone audio gets a spoken hint and an error, once per mic stream', async (t) => {
  const agent = newAgent();
  const events = record(agent);
  agent.startAudioStream();
  let end = nextEnd(agent);
  for (let i = 0; i < 50; i++) agent.appendAudio(Buffer.alloc(4800));
  agent.commitAudio();
  t.equal((await end).transcript, NO_SPEECH_INPUT_REPLY);
  const errors = events.filter((e) => e.type === 'error');
  t.same(errors.map((e) => e.type === 'error' && [e.code, e.fatal]), [['SPEECH_INPUT_UNSUPPORTED', false]]);
  t.equal(events.filter((e) => e.type === 'responseStart').length, 1, 'one hint for the whole stream');
  t.ok(audioOf(events).length > 24000, 'spoken');

  agent.startAudioStream();
  end = nextEnd(agent);
  agent.appendAudio(Buffer.alloc(4800));
  t.equal((await end).transcript, NO_SPEECH_INPUT_REPLY, 'a second stream gets it again');
  t.equal(events.filter((e) => e.type === 'error').length, 2);
  t.equal(agent.inputSampleRate, 24000);
  t.equal(agent.outputSampleRate, 24000);
});

t.test('the mic hint waits for the reply being spoken instead of cutting it', async (t) => {
  const agent = newAgent();
  const events = record(agent);
  agent.sendText('Hello, what can you do?');
  await new Promise((resolve) => agent.once('audio', resolve));
  agent.startAudioStream();
  agent.appendAudio(Buffer.alloc(4800));
  const first = await nextEnd(agent);
  t.match(first.transcript, /^Hello!/, 'the reply completes');
  t.equal((await nextEnd(agent)).transcript, NO_SPEECH_INPUT_REPLY, 'then the hint');
  t.equal(events.filter((e) => e.type === 'responseStart').length, 2);
});

t.test('disconnect stops everything and is idempotent', async (t) => {
  const tracked = new TrackedTts();
  const agent = newAgent({ tts: tracked });
  const events = record(agent);
  agent.sendText('hello there, how are you?');
  await agent.disconnect();
  await agent.disconnect();
  agent.sendText('hello');
  await tracked.settled();
  t.same(events, []);
  t.equal(tracked.started, 0, 'nothing was synthesized');
  await t.rejects(agent.connect(), /disconnected/);
});
