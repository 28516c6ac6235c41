import { ConfigError } from '../../config/config.js';
import { EnvReader } from '../../config/env-reader.js';

/** `AGENT_TYPE=sample_openclaw` settings, under the reference's names and defaults (docs/agents-claw.md). */
export interface OpenClawSettings {
  /** The gateway's OpenAI-compatible base, ending in /v1. */
  baseUrl: string;
  apiToken: string;
  model: string;
  /** Body `user`; undefined: one per client session. */
  userId: string | undefined;
  sessionKey: string | undefined;
  agentId: string | undefined;
  thinkingMode: ThinkingMode;
  historyMaxMessages: number;
  connectTimeoutMs: number;
  readTimeoutMs: number;
  maxRetries: number;
}

export const THINKING_MODES = ['off', 'minimal', 'low', 'medium', 'high'] as const;
export type ThinkingMode = (typeof THINKING_MODES)[number];

/** Appended to the system prompt in the fast thinking modes, as the reference does. */
export const LOW_LATENCY_LINE = 'Prioritize low-latency, concise answers: reply in one to three short spoken sentences.';

export const OPENCLAW_DEFAULT_BASE_URL = 'http://127.0.0.1:19001';

export function readOpenClawSettings(env: Readonly<Record<string, string | undefined>>): OpenClawSettings {
  const r = new EnvReader(env);
  const base = r.url('OPENCLAW_BASE_URL') ?? OPENCLAW_DEFAULT_BASE_URL;
  if (!/^https?:/i.test(base)) throw new ConfigError('OPENCLAW_BASE_URL', 'expected an http:// or https:// URL');
  const trimmed = base.replace(/\/+$/, '').replace(/\/chat\/completions$/, '');
  return {
    baseUrl: /\/v1$/.test(trimmed) ? trimmed : `${trimmed}/v1`,
    apiToken: r.required('OPENCLAW_API_TOKEN', 'required for AGENT_TYPE=sample_openclaw: the gateway token (gateway.auth.token)'),
    model: r.str('OPENCLAW_MODEL', 'openclaw:main'),
    userId: r.optStr('OPENCLAW_USER_ID'),
    sessionKey: r.optStr('OPENCLAW_SESSION_KEY'),
    agentId: r.optStr('OPENCLAW_AGENT_ID'),
    thinkingMode: r.oneOf('OPENCLAW_THINKING_MODE', THINKING_MODES, 'minimal'),
    historyMaxMessages: r.num('OPENCLAW_HISTORY_MAX_MESSAGES', { min: 4, max: 1000, integer: true }) ?? 12,
    connectTimeoutMs: (r.num('OPENCLAW_CONNECT_TIMEOUT', { min: 0.1, max: 600 }) ?? 5) * 1000,
    readTimeoutMs: (r.num('OPENCLAW_READ_TIMEOUT', { min: 1, max: 3600 }) ?? 120) * 1000,
    maxRetries: r.num('OPENCLAW_MAX_RETRIES', { min: 0, max: 10, integer: true }) ?? 2,
  };
}
