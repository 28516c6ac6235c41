import OpenAI from 'openai';
import { ConfigError } from '../../config/config.js';
import { loadKnowledgeBase } from '../knowledge-base.js';
import type { AgentPreparer } from '../registry.js';
import { loadTools } from '../tools.js';
import { OpenAIRealtimeAgent } from './openai-agent.js';
import { readOpenAISettings } from './settings.js';
import { instructionsWithKnowledgeBase } from '../knowledge-base.js';

/**
 * `AGENT_TYPE=sample_openai`: settings, tools and knowledge base read once; one Realtime
 * WebSocket per session. The key is held by the OpenAI client object and never logged.
 */
export const prepareOpenAIAgent: AgentPreparer = async (config, log) => {
  const settings = readOpenAISettings(config.env);
  for (const w of settings.warnings) log.warn({ variable: w.variable }, w.message);
  const tools = await loadTools(config.env.AGENT_TOOLS_FILE).catch((err: Error) => {
    throw new ConfigError('AGENT_TOOLS_FILE', err.message);
  });
  const knowledgeBase = await loadKnowledgeBase(config.knowledgeBaseSource).catch((err: Error) => {
    throw new ConfigError('KNOWLEDGE_BASE_SOURCE', err.message);
  });
  const instructions = instructionsWithKnowledgeBase(config.assistantInstructions, knowledgeBase);
  const client = new OpenAI({ apiKey: settings.apiKey, ...(settings.baseURL ? { baseURL: settings.baseURL } : {}) });
  log.info(
    {
      model: settings.model, voice: settings.voice, turnDetection: settings.turnDetection?.type ?? 'none',
      customBaseUrl: settings.baseURL !== undefined, tools: tools.map((t) => t.name), knowledgeBaseChars: knowledgeBase.length,
    },
    'OpenAI Realtime agent ready',
  );
  return {
    create: () => new OpenAIRealtimeAgent({ client, settings, instructions, tools, logger: log }),
    close: async () => {},
  };
};
