import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { OUTPUT_SAMPLE_RATE } from '../audio/constants.js';
import type { Agent, AgentEvents } from './agent.js';
import { Reconnector } from './reconnect.js';
import { redactSecrets } from './redact-secrets.js';
import type { ToolDefinition } from './tools.js';
import { IgnoredUpstreamLog } from './upstream-fields.js';

/** What every cloud speech-to-speech agent (OpenAI Realtime, Gemini Live) is built from. */
export interface CloudRealtimeOptions {
  /** Instructions with the knowledge base already appended. */
  instructions: string;
  tools: readonly ToolDefinition[];
  logger: Logger;
  /** Reconnect attempts after an unexpected close before giving up (fatal error). */
  maxReconnects?: number;
  /** First reconnect delay; doubles per attempt, capped at 5 s. */
  reconnectBaseMs?: number;
  /** Open until the service says the session is set up, ms. */
  connectTimeoutMs?: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** One connection attempt: settles once, by `succeed` or by `fail` (which also runs on the timeout). */
export interface ConnectAttempt {
  readonly settled: boolean;
  succeed(): void;
  fail(why: string): void;
}

/**
 * The skeleton shared by the cloud realtime agents: one upstream socket per session, opened by
 * `open()` within the connect timeout, reconnected with backoff after an unexpected close (a
 * fatal `AGENT_DISCONNECTED` once the attempts are exhausted), every upstream message handled
 * behind a guard (a malformed one is logged and ignored, never an exception), secrets redacted
 * from everything logged or shown, microphone audio dropped while the socket is down.
 * Subclasses speak their service's protocol.
 */
export abstract class CloudRealtimeAgent extends EventEmitter<AgentEvents> implements Pick<Agent, 'connect' | 'disconnect' | 'outputSampleRate'> {
  readonly outputSampleRate = OUTPUT_SAMPLE_RATE;
  protected ready = false;
  protected closing = false;
  protected readonly reconnector: Reconnector;
  protected readonly declaredTools: ReadonlySet<string>;
  protected readonly ignored: IgnoredUpstreamLog;
  private droppedAudioChunks = 0;

  constructor(
    /** The service's name in logs and errors: "OpenAI Realtime", "Gemini Live". */
    protected readonly service: string,
    private readonly base: CloudRealtimeOptions,
    private readonly secret: string,
  ) {
    super();
    this.declaredTools = new Set(base.tools.map((t) => t.name));
    this.ignored = new IgnoredUpstreamLog(base.logger, service);
    this.reconnector = new Reconnector({
      open: () => this.open(),
      onGiveUp: () => this.emit('error', { code: 'AGENT_DISCONNECTED', message: `the connection to ${service} was lost and could not be restored`, fatal: true }),
      onReconnected: (attempts) => base.logger.info({ attempts, ...this.reconnectedDetail() }, `${service} reconnected`),
      onAttemptFailed: (err, attempt) => base.logger.warn({ attempt }, err.message),
      maxAttempts: base.maxReconnects,
      baseMs: base.reconnectBaseMs,
    });
  }

  async connect(): Promise<void> {
    await this.open();
  }

  async disconnect(): Promise<void> {
    this.closing = true;
    this.reconnector.stop();
    this.ready = false;
    this.closeConnection();
  }

  /** Opens the upstream connection; resolves once the service has set the session up. */
  protected abstract open(): Promise<void>;

  /** Drops the current connection for good (the session is closing). */
  protected abstract closeConnection(): void;

  /** Extra fields for the "reconnected" log line. */
  protected reconnectedDetail(): Record<string, unknown> {
    return {};
  }

  /**
   * The bookkeeping of one `open()`: `fail` (or the connect timeout, reported as `timeoutWhy`)
   * runs `cleanup` and rejects with a redacted "unavailable" error; `succeed` resolves. Only the
   * first of them counts.
   */
  protected attempt(resolve: () => void, reject: (err: Error) => void, timeoutWhy: string, cleanup: (why: string) => void): ConnectAttempt {
    let settled = false;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      return true;
    };
    const a: ConnectAttempt = {
      get settled() {
        return settled;
      },
      succeed: () => {
        if (settle()) resolve();
      },
      fail: (why: string) => {
        if (!settle()) return;
        cleanup(why);
        reject(new Error(this.redact(`${this.service} unavailable: ${why}`)));
      },
    };
    const timer = setTimeout(() => a.fail(timeoutWhy), this.base.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
    timer.unref();
    return a;
  }

  protected scheduleReconnect(): void {
    if (!this.closing) this.reconnector.schedule();
  }

  protected redact(text: string): string {
    return redactSecrets(text, [this.secret]);
  }

  /** Runs a handler of upstream input: a malformed message must never take the session (or the server) down. */
  protected guarded(what: string, handle: () => void, detail: Record<string, unknown> = {}): void {
    try {
      handle();
    } catch (err) {
      this.ignored.note(`${what} that could not be handled`, { ...detail, err: this.redact(String((err as Error)?.message)) });
    }
  }

  /** Microphone audio while the socket is down: stale audio is worse than none for server VAD, so it goes. */
  protected dropMicAudio(): void {
    if (++this.droppedAudioChunks % 50 === 1) this.base.logger.debug({ chunks: this.droppedAudioChunks }, `microphone audio dropped while ${this.service} reconnects`);
  }
}
