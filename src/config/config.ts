import { availableParallelism } from 'node:os';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isIP } from 'node:net';
import { parseEnv } from 'node:util';
import { DEFAULT_TRANSCRIPT_CHARS_PER_SECOND } from '../session/transcript.js';
import { ConfigError, type ConfigWarning } from './config-error.js';
import { EnvReader } from './env-reader.js';
import { AUTO_REALTIME_PRIORITY, type RealtimeSetting } from '../server/realtime-priority.js';
import { checkReferenceSampleRates, knowledgeBaseSource, lipsyncModelPath, rateLimitingEnabled } from './reference-compat.js';

/**
 * Configuration: read once at start from the environment (and `.env`), validated into a typed
 * object. A bad value stops the server with a message naming the variable. Variable names follow
 * the reference server where one exists.
 */
export interface Config {
  host: string;
  port: number;
  agentType: string;
  onnxModelPath: string;
  /** The longest later inference window, seconds (reference: AUDIO_CHUNK_DURATION, fixed-length windows of 0.5 s). */
  audioChunkDurationS: number;
  /** Length of a turn's first inference window, ms: short, for first-frame latency. */
  firstWindowMs: number;
  /** Audio before each window fed to the model so window edges do not show, ms. */
  contextMs: number;
  /**
   * Audio after each window fed to the model when it has already arrived, ms: the model reads up to
   * ~100 ms ahead of a frame, and a window's last frames otherwise see silence there.
   */
  rightContextMs: number;
  inferenceWorkers: number;
  /**
   * INFERENCE_SCHEDULER: `deadline` (earliest due window first, a turn's next window computed
   * while the one before is at the pool, at most `inferenceLookaheadMs` ahead of playback) or
   * `fifo` (arrival order, one window of a turn at a time: the scheduler before, for comparison).
   */
  inferenceScheduler: 'deadline' | 'fifo';
  inferenceLookaheadMs: number;
  /**
   * INFERENCE_TASK_WINDOWS: with the deadline scheduler, the most windows handed to a worker in one
   * task when windows are waiting for a worker (each still its own model call; 1: one per task).
   */
  inferenceTaskWindows: number;
  /** Frames sent ahead of the media clock at the start of a turn. */
  pacingLeadFrames: number;
  /** The pacer's wake-up grid, ms (0: one wake-up per frame deadline): frames go out up to this much early. */
  pacingBatchMs: number;
  /**
   * REALTIME_PRIORITY: SCHED_RR for the main and pacing threads (src/server/realtime-priority.ts).
   * `off` (default); `auto`: priority 10 where the process may, quietly otherwise; or 1–99, a
   * warning if refused.
   */
  realtimePriority: RealtimeSetting;
  debug: boolean;
  logLevel: string;
  assistantInstructions: string;
  knowledgeBaseSource: string;
  ttsVoice: string;
  maxMessageBytes: number;
  idleTimeoutS: number;
  auth: { enabled: boolean; secretKey: string | null; tokenTtlS: number; allowedOrigins: string[] };
  /** `enabled: false` (AUTH_ENABLE_RATE_LIMITING=false) makes every burst unlimited. */
  rateLimit: {
    enabled: boolean;
    connectionsBurst: number; connectionsPerS: number; messagesBurst: number; messagesPerS: number;
    /** MuseTalk clients send a 40 ms GENERATE chunk each: 25/s at real time, more when they send ahead. */
    museTalkMessagesBurst: number; museTalkMessagesPerS: number;
    /** Connection attempts per client address (IPv6: per /64), on top of the per-origin bucket. */
    addressConnectionsBurst: number; addressConnectionsPerS: number;
  };
  /** Peers (IPs / CIDRs) whose `X-Forwarded-For` names the real client address. */
  trustedProxies: string[];
  maxSessions: number;
  /** A client whose unsent bytes exceed this is too slow to follow the stream: its session is closed. */
  maxBufferedBytes: number;
  tls: { certFile: string; keyFile: string } | null;
  /** On SIGTERM/SIGINT, how long playing turns may finish before sessions are closed. */
  shutdownGraceMs: number;
  debugAudioCaptureDir: string | null;
  /** Speaking rate for estimated transcript offsets: TRANSCRIPT_CHARS_PER_SECOND, or the agent's *_TRANSCRIPT_SPEED. */
  transcriptCharsPerSecond: number;
  /** Testing aid only: `crash:<k>` / `hang:<k>`: one inference worker exits / spins on its k-th task, once. */
  inferenceFaultInjection: string;
  /** A window taking longer is aborted and its worker replaced. */
  inferenceTaskTimeoutMs: number;
  /** After the user's text or committed audio, the agent must start answering within this (0: off). */
  agentResponseTimeoutMs: number;
  /** Inside an open response, the agent must send something at least this often (0: off). */
  agentIdleTimeoutMs: number;
  /** Video dialects (docs/video-dialects.md). */
  video: {
    frameStreamIdleTimeoutS: number;
    museTalkIdleTimeoutS: number;
    museTalkPingIntervalS: number;
    /** Folder of avatar packs (sub-folders with an avatar.json), or null. */
    avatarPacksDir: string | null;
    /** The avatar the frame-stream dialect draws ("default": the built-in face). */
    defaultVideo: string;
    /** Longest frame-stream `audio_input` accepted, seconds (INVALID_AUDIO beyond). */
    frameStreamMaxAudioS: number;
    /** Concurrent video sessions (both dialects); beyond → refused, close 1013. */
    maxSessions: number;
  };
  /** Settings accepted but worth a word at start (logged once, as warnings, by the entry point). */
  warnings: readonly ConfigWarning[];
  /** Every variable the process saw, for agent-specific settings read by their own modules. */
  env: Readonly<Record<string, string | undefined>>;
}

