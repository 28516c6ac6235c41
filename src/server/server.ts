import type { Logger } from 'pino';
import type { TemplatedApp, WebSocket, us_listen_socket } from 'uWebSockets.js';
import { uWS, uwsIsNative } from './uws.js';
import type { Config } from '../config/config.js';
import type { InferencePool } from '../inference/pool.js';
import { Pacer } from '../pacing/pacer.js';
import { Session } from '../session/session.js';
import { schedulingFor } from '../session/turn-scheduler.js';
import { WINDOW_INDEX_LABELS } from '../inference/window-stats.js';
import { OUTPUT_SAMPLE_RATE, wholeFrameSamples } from '../audio/constants.js';
import type { Agent } from '../agents/agent.js';
import { registerDemoPage } from './demo-page.js';
import { registerApiDocs } from './api-docs.js';
import { buildOpenApi } from '../protocol/openapi.js';
import { serializeServerMessage } from '../protocol/widget-server.js';
import { ServerMetrics } from '../metrics/server-metrics.js';
import { LOOP_DELAY_WINDOW_S, LoopDelayMonitor } from '../metrics/loop-delay.js';
import { PrometheusText } from '../metrics/prometheus.js';
import type { TokenBucket } from './rate-limit.js';
import { registerVideoDialects, type VideoDialects } from '../video/register.js';
import { Admission, type Refusal } from './admission.js';
import { anyRoute, getRoute, json, optionsRoute, postRoute } from './http-routes.js';
import { Readiness } from './readiness.js';
import { registerProbeRoutes } from './probe.js';
import { addFleetMetrics } from '../metrics/fleet-metrics.js';
import { applyRealtimePriority, currentThreadId, threadScheduling, type RealtimeState } from './realtime-priority.js';
import { SendStatus, maxBackpressureFor, payloadCeilingFor, uwsForcedCloseCause } from './socket-limits.js';

export interface ServerDeps {
  config: Config;
  logger: Logger;
  pool: InferencePool;
  createAgent(): Agent;
  version: string;
}

interface SocketData {
  session: Session | null;
  /** Set at upgrade when the connection must be refused: closed right after it opens. */
  reject: Refusal | null;
  messages: TokenBucket;
  /** False from the moment uWS reports the close: sending after that would throw. */
  open: boolean;
}

/**
 * The main thread: socket I/O only. Routes, WebSocket upgrade, parse-and-dispatch to sessions,
 * and sending the bytes the pacing worker hands back.
 */
export class AvatarServer {
  private readonly app: TemplatedApp;
  private listenSocket: us_listen_socket | null = null;
  readonly pacer: Pacer;
  readonly sessions = new Map<number, Session>();
  private readonly sockets = new Map<number, WebSocket<SocketData>>();
  private nextKey = 1;
  readonly loopDelay = new LoopDelayMonitor();
  /** Event-loop delay of the last completed 5 s window (ms), so readings follow the load. */
  loopDelayWindow = { p50Ms: 0, p99Ms: 0, maxMs: 0, windowS: LOOP_DELAY_WINDOW_S };
  private readonly loopDelayTimer: NodeJS.Timeout;
  /** REALTIME_PRIORITY's outcome at start (src/server/realtime-priority.ts), set by `listen`. */
  realtime: RealtimeState = { status: 'off', priority: 0, threads: [] };
  readonly metrics = new ServerMetrics();
  framesSent = 0;
  port = 0;
  /** One admission (auth, connection limits, one session count) for all three dialects. */
  private readonly admission: Admission;
  private video: VideoDialects | null = null;
  /** /health, /ready and the fleet metrics (src/server/readiness.ts). */
  readonly readiness: Readiness;

