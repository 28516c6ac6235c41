import type { Logger } from 'pino';
import type { SpeechAudio, TextToSpeech } from '../offline/flite-tts.js';

/** After a speech-server failure, the built-in voice speaks for this long before the server is tried again. */
export const SPEECH_SERVER_RETRY_MS = 30_000;

/**
 * The speech server and the built-in flite voice, shared by every session: a sentence goes to
 * the server while it works; when a synthesis fails, that sentence and the next ones for
 * SPEECH_SERVER_RETRY_MS are spoken by flite instead (same rate), so a reply is never lost to a
 * speech-server outage. The failure is logged once per outage.
 */
export class SharedVoice {
  private failedUntilMs = 0;
  private outageLogged = false;

  constructor(
    readonly server: TextToSpeech | null,
    readonly builtIn: TextToSpeech,
    private readonly logger: Logger,
  ) {
    if (server && server.sampleRate !== builtIn.sampleRate) throw new Error('the speech server and the built-in voice must run at one rate');
  }

  /** The TextToSpeech of one session; `onFallback` runs once per session, the first time flite stands in. */
  forSession(onFallback: (reason: string) => void): TextToSpeech {
    let told = false;
    return {
      sampleRate: this.builtIn.sampleRate,
      warm: () => this.builtIn.warm(),
      synthesize: async (text: string): Promise<SpeechAudio> => {
        const { speech, fellBack } = await this.synthesize(text);
        if (fellBack && !told) {
          told = true;
          onFallback(fellBack);
        }
        return speech;
      },
    };
  }

  private async synthesize(text: string): Promise<{ speech: SpeechAudio; fellBack: string | null }> {
    if (!this.server) return { speech: await this.builtIn.synthesize(text), fellBack: null };
    if (Date.now() < this.failedUntilMs) return { speech: await this.builtIn.synthesize(text), fellBack: 'the speech server failed recently' };
    try {
      const speech = await this.server.synthesize(text);
      if (this.outageLogged) this.logger.info('speech server answers again; its voice is back');
      this.outageLogged = false;
      return { speech, fellBack: null };
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.failedUntilMs = Date.now() + SPEECH_SERVER_RETRY_MS;
      if (!this.outageLogged) this.logger.warn({ retryInMs: SPEECH_SERVER_RETRY_MS }, `speech server failed, the built-in voice speaks instead: ${reason}`);
      this.outageLogged = true;
      return { speech: await this.builtIn.synthesize(text), fellBack: reason };
    }
  }
}