export { ConfigError, type ConfigWarning } from './config-error.js';

export const DEFAULT_MODEL_PATH = 'pretrained_models/lipsync-small.onnx';

type Env = Record<string, string | undefined>;

/** `.env` values fill in what the real environment does not set. */
export function readEnv(envFile = '.env', base: Env = process.env): Env {
  if (!existsSync(envFile)) return { ...base };
  const fromFile = parseEnv(readFileSync(envFile, 'utf8'));
  return { ...fromFile, ...base };
}

/**
 * Per-socket send buffer ceiling: uWS's maxBackpressure is derived from it, so it is memory each
 * slow client may pin. 64 MiB is about 10 minutes of the widget stream and a minute of video.
 */
export const MAX_BUFFERED_BYTES_CAP = 64 << 20;

/** TRUSTED_PROXIES: comma-separated IPv4/IPv6 addresses or CIDRs, each checked here. */
function trustedProxies(r: EnvReader): string[] {
  const entries = r.str('TRUSTED_PROXIES', '').split(',').map((e) => e.trim()).filter(Boolean);
  for (const entry of entries) {
    if (!isAddressOrCidr(entry)) throw new ConfigError('TRUSTED_PROXIES', `"${entry}" is not an IPv4/IPv6 address or CIDR (e.g. 10.0.0.0/8, fd00::/8)`);
  }
  return entries;
}

function isAddressOrCidr(entry: string): boolean {
  const [address, prefix, ...rest] = entry.split('/');
  const family = isIP(address ?? '');
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return /^\d{1,3}$/.test(prefix) && bits <= (family === 4 ? 32 : 128);
}

/**
 * TLS when USE_SSL=true. Without a readable certificate and key the server refuses to start: it
 * never serves plain text when TLS was asked for (the Python reference did, while logging wss://),
 * and a self-signed certificate would only move the failure into the browser, which refuses
 * wss:// to an untrusted certificate without asking the user.
 */