  constructor(private readonly deps: ServerDeps) {
    this.readiness = new Readiness({ config: deps.config, pool: deps.pool, openSessions: () => this.openSessions() });
    this.loopDelayTimer = setInterval(() => {
      this.loopDelayWindow = { ...this.loopDelay.snapshot(), windowS: LOOP_DELAY_WINDOW_S };
      this.loopDelay.reset();
    }, LOOP_DELAY_WINDOW_S * 1000);
    this.loopDelayTimer.unref();
    this.pacer = new Pacer(deps.config.pacingLeadFrames, deps.config.pacingBatchMs, {
      onFrame: (key, turn, _frameIndex, bytes) => this.sendFrame(key, turn, bytes),
      onTurnDone: (key, turn) => this.sessions.get(key)?.onTurnDone(turn),
    }, deps.logger);
    const { config, logger } = deps;
    this.admission = new Admission(config, logger, () => this.openSessions());
    this.app = config.tls ? uWS.SSLApp({ cert_file_name: config.tls.certFile, key_file_name: config.tls.keyFile }) : uWS.App();
    this.routes();
  }

  private sendFrame(key: number, turn: number, bytes: Uint8Array): void {
    const ws = this.sockets.get(key);
    if (ws) ws.cork(() => this.sessions.get(key)?.deliverFrame(turn, bytes));
  }

  private routes(): void {
    const { config, logger } = this.deps;
    registerProbeRoutes(this.app, this.readiness);
    getRoute(this.app, '/inf', (res) => {
      const body: Record<string, unknown> = { name: 'avatar-stream-server', version: this.deps.version, status: 'running' };
      if (config.debug) {
        body.agentType = config.agentType;
        body.wsUrl = `ws://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${this.port}/ws`;
        body.uwsNative = uwsIsNative;
      }
      json(res, '200 OK', body);
    });
    optionsRoute(this.app, '/api/auth/token', (res, req) => {
      const origin = req.getHeader('origin');
      res.cork(() => {
        if (origin && this.admission.auth?.isOriginAllowed(origin)) {
          res.writeStatus('204 No Content')
            .writeHeader('access-control-allow-origin', origin)
            .writeHeader('vary', 'Origin')
            .writeHeader('access-control-allow-methods', 'POST, OPTIONS')
            .writeHeader('access-control-allow-headers', 'content-type')
            .writeHeader('access-control-max-age', '600')
            .end();
        } else {
          res.writeStatus('403 Forbidden').end();
        }
      });
    });
    postRoute(this.app, '/api/auth/token', (res, req) => {
      const origin = req.getHeader('origin');
      res.onAborted(() => {});
      const auth = this.admission.auth;
      if (!auth) return json(res, '403 Forbidden', { error: 'authentication is disabled' });
      if (!origin) return json(res, '400 Bad Request', { error: 'missing Origin header' });
      // No CORS headers for a refused origin: its page must not even read why.
      if (!auth.isOriginAllowed(origin)) return json(res, '403 Forbidden', { error: 'origin not allowed' });
      json(res, '200 OK', auth.issue(origin), origin);
    });
    getRoute(this.app, '/stats', (res) => json(res, '200 OK', this.stats()));
    getRoute(this.app, '/metrics', (res) => {
      const body = this.prometheus();
      res.cork(() => res.writeHeader('content-type', 'text/plain; version=0.0.4; charset=utf-8').end(body));
    });
    // Before the demo page: WebSocket upgrades on `/` go to the frame-stream dialect.
    this.video = registerVideoDialects(this.app, { ...this.deps, admission: this.admission });
    registerDemoPage(this.app, logger);
    registerApiDocs(this.app, buildOpenApi(this.deps.version));
    this.app.ws<SocketData>('/ws', {
      compression: uWS.DISABLED,
      // Between MAX_MESSAGE_BYTES and this ceiling the session answers MESSAGE_TOO_LARGE (§1.2).
      maxPayloadLength: payloadCeilingFor(config.maxMessageBytes),
      // uWS wants a multiple of 4; the widget pings every 30 s, uWS pings idle sockets too.
      idleTimeout: Math.max(8, Math.ceil(config.idleTimeoutS / 4) * 4),
      sendPingsAutomatically: true,
      maxBackpressure: maxBackpressureFor(config.maxBufferedBytes),
      upgrade: (res, req, context) => {
        res.upgrade<SocketData>(
          {
            session: null, open: true, reject: this.admission.check(res, req), messages: this.admission.messageBucket(),
          },
          req.getHeader('sec-websocket-key'),
          req.getHeader('sec-websocket-protocol'),
          req.getHeader('sec-websocket-extensions'),
          context,
        );
      },
      open: (ws) => this.openSession(ws),
      message: (ws, message, isBinary) => {
        const data = ws.getUserData();
        const session = data.session;
        if (!session) return;
        if (!data.messages.take()) {
          session.sendError('RATE_LIMITED', 'too many messages; closing this connection');
          ws.end(1008, 'rate limit exceeded');
          return;
        }
        try {
          session.onMessage(message, isBinary);
        } catch (err) {
          logger.error({ err, sessionId: session.id }, 'message handling failed');
          session.sendError('INTERNAL_ERROR', 'the server could not handle this message');
        }
      },
      close: (ws, code, message) => {
        const data = ws.getUserData();
        data.open = false;
        const session = data.session;
        if (!session) return;
        const forced = uwsForcedCloseCause(code, message);
        if (forced) logger.warn({ sessionId: session.id, cause: forced }, 'client sent a frame the socket library refuses; it dropped the connection (1006)');
        this.sessions.delete(session.key);
        this.sockets.delete(session.key);
        session.close();
        logger.info({ sessionId: session.id, code }, 'session closed');
      },
    });
    // HEAD of an unknown path: 404 like GET (getRoute answers HEAD on the known ones).
    getRoute(this.app, '/*', (res) => json(res, '404 Not Found', { error: 'not found' }));
    anyRoute(this.app, '/*', (res) => json(res, '404 Not Found', { error: 'not found' }));
  }

