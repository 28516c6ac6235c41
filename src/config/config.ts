import { availableParallelism } from 'node:os';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isIP } from 'node:net';
import { parseEnv } from 'node:util';
import { DEFAULT_TRANSCRIPT_CHARS_PER_SECOND } from '../session/transcript.js';
import { ConfigError, type ConfigWarning } from './config-error.js';
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
  blendshapeFps: number;
  /** Length of the later inference windows, seconds (reference: AUDIO_CHUNK_DURATION). */
  audioChunkDurationS: number;
  /** Length of a turn's first inference window, ms: short, for first-frame latency. */
  firstWindowMs: number;
  /** Audio before each window fed to the model so window edges do not show, ms. */
  contextMs: number;
  inferenceWorkers: number;
  /** Frames sent ahead of the media clock at the start of a turn. */
  pacingLeadFrames: number;
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

function str(env: Env, name: string, fallback: string): string {
  const v = env[name];
  return v === undefined || v.trim() === '' ? fallback : v.trim();
}

function num(env: Env, name: string, fallback: number, opts: { min: number; max: number; integer?: boolean }): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v)) throw new ConfigError(name, `expected a number, got "${raw}"`);
  if (opts.integer && !Number.isInteger(v)) throw new ConfigError(name, `expected an integer, got "${raw}"`);
  if (v < opts.min || v > opts.max) throw new ConfigError(name, `must be between ${opts.min} and ${opts.max}, got ${v}`);
  return v;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(name, `expected true or false, got "${raw}"`);
}

/**
 * Per-socket send buffer ceiling: uWS's maxBackpressure is derived from it, so it is memory each
 * slow client may pin. 64 MiB is about 10 minutes of the widget stream and a minute of video.
 */
export const MAX_BUFFERED_BYTES_CAP = 64 << 20;

