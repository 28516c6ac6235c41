import type { Logger } from 'pino';
import { ConfigError, type Config } from '../config/config.js';
import type { Agent } from './agent.js';
import { prepareOfflineAgent } from './offline/prepare.js';
import { prepareRemoteAgent } from './remote/prepare.js';
import { prepareLocalAgent } from './local/prepare.js';
import { prepareOpenAIAgent } from './openai/prepare.js';
import { prepareGeminiAgent } from './gemini/prepare.js';
import { prepareOpenClawAgent } from './openclaw/prepare.js';
import { prepareZeroClawAgent } from './zeroclaw/prepare.js';

/** What the server gets from an agent type: a per-session constructor and a clean-up. */
export interface AgentFactory {
  /** A fresh agent for one client session. */
  create(): Agent;
  /** Release what the sessions' agents share (TTS pool, …). */
  close(): Promise<void>;
}

/**
 * Builds, once at start, what an agent type shares across sessions (pools, knowledge base,
 * validated settings). Throws ConfigError naming the variable when a setting is wrong.
 */
export type AgentPreparer = (config: Config, logger: Logger) => Promise<AgentFactory>;

/** `AGENT_TYPE` → its preparer. Adding a provider is one new module and one line here. */
const AGENT_TYPES: Readonly<Record<string, AgentPreparer>> = {
  offline: prepareOfflineAgent,
  remote: prepareRemoteAgent,
  local: prepareLocalAgent,
  sample_openai: prepareOpenAIAgent,
  sample_gemini: prepareGeminiAgent,
  sample_openclaw: prepareOpenClawAgent,
  sample_zeroclaw: prepareZeroClawAgent,
};

export const KNOWN_AGENT_TYPES: readonly string[] = Object.keys(AGENT_TYPES);

export function isKnownAgentType(type: string): boolean {
  return Object.hasOwn(AGENT_TYPES, type);
}

export async function createAgentFactory(config: Config, logger: Logger): Promise<AgentFactory> {
  if (!isKnownAgentType(config.agentType)) {
    throw new ConfigError('AGENT_TYPE', `unknown agent type "${config.agentType}"; known types: ${KNOWN_AGENT_TYPES.join(', ')}`);
  }
  return AGENT_TYPES[config.agentType]!(config, logger.child({ agent: config.agentType }));
}