  /** Live numbers for engineers (demo page, bench): JSON, cheap to compute. */
  stats(): Record<string, unknown> {
    const pool = this.deps.pool;
    const pacing = this.pacer.stats;
    const batching = pool.batching;
    return {
      sessions: this.sessions.size,
      videoSessions: this.video?.sessions ?? { frameStream: 0, museTalk: 0 },
      speakingSessions: [...this.sessions.values()].filter((s) => s.isSpeaking).length,
      framesSent: this.framesSent,
      pacing: pacing && {
        latenessP50Ms: +pacing.latenessP50.toFixed(3), latenessP99Ms: +pacing.latenessP99.toFixed(3), latenessMaxMs: +pacing.latenessMax.toFixed(3),
        framesLastSecond: pacing.frames, underruns: pacing.underruns, reanchors: pacing.reanchors, queuedFrames: pacing.queuedFrames,
      },
      inference: {
        workers: pool.threads, windows: pool.windows, failures: pool.failures, neutralWindows: pool.neutralWindows,
        hedges: pool.hedges, deadlineFills: pool.deadlineFills, lateResultsDiscarded: pool.lateResultsDiscarded,
        rtfMean: pool.audioMsTotal > 0 ? +(pool.inferMsTotal / pool.audioMsTotal).toFixed(5) : null,
        rtfP50: +pool.rtf.quantile(0.5).toFixed(5), rtfP95: +pool.rtf.quantile(0.95).toFixed(5),
        windowMsP50: +pool.windowMs.quantile(0.5).toFixed(3), windowMsP95: +pool.windowMs.quantile(0.95).toFixed(3),
        queue: pool.queueSize, utilization: +pool.utilization.toFixed(4),
        tasks: batching.tasks, batchedWindows: batching.windows, batches: batching.batches, batchYields: batching.yields,
      },
      realtime: this.realtimeNow(),
      eventLoop: { delayP50Ms: this.loopDelayWindow.p50Ms, delayP99Ms: this.loopDelayWindow.p99Ms, delayMaxMs: this.loopDelayWindow.maxMs, windowS: LOOP_DELAY_WINDOW_S },
      memory: { rssBytes: process.memoryUsage.rss() },
    };
  }