/** TRUSTED_PROXIES: comma-separated IPv4/IPv6 addresses or CIDRs, each checked here. */
function trustedProxies(env: Env): string[] {
  const entries = str(env, 'TRUSTED_PROXIES', '').split(',').map((e) => e.trim()).filter(Boolean);
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
function tlsConfig(env: Env): Config['tls'] {
  if (!bool(env, 'USE_SSL', false)) return null;
  const hint = 'or set USE_SSL=false when TLS ends at a proxy in front of this server';
  for (const name of ['SSL_CERT_FILE', 'SSL_KEY_FILE'] as const) {
    const file = str(env, name, '');
    const what = name === 'SSL_CERT_FILE' ? 'certificate (PEM)' : 'private key (PEM)';
    if (!file) throw new ConfigError(name, `USE_SSL=true needs the ${what} file: set ${name}, ${hint}`);
    if (!existsSync(file)) throw new ConfigError(name, `USE_SSL=true: no ${what} file at ${resolve(file)}; fix ${name}, ${hint}`);
  }
  return { certFile: resolve(str(env, 'SSL_CERT_FILE', '')), keyFile: resolve(str(env, 'SSL_KEY_FILE', '')) };
}

/** Chars/s for transcript offsets where the agent gives no word timings; per-agent overrides as in the reference. */
function transcriptCharsPerSecond(env: Env, agentType: string): number {
  const range = { min: 1, max: 100 };
  const base = num(env, 'TRANSCRIPT_CHARS_PER_SECOND', DEFAULT_TRANSCRIPT_CHARS_PER_SECOND, range);
  const openai = num(env, 'OPENAI_TRANSCRIPT_SPEED', base, range);
  const gemini = num(env, 'GEMINI_TRANSCRIPT_SPEED', base, range);
  // The Claw agents' reference default is 14 chars/s unless TRANSCRIPT_CHARS_PER_SECOND says otherwise.
  const claw = env.TRANSCRIPT_CHARS_PER_SECOND?.trim() ? base : 14;
  if (agentType === 'sample_openclaw') return num(env, 'OPENCLAW_TRANSCRIPT_SPEED', claw, range);
  if (agentType === 'sample_zeroclaw') return num(env, 'ZEROCLAW_TRANSCRIPT_SPEED', claw, range);
  return agentType === 'sample_openai' ? openai : agentType === 'sample_gemini' ? gemini : base;
}

export function loadConfig(env: Env = readEnv()): Config {
  const warnings: ConfigWarning[] = [];
  const debug = bool(env, 'DEBUG', false);
  const cores = availableParallelism();
  const blendshapeFps = num(env, 'BLENDSHAPE_FPS', 30, { min: 1, max: 120 });
  if (blendshapeFps !== 30) {
    throw new ConfigError('BLENDSHAPE_FPS', 'must be 30: the widget protocol carries 1/30 s of audio per sync_frame');
  }
  const onnxModelPath = lipsyncModelPath(env, DEFAULT_MODEL_PATH, warnings);
  checkReferenceSampleRates(env);
  const rateLimiting = rateLimitingEnabled(env, warnings);
  const logLevel = debug ? 'debug' : str(env, 'LOG_LEVEL', 'info');
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `unknown level "${logLevel}"`);
  }
  const fault = str(env, 'INFERENCE_FAULT_INJECTION', '');
  if (fault !== '' && !/^(crash|hang):\d+$/.test(fault)) {
    throw new ConfigError('INFERENCE_FAULT_INJECTION', 'expected "crash:<k>", "hang:<k>" or nothing');
  }
  const audioChunkDurationS = num(env, 'AUDIO_CHUNK_DURATION', 0.5, { min: 0.1, max: 5 });
  const firstWindowMs = num(env, 'INFERENCE_FIRST_WINDOW_MS', 200, { min: 100, max: 5000 });
  for (const [name, ms] of [['AUDIO_CHUNK_DURATION', audioChunkDurationS * 1000], ['INFERENCE_FIRST_WINDOW_MS', firstWindowMs]] as const) {
    // Windows hold whole 1/30 s frames so every frame gets exactly its own audio.
    if (Math.abs(Math.round(ms * 3) - ms * 3) > 1e-6 || Math.round(ms * 3) % 100 !== 0) {
      throw new ConfigError(name, 'must be a whole number of 1/30 s frames (e.g. 0.2, 0.5, 1.0 s)');
    }
  }
  return {
    host: str(env, 'SERVER_HOST', '0.0.0.0'),
    port: num(env, 'SERVER_PORT', 8080, { min: 0, max: 65535, integer: true }),
    agentType: str(env, 'AGENT_TYPE', 'offline'),
    onnxModelPath,
    blendshapeFps,
    audioChunkDurationS,
    firstWindowMs,
    contextMs: num(env, 'INFERENCE_CONTEXT_MS', 500, { min: 0, max: 4000, integer: true }),
    inferenceWorkers: num(env, 'INFERENCE_WORKERS', Math.max(1, cores - 1), { min: 1, max: 256, integer: true }),
    pacingLeadFrames: num(env, 'PACING_LEAD_FRAMES', 2, { min: 0, max: 30, integer: true }),
    debug,
    logLevel,
    assistantInstructions: str(env, 'ASSISTANT_INSTRUCTIONS', 'You are a friendly assistant. Keep answers short.'),
    knowledgeBaseSource: knowledgeBaseSource(env),
    ttsVoice: str(env, 'TTS_VOICE', 'slt'),
    maxMessageBytes: num(env, 'MAX_MESSAGE_BYTES', 1 << 20, { min: 1024, max: 64 << 20, integer: true }),
    idleTimeoutS: num(env, 'IDLE_TIMEOUT_S', 120, { min: 8, max: 960, integer: true }),
    inferenceFaultInjection: fault,
    inferenceTaskTimeoutMs: num(env, 'INFERENCE_TASK_TIMEOUT_MS', 5000, { min: 100, max: 600_000, integer: true }),
    agentResponseTimeoutMs: num(env, 'AGENT_RESPONSE_TIMEOUT_MS', 20_000, { min: 0, max: 600_000, integer: true }),
    agentIdleTimeoutMs: num(env, 'AGENT_IDLE_TIMEOUT_MS', 20_000, { min: 0, max: 600_000, integer: true }),
    auth: {
      enabled: bool(env, 'AUTH_ENABLED', false),
      secretKey: str(env, 'AUTH_SECRET_KEY', '') || null,
      tokenTtlS: num(env, 'AUTH_TOKEN_TTL', 3600, { min: 10, max: 7 * 24 * 3600, integer: true }),
      allowedOrigins: str(env, 'AUTH_ALLOWED_ORIGINS', '').split(',').map((o) => o.trim()).filter(Boolean),
    },
    rateLimit: {
      enabled: rateLimiting,
      // An unlimited bucket never refuses: no special case where the limits are applied.
      connectionsBurst: rateLimiting ? num(env, 'RATE_LIMIT_CONNECTIONS_BURST', 100, { min: 1, max: 1e6, integer: true }) : Number.POSITIVE_INFINITY,
      connectionsPerS: num(env, 'RATE_LIMIT_CONNECTIONS_PER_S', 10, { min: 0.01, max: 1e6 }),
      messagesBurst: rateLimiting ? num(env, 'RATE_LIMIT_MESSAGES_BURST', 60, { min: 1, max: 1e6, integer: true }) : Number.POSITIVE_INFINITY,
      messagesPerS: num(env, 'RATE_LIMIT_MESSAGES_PER_S', 25, { min: 0.01, max: 1e6 }),
      addressConnectionsBurst: rateLimiting ? num(env, 'RATE_LIMIT_ADDRESS_CONNECTIONS_BURST', 100, { min: 1, max: 1e6, integer: true }) : Number.POSITIVE_INFINITY,
      addressConnectionsPerS: num(env, 'RATE_LIMIT_ADDRESS_CONNECTIONS_PER_S', 10, { min: 0.01, max: 1e6 }),
    },
    trustedProxies: trustedProxies(env),
    maxSessions: num(env, 'MAX_SESSIONS', 500, { min: 1, max: 1e6, integer: true }),
    maxBufferedBytes: num(env, 'MAX_BUFFERED_BYTES', 4 << 20, { min: 64 << 10, max: MAX_BUFFERED_BYTES_CAP, integer: true }),
    tls: tlsConfig(env),
    shutdownGraceMs: num(env, 'SHUTDOWN_GRACE_MS', 10_000, { min: 0, max: 600_000, integer: true }),
    video: {
      frameStreamIdleTimeoutS: num(env, 'FRAME_STREAM_IDLE_TIMEOUT_S', 60, { min: 8, max: 960, integer: true }),
      museTalkIdleTimeoutS: num(env, 'MUSETALK_IDLE_TIMEOUT_S', 300, { min: 1, max: 86_400 }),
      museTalkPingIntervalS: num(env, 'MUSETALK_PING_INTERVAL_S', 30, { min: 1, max: 3600 }),
      avatarPacksDir: str(env, 'AVATAR_PACKS_DIR', '') ? resolve(str(env, 'AVATAR_PACKS_DIR', '')) : null,
      defaultVideo: str(env, 'AVATAR_DEFAULT_VIDEO', 'default'),
      frameStreamMaxAudioS: num(env, 'FRAME_STREAM_MAX_AUDIO_S', 60, { min: 1, max: 600 }),
      // An idle MuseTalk session streams and encodes 25 FPS: ~0.14–0.18 of a core (README "Hardening").
      maxSessions: num(env, 'VIDEO_MAX_SESSIONS', 4 * cores, { min: 1, max: 1e5, integer: true }),
    },
    transcriptCharsPerSecond: transcriptCharsPerSecond(env, str(env, 'AGENT_TYPE', 'offline')),
    debugAudioCaptureDir: bool(env, 'DEBUG_AUDIO_CAPTURE', false) ? resolve(str(env, 'DEBUG_AUDIO_CAPTURE_DIR', 'captures')) : null,
    warnings,
    env,
  };
}