function tlsConfig(r: EnvReader): Config['tls'] {
  if (!r.bool('USE_SSL', false)) return null;
  const hint = 'or set USE_SSL=false when TLS ends at a proxy in front of this server';
  for (const name of ['SSL_CERT_FILE', 'SSL_KEY_FILE'] as const) {
    const file = r.str(name, '');
    const what = name === 'SSL_CERT_FILE' ? 'certificate (PEM)' : 'private key (PEM)';
    if (!file) throw new ConfigError(name, `USE_SSL=true needs the ${what} file: set ${name}, ${hint}`);
    if (!existsSync(file)) throw new ConfigError(name, `USE_SSL=true: no ${what} file at ${resolve(file)}; fix ${name}, ${hint}`);
  }
  return { certFile: resolve(r.str('SSL_CERT_FILE', '')), keyFile: resolve(r.str('SSL_KEY_FILE', '')) };
}

/** Chars/s for transcript offsets where the agent gives no word timings; per-agent overrides as in the reference. */
function transcriptCharsPerSecond(r: EnvReader, agentType: string): number {
  const range = { min: 1, max: 100 };
  const base = r.numOr('TRANSCRIPT_CHARS_PER_SECOND', DEFAULT_TRANSCRIPT_CHARS_PER_SECOND, range);
  const openai = r.numOr('OPENAI_TRANSCRIPT_SPEED', base, range);
  const gemini = r.numOr('GEMINI_TRANSCRIPT_SPEED', base, range);
  // The Claw agents' reference default is 14 chars/s unless TRANSCRIPT_CHARS_PER_SECOND says otherwise.
  const claw = r.raw('TRANSCRIPT_CHARS_PER_SECOND') ? base : 14;
  if (agentType === 'sample_openclaw') return r.numOr('OPENCLAW_TRANSCRIPT_SPEED', claw, range);
  if (agentType === 'sample_zeroclaw') return r.numOr('ZEROCLAW_TRANSCRIPT_SPEED', claw, range);
  return agentType === 'sample_openai' ? openai : agentType === 'sample_gemini' ? gemini : base;
}

