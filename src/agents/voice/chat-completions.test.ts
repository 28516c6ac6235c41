import t from 'tap';
import { FakeOpenAiCompatible } from '../../../test/helpers/fake-openai-compatible.js';
import { ChatCompletionsClient, pieceOf } from './chat-completions.js';
import { UpstreamError } from './openai-http.js';

const messages = [{ role: 'user' as const, content: 'Hi' }];

async function collect(client: ChatCompletionsClient, signal = new AbortController().signal): Promise<string[]> {
  const out: string[] = [];
  for await (const piece of client.stream(messages, signal)) out.push(piece);
  return out;
}

t.test('streams pieces through the SDK, with the key, model and options', async (t) => {
  const fake = await FakeOpenAiCompatible.start();
  t.teardown(() => fake.close());
  fake.chat = () => ({ deltas: ['Hel', 'lo, wor', 'ld.'] });
  const client = new ChatCompletionsClient({ url: `${fake.url}/chat/completions`, model: 'llama', apiKey: 'llm-key-42424242', temperature: 0.2, maxTokens: 50, timeoutMs: 5000 });
  t.same(await collect(client), ['Hel', 'lo, wor', 'ld.'], 'raw fragments, spaces kept');
  t.match(fake.chatRequests[0], { body: { model: 'llama', stream: true, temperature: 0.2, max_tokens: 50, messages }, authorization: 'Bearer llm-key-42424242' });
  const anon = new ChatCompletionsClient({ url: fake.url, model: 'm', timeoutMs: 5000 });
  await collect(anon);
  t.equal(fake.chatRequests[1]!.authorization, undefined, 'no key: no Authorization header (never OPENAI_API_KEY)');
});

t.test('a server that ignores stream:true: the whole completion', async (t) => {
  const fake = await FakeOpenAiCompatible.start();
  t.teardown(() => fake.close());
  fake.chat = () => ({ deltas: [], status: 200, body: JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content: 'All at once.' }, finish_reason: 'stop' }] }) });
  t.same(await collect(new ChatCompletionsClient({ url: fake.url, model: 'm', timeoutMs: 5000 })), ['All at once.']);
});

t.test('failures are coded: HTTP error, refused connection, stall, malformed event; an abort is the abort', async (t) => {
  const fake = await FakeOpenAiCompatible.start();
  t.teardown(() => fake.close());
  const client = new ChatCompletionsClient({ url: fake.url, model: 'm', timeoutMs: 600 });
  fake.chat = () => ({ deltas: [], status: 500, body: '{"error":{"message":"model not loaded"}}' });
  await t.rejects(collect(client), { name: 'UpstreamError', code: 'LLM_FAILED', message: /HTTP 500/ } as never);
  fake.chat = () => ({ deltas: ['a', 'b'], delayMs: 3000 });
  await t.rejects(collect(client), { name: 'UpstreamError', code: 'LLM_UNAVAILABLE', message: /did not answer within 600 ms/ } as never);
  const down = new ChatCompletionsClient({ url: 'http://127.0.0.1:1/v1', model: 'm', timeoutMs: 2000 });
  const err = await collect(down).catch((e: unknown) => e);
  t.ok(err instanceof UpstreamError && err.code === 'LLM_UNAVAILABLE', 'connection refused → LLM_UNAVAILABLE');
  fake.chat = () => ({ deltas: ['a', 'b', 'c', 'd'], delayMs: 100 });
  const ac = new AbortController();
  const reason = new Error('barge-in');
  const pieces: string[] = [];
  const aborted = (async () => {
    for await (const p of client.stream(messages, ac.signal)) {
      pieces.push(p);
      ac.abort(reason);
    }
  })();
  await t.rejects(aborted, reason, 'the abort reason, not an upstream error');
  await fake.waitFor(() => fake.chatRequests.at(-1)!.aborted);
  t.ok(fake.chatRequests.at(-1)!.aborted, 'the request was closed');
});

t.test('chunks are type-checked', async (t) => {
  t.same(pieceOf({ choices: [{ delta: { content: 'x' }, finish_reason: 'stop' }] }), { content: 'x', finishReason: 'stop' });
  t.same(pieceOf({ choices: [{ delta: { content: 5 } }] }), { content: '', finishReason: null });
  t.equal(pieceOf({ choices: 'no' }), null);
  t.equal(pieceOf(null), null);
  t.equal(pieceOf({ choices: [null] }), null);
});
