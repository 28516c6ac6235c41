import type tap from 'tap';
import { FakeGeminiLive } from './fake-gemini-live.js';
import { FakeOpenAIRealtime } from './fake-openai-realtime.js';
import { FakeRemoteAgent } from './fake-remote-agent.js';
import { startServer, type ServerProcess } from './server-process.js';
import { frameAudio, syncFrames, type Msg, type WidgetClient } from './widget-client.js';

/**
 * What the agent tests share around the fakes: a fake service started together with a real
 * server pointed at it (both stopped when the test file ends), a free loopback port, and the
 * checks every agent test makes of a client (it still answers, errors are coded, audio is exact).
 */
interface Teardown {
  teardown(fn: () => unknown): void;
}

/** The assertions these checks use; every tap test object has them. */
type Asserts = Pick<typeof tap, 'ok' | 'fail'>;

type Env = Record<string, string>;

async function withServer<F extends { close(): Promise<void> }>(t: Teardown, fake: F, env: Env): Promise<{ fake: F; server: ServerProcess }> {
  const server = await startServer(env).catch(async (err: unknown) => {
    await fake.close();
    throw err;
  });
  t.teardown(async () => {
    await server.stop();
    await fake.close();
  });
  return { fake, server };
}

/** The fake OpenAI Realtime service and a server whose `sample_openai` agent uses it (its CA, its URL). */
export async function openAIRealtimeServer(t: Teardown, env: Env): Promise<{ fake: FakeOpenAIRealtime; server: ServerProcess }> {
  const fake = await FakeOpenAIRealtime.start();
  return withServer(t, fake, { AGENT_TYPE: 'sample_openai', NODE_EXTRA_CA_CERTS: fake.caFile, OPENAI_BASE_URL: fake.baseURL, ...env });
}

/** The fake Gemini Live service and a server whose `sample_gemini` agent uses it. */
export async function geminiLiveServer(t: Teardown, env: Env): Promise<{ fake: FakeGeminiLive; server: ServerProcess }> {
  const fake = await FakeGeminiLive.start();
  return withServer(t, fake, { AGENT_TYPE: 'sample_gemini', GEMINI_BASE_URL: fake.baseUrl, GEMINI_MODEL: 'gemini-live-test', ...env });
}

/** A fake remote agent and a server whose `remote` agent connects to it. */
export async function remoteAgentServer(t: Teardown, env: Env = {}, dialect?: Parameters<typeof FakeRemoteAgent.start>[0]): Promise<{ fake: FakeRemoteAgent; server: ServerProcess }> {
  const fake = await FakeRemoteAgent.start(dialect);
  return withServer(t, fake, { AGENT_TYPE: 'remote', AGENT_URL: fake.url, ...env });
}

/** A ping answered: the session's thread still works through whatever came before. */
export async function pingPong(client: WidgetClient): Promise<void> {
  const pongs = (): number => client.received.filter((r) => r.msg.type === 'pong').length;
  const before = pongs();
  client.send({ type: 'ping' });
  await client.waitFor(() => pongs() > before, 20_000);
}

/** Every error the client got carries one of `codes` and a short message without `secret`; returns them. */
export function checkErrorsCoded(t: Asserts, client: WidgetClient, codes: readonly string[], secret: string): Msg[] {
  const errs = client.received.map((r) => r.msg).filter((m) => m.type === 'error');
  for (const e of errs) {
    if (!codes.includes(e.code as string) || typeof e.message !== 'string' || e.message.includes(secret) || e.message.length > 600) {
      t.fail(`uncoded or unsafe error: ${JSON.stringify(e).slice(0, 200)}`);
    }
  }
  return errs;
}

/** The frames from `start` to the turn's `audio_end` carry exactly `answer`, then padding; resolves audio_end's index. */
export async function expectExactAudio(t: Asserts, client: WidgetClient, start: number, answer: Buffer): Promise<number> {
  const end = await client.waitFor((m) => m.type === 'audio_end', 20_000, start);
  const audio = frameAudio(syncFrames(client, start, end));
  t.ok(audio.subarray(0, answer.length).equals(answer), 'the answer plays exactly');
  t.ok(audio.subarray(answer.length).every((b) => b === 0), 'then padding only');
  return end;
}
