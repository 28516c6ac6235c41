import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { ConfigError } from '../config/config.js';
import type { Agent } from './agent.js';
import { RemoteAgent } from './remote/remote-agent.js';

export interface AgentFactory {
  /** A fresh agent for one client session. */
  create(): Agent;
  /** Release what the agents share (TTS pool, …). */
  close(): Promise<void>;
}

/**
 * Builds, once at start, what the configured agent type needs (shared pools, knowledge base)
 * and returns a per-session constructor. Adding a provider touches its own module and one
 * case here.
 */
export async function createAgentFactory(config: Config, logger: Logger): Promise<AgentFactory> {
  const log = logger.child({ agent: config.agentType });
  switch (config.agentType) {
    case 'remote': {
      const url = config.env.AGENT_URL;
      if (!url || !/^wss?:\/\//.test(url)) throw new ConfigError('AGENT_URL', 'AGENT_TYPE=remote needs AGENT_URL=ws://… or wss://…');
      return {
        create: () => new RemoteAgent({ url, instructions: config.assistantInstructions, sampleRate: 24_000, logger: log }),
        close: async () => {},
      };
    }
    default:
      throw new ConfigError('AGENT_TYPE', `unknown agent type "${config.agentType}" (known: remote)`);
  }
}