  /** The threads REALTIME_PRIORITY covers, as the kernel schedules them now. */
  private realtimeNow(): { status: RealtimeState['status']; priority: number; reason?: string; threads: Array<{ name: string; tid: number; policy: string; rtPriority: number }> } {
    const r = this.realtime;
    const threads = r.threads.map((t) => {
      const now = threadScheduling(t.tid);
      return { name: t.name, tid: t.tid, policy: now?.policy ?? 'gone', rtPriority: now?.rtPriority ?? 0 };
    });
    return { status: r.status, priority: r.priority, ...(r.reason === undefined ? {} : { reason: r.reason }), threads };
  }

  /** `/metrics`: the same numbers as /stats, plus full histograms, in Prometheus text format. */
  prometheus(): string {
    const pool = this.deps.pool;
    const pacing = this.pacer.stats;
    const batching = pool.batching;
    const m = this.metrics;
    const p = new PrometheusText()
      .gauge('avatar_sessions', 'Open widget-dialect sessions', this.sessions.size)
      .gauge('avatar_video_sessions_frame_stream', 'Open frame-stream dialect sessions', this.video?.sessions.frameStream ?? 0)
      .gauge('avatar_video_sessions_musetalk', 'Open MuseTalk dialect sessions', this.video?.sessions.museTalk ?? 0)
      .gauge('avatar_sessions_speaking', 'Sessions with a turn playing', [...this.sessions.values()].filter((s) => s.isSpeaking).length)
      .counter('avatar_sessions_opened_total', 'Sessions opened since start', m.sessionsOpened)
      .counter('avatar_turns_started_total', 'Turns started', m.turnsStarted)
      .counter('avatar_turns_completed_total', 'Turns played to the end', m.turnsCompleted)
      .counter('avatar_turns_interrupted_total', 'Turns interrupted', m.turnsInterrupted)
      .counter('avatar_frames_sent_total', 'sync_frame messages sent', this.framesSent)
      .counterFamily('avatar_errors_total', 'error messages sent to clients, by code', [...m.errorsByCode].map(([code, n]) => [{ code }, n]))
      .histogram('avatar_inference_rtf', 'Real-time factor per inference window (task time / audio time)', pool.rtf)
      .histogram('avatar_inference_window_seconds', 'Wall time per inference window', pool.windowMs, 0.001)
      .counter('avatar_inference_windows_total', 'Inference windows run', pool.windows)
      .counter('avatar_inference_failures_total', 'Inference tasks that failed (crash or error)', pool.failures)
      .counter('avatar_inference_hedges_total', 'Windows run again on another worker after missing their hedge point', pool.hedges)
      .counter('avatar_inference_deadline_fills_total', 'Windows served with neutral weights because no result was back before their frames were due', pool.deadlineFills)
      .counter('avatar_inference_late_results_discarded_total', 'Window results discarded because a hedge or fill had already been used', pool.lateResultsDiscarded)
      .counter('avatar_inference_tasks_total', 'Tasks handed to inference workers: one window, or several (deadline scheduler)', batching.tasks)
      .counter('avatar_inference_batched_windows_total', 'Windows handed to a worker several in one task (INFERENCE_TASK_WINDOWS)', batching.windows)
      .counter('avatar_inference_batches_total', 'Tasks that carried several windows to one worker', batching.batches)
      .counter('avatar_inference_batch_yields_total', 'Batches asked to stop early because a more urgent window was queued', batching.yields)
      .gauge('avatar_inference_queue_depth', 'Windows waiting for a worker', pool.queueSize)
      .gauge('avatar_inference_workers', 'Live inference worker threads', pool.threads)
      .gauge('avatar_inference_pool_utilization', 'Inference workers busy on windows since start (0..1: window time / (uptime × workers))', pool.utilization)
      .gauge('avatar_inference_scheduler_info', 'INFERENCE_SCHEDULER in use (label), always 1', 1, { scheduler: pool.queueOrder })
      .histogram('avatar_inference_queue_wait_seconds', 'Window dispatched on the main thread until a worker starts it', pool.stats.queueWaitMs, 0.001)
      .histogram('avatar_inference_round_trip_seconds', 'Window dispatched until its result is back on the main thread', pool.stats.roundTripMs, 0.001)
      .histogramFamily('avatar_inference_stage_seconds', 'Wall time of each stage of a model window in its worker', [
        [{ stage: 'read' }, pool.stats.stageMs.readMs], [{ stage: 'resample' }, pool.stats.stageMs.resampleMs],
        [{ stage: 'model' }, pool.stats.stageMs.modelMs], [{ stage: 'encode' }, pool.stats.stageMs.encodeMs],
      ], 0.001)
      .counter('avatar_inference_worker_cpu_seconds_total', 'Inference worker threads\' CPU time: model windows and the pool\'s hand-offs between them', pool.stats.workerCpuMs / 1000)
      .counter('avatar_inference_worker_wall_seconds_total', 'Worker wall time of the model windows that reported CPU time', pool.stats.workerWallMs / 1000)
      .counterFamily('avatar_inference_windows_by_index_total', 'Model windows by their index in the turn', WINDOW_INDEX_LABELS.map((w, i) => [{ window: w }, pool.stats.byIndex[i]!]))
      .counterFamily('avatar_inference_late_windows_total', 'Model windows whose result came back after their first frame was due, by index in the turn', WINDOW_INDEX_LABELS.map((w, i) => [{ window: w }, pool.stats.lateByIndex[i]!]))
      .gauge('avatar_pacing_queued_frames', 'Frames waiting for their deadline in the pacer', pacing?.queuedFrames ?? 0)
      .counter('avatar_pacing_underruns_total', 'Frames that reached the pacer after their deadline', pacing?.underruns ?? 0)
      .counter('avatar_pacing_reanchors_total', 'Turn clocks moved later because agent audio came behind real time (a late inference result does not move it)', pacing?.reanchors ?? 0)
      .gauge('avatar_event_loop_delay_p99_seconds', 'Main-thread event-loop delay, 99th percentile over the last 5 s', this.loopDelayWindow.p99Ms / 1000)
      .gauge('avatar_event_loop_delay_max_seconds', 'Main-thread event-loop delay, maximum over the last 5 s', this.loopDelayWindow.maxMs / 1000)
      .gauge('avatar_realtime_threads', 'Latency-critical threads (main, pacing) running SCHED_RR (REALTIME_PRIORITY)', this.realtimeNow().threads.filter((t) => t.policy === 'rr').length)
      .gauge('process_resident_memory_bytes', 'Resident set size', process.memoryUsage.rss());
    addFleetMetrics(p, this.readiness.state());
    if (pacing) {
      p.histogram('avatar_pacing_lateness_seconds', 'Frame send time minus its deadline (frames queued before it; late ones are underruns)', {
        bounds: pacing.latenessBounds, counts: pacing.latenessBuckets, sum: pacing.latenessSum, count: pacing.latenessCount,
      }, 0.001);
    }
    return p.toString();
  }

