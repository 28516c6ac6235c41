import { ConfigError } from '../../config/config.js';
import { OUTPUT_SAMPLE_RATE } from '../../audio/constants.js';
import type { AgentPreparer } from '../registry.js';
import { RemoteAgent } from './remote-agent.js';

/** `AGENT_TYPE=remote`: one WebSocket to AGENT_URL per session (docs/remote-agent-protocol.md). */
export const prepareRemoteAgent: AgentPreparer = async (config, log) => {
  const url = config.env.AGENT_URL;
  if (!url || !/^wss?:\/\//.test(url)) throw new ConfigError('AGENT_URL', 'AGENT_TYPE=remote needs AGENT_URL=ws://… or wss://…');
  return {
    create: () => new RemoteAgent({ url, instructions: config.assistantInstructions, sampleRate: OUTPUT_SAMPLE_RATE, logger: log }),
    close: async () => {},
  };
};
