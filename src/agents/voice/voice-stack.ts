import type { Logger } from 'pino';
import { ConfigError, type Config } from '../../config/config.js';
import { FliteTts } from '../offline/flite-tts.js';
import { isFliteVoice } from '../offline/tts-protocol.js';
import { SileroVad } from '../local/silero-vad.js';
import { SharedVoice } from './fallback-tts.js';
import { HttpTts } from './http-tts.js';
import { redactUrl } from './openai-http.js';
import type { VoiceSettings } from './settings.js';
import { OpenAiCompatibleStt, type SpeechToText } from './speech-to-text.js';

/** What every session of a Claw agent shares: the voice (server + flite), the VAD pool, the recogniser. */
export interface VoiceStack {
  voice: SharedVoice;
  vad: SileroVad;
  stt: SpeechToText | null;
  settings: VoiceSettings;
  close(): Promise<void>;
}

/**
 * Builds the voice stack once at start. The speech server is tried once: if it does not answer,
 * the server still starts and flite speaks until it does (said once in the log).
 */
export async function prepareVoiceStack(config: Config, settings: VoiceSettings, log: Logger): Promise<VoiceStack> {
  if (!isFliteVoice(config.ttsVoice)) throw new ConfigError('TTS_VOICE', `unknown flite voice "${config.ttsVoice}"`);
  const flite = new FliteTts({ voice: config.ttsVoice, logger: log });
  const vad = new SileroVad({ modelPath: settings.vad.modelPath, threads: settings.vad.threads, logger: log });
  const http = settings.tts ? new HttpTts({ ...settings.tts, logger: log }) : null;
  const close = async (): Promise<void> => {
    await Promise.all([flite.close(), vad.close(), http?.close()]);
  };
  try {
    await Promise.all([flite.warm(), vad.warm()]);
  } catch (err) {
    await close();
    if ((err as Error).message.includes('Silero')) throw new ConfigError('LOCAL_VAD_MODEL_PATH', (err as Error).message);
    throw err;
  }
  if (http) {
    await http.warm().then(
      () => log.info({ url: redactUrl(http.endpoint), voice: settings.tts!.voice, model: settings.tts!.model }, 'speech server ready'),
      (err: Error) => log.warn(`speech server not answering yet, the built-in voice speaks until it does: ${err.message}`),
    );
  } else {
    log.info(`${settings.ttsOffReason}: the built-in flite voice speaks`);
  }
  if (settings.piper.voicePath || settings.piper.onnxModelDir) log.info('TTS_VOICE_PATH / TTS_ONNX_MODEL_DIR name local Piper files: here the speech server loads the voice (TTS_VOICE_NAME)');
  const stt = settings.stt ? new OpenAiCompatibleStt(settings.stt) : null;
  if (!stt) log.warn(`no speech recogniser (${settings.sttOffReason}): speech barges in but is not understood; typed text works`);
  else log.info({ url: redactUrl(settings.stt!.url), model: settings.stt!.model }, 'speech recogniser configured');
  return { voice: new SharedVoice(http, flite, log), vad, stt, settings, close };
}
