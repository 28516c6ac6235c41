import type { Agent } from '../agent.js';
import type { TextToSpeech } from '../offline/flite-tts.js';
import type { LocalAgentOptions } from '../local/local-agent.js';
import type { SharedVoice } from './fallback-tts.js';
import type { VoiceStack } from './voice-stack.js';

/**
 * One session's view of the shared voice: when the built-in voice first stands in for the speech
 * server, that session's client is told once (`error TTS_FALLBACK`, not fatal). `agent` is read
 * only then.
 */
export function sessionVoice(voice: SharedVoice, agent: () => Agent): TextToSpeech {
  return voice.forSession((reason) => {
    const a = agent();
    const err = { code: 'TTS_FALLBACK', message: `the speech server failed, the built-in voice speaks instead: ${reason}`, fatal: false };
    if (a.listenerCount('error') > 0) a.emit('error', err);
  });
}

/** The voice half of a Claw agent's options: the session's voice, the VAD, the recogniser and the sentence size. */
export function voiceAgentOptions(stack: VoiceStack, agent: () => Agent): Pick<LocalAgentOptions, 'tts' | 'vad' | 'vadOptions' | 'stt' | 'sttHint' | 'maxSentenceChars'> {
  const { modelPath: _model, threads: _threads, ...vadOptions } = stack.settings.vad;
  return {
    tts: sessionVoice(stack.voice, agent),
    vad: stack.vad,
    vadOptions,
    stt: stack.stt,
    sttHint: stack.settings.sttOffReason,
    maxSentenceChars: stack.settings.sentenceMaxChars,
  };
}