export function loadConfig(env: Env = readEnv()): Config {
  const warnings: ConfigWarning[] = [];
  const r = new EnvReader(env);
  const debug = r.bool('DEBUG', false);
  const cores = availableParallelism();
  const onnxModelPath = lipsyncModelPath(env, DEFAULT_MODEL_PATH, warnings);
  checkReferenceSampleRates(env);
  const rateLimiting = rateLimitingEnabled(env, warnings);
  const logLevel = debug ? 'debug' : r.str('LOG_LEVEL', 'info');
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `unknown level "${logLevel}"`);
  }
  const fault = r.str('INFERENCE_FAULT_INJECTION', '');
  if (fault !== '' && !/^(crash|hang):\d+$/.test(fault)) {
    throw new ConfigError('INFERENCE_FAULT_INJECTION', 'expected "crash:<k>", "hang:<k>" or nothing');
  }
  const audioChunkDurationS = r.numOr('AUDIO_CHUNK_DURATION', 1.0, { min: 0.1, max: 5 });
  const firstWindowMs = r.numOr('INFERENCE_FIRST_WINDOW_MS', 200, { min: 100, max: 5000 });
  for (const [name, ms] of [['AUDIO_CHUNK_DURATION', audioChunkDurationS * 1000], ['INFERENCE_FIRST_WINDOW_MS', firstWindowMs]] as const) {
    // Windows hold whole 1/30 s frames so every frame gets exactly its own audio.
    if (Math.abs(Math.round(ms * 3) - ms * 3) > 1e-6 || Math.round(ms * 3) % 100 !== 0) {
      throw new ConfigError(name, 'must be a whole number of 1/30 s frames (e.g. 0.2, 0.5, 1.0 s)');
    }
  }
  return {
    host: r.str('SERVER_HOST', '0.0.0.0'),
    port: r.numOr('SERVER_PORT', 8080, { min: 0, max: 65535, integer: true }),
    agentType: r.str('AGENT_TYPE', 'offline'),
    onnxModelPath,
    audioChunkDurationS,
    firstWindowMs,
    // 400: the shipped model's receptive field reaches ~340 ms back, and a multiple of 100 ms (3
    // frames, 10 model hops) keeps each window's frames identical to one long run (measured:
    // |diff| < 3e-6 against 500 ms, below the 4-decimal wire precision); 500 was 25 % more context to compute per window.
    contextMs: r.numOr('INFERENCE_CONTEXT_MS', 400, { min: 0, max: 4000, integer: true }),
    // 100: the shipped model's frames depend on audio up to 97.5 ms after their centre (model card).
    rightContextMs: r.numOr('INFERENCE_RIGHT_CONTEXT_MS', 100, { min: 0, max: 1000, integer: true }),
    inferenceWorkers: r.numOr('INFERENCE_WORKERS', Math.max(1, cores - 1), { min: 1, max: 256, integer: true }),
    inferenceScheduler: r.oneOf('INFERENCE_SCHEDULER', ['deadline', 'fifo'] as const, 'deadline'),
    inferenceLookaheadMs: r.numOr('INFERENCE_LOOKAHEAD_MS', 1000, { min: 100, max: 60_000, integer: true }),
    inferenceTaskWindows: r.numOr('INFERENCE_TASK_WINDOWS', 4, { min: 1, max: 32, integer: true }),
    pacingLeadFrames: r.numOr('PACING_LEAD_FRAMES', 2, { min: 0, max: 30, integer: true }),
    pacingBatchMs: r.numOr('PACING_BATCH_MS', 5, { min: 0, max: 10 }),
    realtimePriority: realtimePriority(r),
    debug,
    logLevel,
    assistantInstructions: r.str('ASSISTANT_INSTRUCTIONS', 'You are a friendly assistant. Keep answers short.'),
    knowledgeBaseSource: knowledgeBaseSource(env),
    ttsVoice: r.str('TTS_VOICE', 'slt'),
    maxMessageBytes: r.numOr('MAX_MESSAGE_BYTES', 1 << 20, { min: 1024, max: 64 << 20, integer: true }),
    idleTimeoutS: r.numOr('IDLE_TIMEOUT_S', 120, { min: 8, max: 960, integer: true }),
    inferenceFaultInjection: fault,
    inferenceTaskTimeoutMs: r.numOr('INFERENCE_TASK_TIMEOUT_MS', 5000, { min: 100, max: 600_000, integer: true }),
    agentResponseTimeoutMs: r.numOr('AGENT_RESPONSE_TIMEOUT_MS', 20_000, { min: 0, max: 600_000, integer: true }),
    agentIdleTimeoutMs: r.numOr('AGENT_IDLE_TIMEOUT_MS', 20_000, { min: 0, max: 600_000, integer: true }),
    auth: {
      enabled: r.bool('AUTH_ENABLED', false),
      secretKey: r.str('AUTH_SECRET_KEY', '') || null,
      tokenTtlS: r.numOr('AUTH_TOKEN_TTL', 3600, { min: 10, max: 7 * 24 * 3600, integer: true }),
      allowedOrigins: r.str('AUTH_ALLOWED_ORIGINS', '').split(',').map((o) => o.trim()).filter(Boolean),
    },
    rateLimit: {
      enabled: rateLimiting,
      // An unlimited bucket never refuses: no special case where the limits are applied.
      connectionsBurst: rateLimiting ? r.numOr('RATE_LIMIT_CONNECTIONS_BURST', 100, { min: 1, max: 1e6, integer: true }) : Number.POSITIVE_INFINITY,
      connectionsPerS: r.numOr('RATE_LIMIT_CONNECTIONS_PER_S', 10, { min: 0.01, max: 1e6 }),
      messagesBurst: rateLimiting ? r.numOr('RATE_LIMIT_MESSAGES_BURST', 60, { min: 1, max: 1e6, integer: true }) : Number.POSITIVE_INFINITY,
      messagesPerS: r.numOr('RATE_LIMIT_MESSAGES_PER_S', 25, { min: 0.01, max: 1e6 }),
      museTalkMessagesBurst: rateLimiting ? r.numOr('MUSETALK_RATE_LIMIT_MESSAGES_BURST', 500, { min: 1, max: 1e6, integer: true }) : Number.POSITIVE_INFINITY,
      museTalkMessagesPerS: r.numOr('MUSETALK_RATE_LIMIT_MESSAGES_PER_S', 100, { min: 0.01, max: 1e6 }),
      addressConnectionsBurst: rateLimiting ? r.numOr('RATE_LIMIT_ADDRESS_CONNECTIONS_BURST', 100, { min: 1, max: 1e6, integer: true }) : Number.POSITIVE_INFINITY,
      addressConnectionsPerS: r.numOr('RATE_LIMIT_ADDRESS_CONNECTIONS_PER_S', 10, { min: 0.01, max: 1e6 }),
    },
    trustedProxies: trustedProxies(r),
    maxSessions: r.numOr('MAX_SESSIONS', 500, { min: 1, max: 1e6, integer: true }),
    maxBufferedBytes: r.numOr('MAX_BUFFERED_BYTES', 4 << 20, { min: 64 << 10, max: MAX_BUFFERED_BYTES_CAP, integer: true }),
    tls: tlsConfig(r),
    shutdownGraceMs: r.numOr('SHUTDOWN_GRACE_MS', 10_000, { min: 0, max: 600_000, integer: true }),
    video: {
      frameStreamIdleTimeoutS: r.numOr('FRAME_STREAM_IDLE_TIMEOUT_S', 60, { min: 8, max: 960, integer: true }),
      museTalkIdleTimeoutS: r.numOr('MUSETALK_IDLE_TIMEOUT_S', 300, { min: 1, max: 86_400 }),
      museTalkPingIntervalS: r.numOr('MUSETALK_PING_INTERVAL_S', 30, { min: 1, max: 3600 }),
      avatarPacksDir: r.str('AVATAR_PACKS_DIR', '') ? resolve(r.str('AVATAR_PACKS_DIR', '')) : null,
      defaultVideo: r.str('AVATAR_DEFAULT_VIDEO', 'default'),
      frameStreamMaxAudioS: r.numOr('FRAME_STREAM_MAX_AUDIO_S', 60, { min: 1, max: 600 }),
      // An idle MuseTalk session streams and encodes 25 FPS: ~0.14–0.18 of a core (README "Hardening").
      maxSessions: r.numOr('VIDEO_MAX_SESSIONS', 4 * cores, { min: 1, max: 1e5, integer: true }),
    },
    transcriptCharsPerSecond: transcriptCharsPerSecond(r, r.str('AGENT_TYPE', 'offline')),
    debugAudioCaptureDir: r.bool('DEBUG_AUDIO_CAPTURE', false) ? resolve(r.str('DEBUG_AUDIO_CAPTURE_DIR', 'captures')) : null,
    warnings,
    env,
  };
}

function realtimePriority(r: EnvReader): RealtimeSetting {
  const raw = r.raw('REALTIME_PRIORITY');
  if (!raw || ['off', 'false', 'no'].includes(raw.value.toLowerCase())) return { priority: 0, explicit: false };
  if (raw.value.toLowerCase() === 'auto') return { priority: AUTO_REALTIME_PRIORITY, explicit: false };
  if (!/^\d+$/.test(raw.value)) throw new ConfigError('REALTIME_PRIORITY', 'expected auto, off or a priority 1–99');
  return { priority: r.numOr('REALTIME_PRIORITY', 0, { min: 0, max: 99, integer: true }), explicit: true };
}
