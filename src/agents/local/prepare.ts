import { ConfigError } from '../../config/config.js';
import type { AgentPreparer } from '../registry.js';
import { loadKnowledgeBase } from '../knowledge-base.js';
import { responderFor } from '../offline/responder.js';
import { ChatCompletionsClient } from '../voice/chat-completions.js';
import { redactUrl } from '../voice/openai-http.js';
import { readSpeechServerSettings } from '../voice/settings.js';
import { sessionVoice } from '../voice/voice-agent-options.js';
import { prepareVoiceAndVad } from '../voice/voice-stack.js';
import { LocalAgent } from './local-agent.js';
import { readLocalSettings, type LocalSettings } from './settings.js';
import { OpenAiCompatibleStt, type SpeechToText } from '../voice/speech-to-text.js';

/**
 * The speech recogniser for `LOCAL_STT_*`. This is the plug-in point for another engine: build
 * it here from the settings and return it (it must implement SpeechToText and keep its work off
 * the main thread). null: no recogniser, speech only barges in.
 */
export function createSpeechToText(settings: LocalSettings['stt']): SpeechToText | null {
  if (!settings) return null;
  return new OpenAiCompatibleStt(settings);
}

/**
 * `AGENT_TYPE=local`: one shared voice (the TTS_* speech server when set, the flite pool always,
 * standing in when the server fails), one shared Silero VAD pool, one recogniser and one LLM
 * client for all sessions; one LocalAgent (conversation, VAD state) per session.
 */
export const prepareLocalAgent: AgentPreparer = async (config, log) => {
  const settings = readLocalSettings(config.env);
  const speechServer = readSpeechServerSettings(config.env);
  const knowledgeBase = await loadKnowledgeBase(config.knowledgeBaseSource).catch((err: Error) => {
    throw new ConfigError('KNOWLEDGE_BASE_SOURCE', err.message);
  });
  const { voice, vad, close } = await prepareVoiceAndVad(config, speechServer, settings.vad, log);
  const stt = createSpeechToText(settings.stt);
  const llm = settings.llm ? new ChatCompletionsClient(settings.llm) : null;
  if (!llm) responderFor(knowledgeBase); // build the passage index now, not on the first connection
  const { modelPath: vadModel, ...vadOptions } = settings.vad;
  log.info(
    {
      vadModel,
      vad: vadOptions,
      stt: settings.stt ? { url: redactUrl(settings.stt.url), model: settings.stt.model, language: settings.stt.language } : null,
      llm: settings.llm ? { url: redactUrl(settings.llm.url), model: settings.llm.model } : 'built-in responder',
      voice: speechServer.tts ? { server: speechServer.tts.voice, fallback: config.ttsVoice } : config.ttsVoice,
      knowledgeBaseChars: knowledgeBase.length,
    },
    'local agent ready',
  );
  if (!stt) log.warn('local agent: no speech recogniser (LOCAL_STT_URL unset): speech barges in but is not understood; typed text works');
  return {
    create: () => {
      const agent: LocalAgent = new LocalAgent({
        instructions: config.assistantInstructions,
        knowledgeBase,
        logger: log,
        tts: sessionVoice(voice, () => agent),
        vad,
        vadOptions,
        stt,
        llm,
        historyMessages: settings.llm?.historyMessages,
      });
      return agent;
    },
    close,
  };
};
