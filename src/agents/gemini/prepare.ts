import { GoogleGenAI } from '@google/genai';
import { ConfigError } from '../../config/config.js';
import { loadKnowledgeBase } from '../knowledge-base.js';
import { instructionsWithKnowledgeBase } from '../knowledge-base.js';
import type { AgentPreparer } from '../registry.js';
import { loadTools } from '../tools.js';
import { GeminiLiveAgent } from './gemini-agent.js';
import { guardedLive } from './guarded-websocket.js';
import { readGeminiSettings } from './settings.js';

/**
 * `AGENT_TYPE=sample_gemini`: settings, tools and knowledge base read once; one Live WebSocket
 * per session. The key is held by the GoogleGenAI client object and never logged (the SDK puts
 * it in the WebSocket URL, so URLs are never logged either).
 */
export const prepareGeminiAgent: AgentPreparer = async (config, log) => {
  const settings = readGeminiSettings(config.env);
  const tools = await loadTools(config.env.AGENT_TOOLS_FILE).catch((err: Error) => {
    throw new ConfigError('AGENT_TOOLS_FILE', err.message);
  });
  const knowledgeBase = await loadKnowledgeBase(config.knowledgeBaseSource).catch((err: Error) => {
    throw new ConfigError('KNOWLEDGE_BASE_SOURCE', err.message);
  });
  const instructions = instructionsWithKnowledgeBase(config.assistantInstructions, knowledgeBase);
  const httpOptions = {
    ...(settings.baseUrl && { baseUrl: settings.baseUrl }),
    ...(settings.apiVersion && { apiVersion: settings.apiVersion }),
  };
  const ai = new GoogleGenAI({ apiKey: settings.apiKey, ...(Object.keys(httpOptions).length > 0 && { httpOptions }) });
  const live = guardedLive(ai, log);
  log.info(
    {
      model: settings.model, voice: settings.voice, apiVersion: settings.apiVersion ?? 'default', customBaseUrl: settings.baseUrl !== undefined,
      proactiveAudio: settings.proactiveAudio, search: settings.enableSearch, tools: tools.map((t) => t.name), knowledgeBaseChars: knowledgeBase.length,
    },
    'Gemini Live agent ready',
  );
  return {
    create: () => new GeminiLiveAgent({ live, settings, instructions, tools, logger: log }),
    close: async () => {},
  };
};
