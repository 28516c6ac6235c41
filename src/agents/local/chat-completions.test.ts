import t from 'tap';
import { FakeOpenAiCompatible } from '../../../test/helpers/fake-openai-compatible.js';
import { ChatCompletionsClient, ChatCompletionsError, chatCompletionsUrl, redactUrl } from './chat-completions.js';

const fake = await FakeOpenAiCompatible.start();
t.teardown(() => fake.close());
const client = (extra: Partial<ConstructorParameters<typeof ChatCompletionsClient>[0]> = {}): ChatCompletionsClient =>
  new ChatCompletionsClient({ url: fake.url, model: 'm', apiKey: 'k', temperature: 0.2, maxTokens: 50, timeoutMs: 2000, ...extra });

async function collect(gen: AsyncGenerator<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const x of gen) out.push(x);
  return out;
}

t.test('URLs', async (t) => {
  t.equal(chatCompletionsUrl('http://h:1/v1/'), 'http://h:1/v1/chat/completions');
  t.equal(chatCompletionsUrl('http://h:1/v1/chat/completions'), 'http://h:1/v1/chat/completions');
  t.equal(redactUrl('http://user:pw@h:1/v1?key=s'), 'http://h:1/v1');
});

t.test('streams the deltas of a real SSE stream; sends model, options, key', async (t) => {
  fake.chat = () => ({ deltas: ['Hel', 'lo', ' world.'], delayMs: 5 });
  t.same(await collect(client().stream([{ role: 'user', content: 'hi' }], new AbortController().signal)), ['Hel', 'lo', ' world.']);
  const req = fake.chatRequests.at(-1)!;
  t.match(req.body, { model: 'm', stream: true, temperature: 0.2, max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] });
  t.equal(req.authorization, 'Bearer k');
});

t.test('abort ends the HTTP request at once', async (t) => {
  fake.chat = () => ({ deltas: Array.from({ length: 50 }, (_, i) => `w${i} `), delayMs: 50 });
  const ac = new AbortController();
  const got: string[] = [];
  const run = (async () => {
    for await (const d of client().stream([], ac.signal)) {
      got.push(d);
      if (got.length === 2) ac.abort(new Error('stop'));
    }
  })();
  await t.rejects(run, { message: 'stop' });
  const req = fake.chatRequests.at(-1)!;
  await fake.waitFor(() => req.aborted, 2000);
  t.ok(req.sent < 10, `server saw the hang-up after ${req.sent} pieces`);
});

t.test('errors: HTTP status, error event, refused connection, timeout', async (t) => {
  fake.chat = () => ({ deltas: [], status: 404, body: '{"error":{"message":"model \\"m\\" not found"}}' });
  await t.rejects(collect(client().stream([], new AbortController().signal)), { code: 'LLM_FAILED', message: /HTTP 404: .*not found/ });
  await t.rejects(collect(client({ url: 'http://127.0.0.1:9/v1' }).stream([], new AbortController().signal)), { code: 'LLM_UNAVAILABLE', message: /cannot reach the language model at http:\/\/127\.0\.0\.1:9\/v1\/chat\/completions/ });
  fake.chat = () => ({ deltas: ['late'], firstDelayMs: 1500 });
  await t.rejects(collect(client({ timeoutMs: 300 }).stream([], new AbortController().signal)), { code: 'LLM_UNAVAILABLE', message: /did not answer within 300 ms/ });
  const err = new ChatCompletionsError('LLM_FAILED', 'x');
  t.equal(err.code, 'LLM_FAILED');
});