  /** Open sessions of every dialect: what MAX_SESSIONS and readiness count. */
  openSessions(): number {
    return this.sessions.size + (this.video?.openSessions ?? 0);
  }

  private openSession(ws: WebSocket<SocketData>): void {
    const { config, logger, pool } = this.deps;
    const data = ws.getUserData();
    if (data.reject) {
      const { code, reason, errorCode } = data.reject;
      if (errorCode) ws.send(serializeServerMessage({ type: 'error', code: errorCode, message: reason, timestamp: Date.now() }), false);
      this.metrics.error(errorCode ?? 'AUTH_FAILED');
      logger.info({ code, reason }, 'connection refused');
      ws.end(code, reason);
      return;
    }
    const key = this.nextKey++;
    const session = new Session({
      key,
      agent: this.deps.createAgent(),
      pool,
      pacer: this.pacer,
      logger,
      metrics: this.metrics,
      transport: {
        sendText: (text) => {
          if (data.open && ws.send(text, false) === SendStatus.DROPPED) this.dropSlowClient(ws, session);
        },
        sendFrame: (bytes) => {
          if (!data.open) return;
          if (ws.getBufferedAmount() > config.maxBufferedBytes) {
            // The client cannot keep up with real time: end it rather than buffer without bound.
            this.dropSlowClient(ws, session);
            return;
          }
          if (ws.send(bytes, false) === SendStatus.DROPPED) return this.dropSlowClient(ws, session);
          this.framesSent++;
        },
        close: (code, reason) => {
          if (data.open) ws.end(code, reason);
        },
      },
      firstWindowSamples: Math.round((config.firstWindowMs / 1000) * OUTPUT_SAMPLE_RATE),
      windowSamples: Math.round(config.audioChunkDurationS * OUTPUT_SAMPLE_RATE),
      contextSamples: wholeFrameSamples(config.contextMs / 1000),
      rightContextSamples: wholeFrameSamples(config.rightContextMs / 1000),
      ...schedulingFor(config),
      maxMessageBytes: config.maxMessageBytes,
      captureDir: config.debugAudioCaptureDir,
      agentResponseTimeoutMs: config.agentResponseTimeoutMs,
      agentIdleTimeoutMs: config.agentIdleTimeoutMs,
      transcriptCharsPerSecond: config.transcriptCharsPerSecond,
    });
    data.session = session;
    this.sessions.set(key, session);
    this.sockets.set(key, ws);
    this.metrics.sessionsOpened++;
    logger.info({ sessionId: session.id }, 'session opened');
    void session.start();
  }

  /**
   * The slow-client policy: a client that cannot take the stream in real time is closed with a
   * reason, never left with a silent gap (uWS drops sends above maxBackpressure).
   */
  private dropSlowClient(ws: WebSocket<SocketData>, session: Session): void {
    const data = ws.getUserData();
    if (!data.open) return;
    this.deps.logger.warn({ sessionId: session.id, buffered: ws.getBufferedAmount(), limit: this.deps.config.maxBufferedBytes }, 'client too slow; closing session');
    data.open = false;
    ws.end(1008, 'client too slow');
  }

  async listen(): Promise<number> {
    const { host, port, realtimePriority } = this.deps.config;
    // Before the first session: the main and pacing threads on SCHED_RR where permitted.
    this.realtime = await applyRealtimePriority(realtimePriority, [
      { name: 'main', tid: currentThreadId() },
      { name: 'pacing', tid: await this.pacer.kernelThreadId },
    ], this.deps.logger);
    return new Promise((resolve, reject) => {
      this.app.listen(host, port, (socket) => {
        if (!socket) {
          reject(new Error(`cannot listen on ${host}:${port}`));
          return;
        }
        this.listenSocket = socket;
        this.port = uWS.us_socket_local_port(socket);
        // Start-up (model loads, compiles) is not serving: measure the event loop from here.
        this.loopDelay.reset();
        resolve(this.port);
      });
    });
  }

  /**
   * Graceful stop: refuse new sessions, let playing turns finish for up to `graceMs`, then end
   * any turn still playing as an interrupt (the client sees interrupt, Listening, transcript_done)
   * and close every session with 1001, and stop the pacer.
   */
  async close(graceMs = 0): Promise<void> {
    this.readiness.drain();
    this.admission.stopAccepting();
    if (this.listenSocket) uWS.us_listen_socket_close(this.listenSocket);
    this.listenSocket = null;
    const deadline = performance.now() + graceMs;
    while (performance.now() < deadline && [...this.sessions.values()].some((s) => s.isSpeaking)) {
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const ws of this.sockets.values()) {
      ws.cork(() => {
        ws.getUserData().session?.interrupt('shutdown');
        ws.end(1001, 'server shutting down');
      });
    }
    await this.video?.close();
    this.admission.close();
    clearInterval(this.loopDelayTimer);
    this.readiness.close();
    this.loopDelay.stop();
    await this.pacer.stop();
  }
}
