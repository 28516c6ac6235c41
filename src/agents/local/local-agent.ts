import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Agent, AgentContext, AgentEvents } from '../agent.js';
import { BYTES_PER_SAMPLE } from '../../audio/constants.js';
import type { TextToSpeech } from '../offline/flite-tts.js';
import { responderFor, type Responder } from '../offline/responder.js';
import { splitSentences } from '../offline/sentences.js';
import { AsyncQueue } from './async-queue.js';
import { Conversation, systemPromptFor } from './conversation.js';
import { MicBuffer } from './mic-buffer.js';
import { heardBy, speakSentences, type SpokenSentence } from './reply-speaker.js';
import { SentenceStream } from './sentence-stream.js';
import type { SileroVad, VadStream } from './silero-vad.js';
import { SpeechSegmenter, type SegmentEvent, type SegmenterOptions } from './speech-segmenter.js';
import { VAD_FRAME_SAMPLES, VAD_SAMPLE_RATE } from './vad-protocol.js';
import { UpstreamError } from '../voice/openai-http.js';
import type { ReplySource } from '../voice/reply-source.js';
import type { SpeechToText } from '../voice/speech-to-text.js';

export interface LocalAgentOptions extends AgentContext {
  /** Shared by all sessions: TTS pool, VAD pool, recogniser, LLM client. */
  tts: TextToSpeech;
  vad: SileroVad;
  vadOptions: Omit<SegmenterOptions, 'frameSamples' | 'sampleRate'>;
  /** null: speech is detected (barge-in works) but not transcribed. */
  stt: SpeechToText | null;
  /** null: the built-in responder answers. */
  llm: ReplySource | null;
  /** What the user is told to set when speech is heard without a recogniser. */
  sttHint?: string;
  /** Longest sentence sent to the TTS at once, characters. */
  maxSentenceChars?: number;
  historyMessages?: number;
  responder?: Responder;
  /** Audio event size, ms of speech. */
  chunkMs?: number;
}

const DEFAULT_CHUNK_MS = 100;
const DEFAULT_HISTORY_MESSAGES = 20;
/**
 * The client plays a response in real time while the agent emits it much faster: the agent
 * treats the avatar as speaking until its audio has had time to play, plus this margin (pacing
 * lead, network). An `interrupted` when nothing plays any more costs nothing: the session then
 * sends nothing.
 */
const PLAYBACK_MARGIN_MS = 1500;
/** Said when speech was heard but no recogniser is configured: the user must notice, not just a log line. */
const NO_RECOGNISER_REPLY = 'I heard you, but I cannot understand speech yet: no speech recognizer is set up. Please type your message instead.';
/** Mic audio kept beyond the longest utterance: the VAD runs a little behind the audio. */
const MIC_SLACK_MS = 5000;

interface Run {
  readonly id: string;
  readonly abort: AbortController;
  cancelled: boolean;
  /** `responseStart` emitted. */
  started: boolean;
  spoken: SpokenSentence[];
  /** Its assistant message is in the conversation (full text, possibly truncated later). */
  recorded: string | null;
}

/**
 * `AGENT_TYPE=local`: a voice agent that needs nothing outside the machine. Microphone (16 kHz)
 * → Silero VAD in a worker (start/end of speech, barge-in) → speech-to-text (plug-in; an
 * OpenAI-compatible transcription server ships) → an OpenAI-compatible chat-completions server
 * streamed over SSE, or the built-in responder → flite TTS sentence by sentence.
 */
export class LocalAgent extends EventEmitter<AgentEvents> implements Agent {
  /** The widget resamples its mic to this, so the VAD and recognisers get 16 kHz as they are. */
  readonly inputSampleRate = VAD_SAMPLE_RATE;
  readonly outputSampleRate: number;
  private readonly o: LocalAgentOptions;
  private readonly logger: Logger;
  private readonly chunkBytes: number;
  private readonly responder: Responder;
  private readonly conversation: Conversation;
  private readonly segmenter: SpeechSegmenter;
  private readonly vadStream: VadStream;
  private readonly mic: MicBuffer;
  private readonly sttAbort = new AbortController();
  private current: Run | null = null;
  /** The last run that spoke, for `cancelResponse` after it finished emitting but still plays. */
  private lastRun: Run | null = null;
  private playingUntilMs = 0;
  /** Transcribed utterances not answered yet (the user went on speaking). */
  private heard: string[] = [];
  private utteranceSeq = 0;
  private transcriptions: Promise<void> = Promise.resolve();
  private reported = new Set<string>();
  private refusedAudio = false;
  /** The current mic stream already heard that speech cannot be understood here. */
  private micHintGiven = false;
  private disconnected = false;

  constructor(opts: LocalAgentOptions) {
    super();
    this.o = opts;
    this.logger = opts.logger;
    this.outputSampleRate = opts.tts.sampleRate;
    const chunkMs = opts.chunkMs ?? DEFAULT_CHUNK_MS;
    this.chunkBytes = Math.max(1, Math.round((chunkMs * this.outputSampleRate) / 1000)) * BYTES_PER_SAMPLE;
    this.responder = opts.responder ?? responderFor(opts.knowledgeBase);
    this.conversation = new Conversation(systemPromptFor(opts.instructions, opts.knowledgeBase), opts.historyMessages ?? DEFAULT_HISTORY_MESSAGES);
    this.segmenter = new SpeechSegmenter({ ...opts.vadOptions, frameSamples: VAD_FRAME_SAMPLES, sampleRate: VAD_SAMPLE_RATE });
    this.mic = new MicBuffer(Math.round(((opts.vadOptions.maxSpeechMs + opts.vadOptions.speechPadMs + MIC_SLACK_MS) * VAD_SAMPLE_RATE) / 1000));
    this.vadStream = opts.vad.stream({
      onProbabilities: (probabilities) => {
        for (const event of this.segmenter.push(probabilities)) this.onSegment(event);
      },
      onError: (err) => {
        this.logger.error({ err }, 'local agent: VAD task failed');
        this.reportOnce({ code: 'VAD_FAILED', message: `voice activity detection failed: ${err.message}`, fatal: false });
      },
    });
  }

  async connect(): Promise<void> {
    if (this.disconnected) throw new Error('the local agent was disconnected');
    await Promise.all([this.o.tts.warm(), this.o.vad.warm()]);
  }

  sendText(text: string): void {
    if (this.disconnected) return;
    this.startResponse({ userText: text });
  }

  startAudioStream(): void {
    this.micHintGiven = false;
  }

  appendAudio(pcm: Buffer): void {
    if (this.disconnected) return;
    if (!this.vadStream.push(pcm)) {
      if (!this.refusedAudio) this.logger.warn('local agent: microphone audio arrives faster than the VAD keeps up; audio refused');
      this.refusedAudio = true;
      return;
    }
    this.refusedAudio = false;
    this.mic.append(pcm);
  }

  /** Mic closed: an utterance in progress ends now (once the VAD has caught up). */
  commitAudio(): void {
    void this.vadStream.drained().then(() => {
      if (this.disconnected) return;
      const event = this.segmenter.flush();
      if (event) this.onSegment(event);
    });
  }

  cancelResponse(offsetMs: number): void {
    const run = this.current ?? this.lastRun;
    if (this.current) this.stopRun(this.current);
    this.playingUntilMs = 0;
    if (!run) return;
    this.logger.debug({ responseId: run.id, offsetMs }, 'local agent: response cancelled');
    // The model is told only what the user heard (like OpenAI's conversation.item.truncate).
    const heard = heardBy(run.spoken, offsetMs);
    if (run.recorded !== null) {
      this.conversation.replaceLastAssistant(run.recorded, heard);
      run.recorded = heard;
    } else if (this.o.llm && run.started) {
      this.conversation.addAssistant(heard);
      run.recorded = heard;
    }
  }

  async disconnect(): Promise<void> {
    if (this.disconnected) return;
    this.disconnected = true;
    if (this.current) this.stopRun(this.current);
    this.sttAbort.abort(new Error('disconnected'));
    this.vadStream.close();
  }

  // ---- speech in -------------------------------------------------------------------------

  /** True while a response is being produced or its audio may still be playing on the client. */
  private get speaking(): boolean {
    return this.current !== null || Date.now() < this.playingUntilMs;
  }

  private onSegment(event: SegmentEvent): void {
    if (this.disconnected) return;
    if (event.type === 'speechStart') {
      this.utteranceSeq++;
      this.logger.debug({ atMs: Math.round((event.startSample / VAD_SAMPLE_RATE) * 1000) }, 'local agent: speech started');
      if (this.speaking) this.bargeIn();
      return;
    }
    const pcm = this.mic.slice(event.startSample, event.endSample);
    this.mic.discardBefore(event.endSample);
    const audioMs = Math.round((pcm.length / VAD_SAMPLE_RATE) * 1000);
    this.logger.debug({ audioMs, reason: event.reason }, 'local agent: speech ended');
    const stt = this.o.stt;
    if (!stt) {
      this.answerUnheardSpeech();
      return;
    }
    const seq = this.utteranceSeq;
    // One utterance at a time, in order: the recogniser is usually a single local server.
    this.transcriptions = this.transcriptions.then(() => this.transcribe(stt, pcm, seq));
  }

  /**
   * Speech was heard but nothing here can understand it: the user must notice, so once per mic
   * stream the avatar says so (unless it is still speaking) and clients that show errors get one.
   */
  private answerUnheardSpeech(): void {
    if (this.micHintGiven) return;
    this.micHintGiven = true;
    this.reportError({
      code: 'STT_NOT_CONFIGURED',
      message: `speech was heard but no speech recogniser is configured (${this.o.sttHint ?? 'set LOCAL_STT_URL'}); type instead`,
      fatal: false,
    });
    if (!this.speaking) this.startResponse({ fixedReply: NO_RECOGNISER_REPLY });
  }

  /** The user speaks over the avatar: stop the response now, then let the session interrupt the turn. */
  private bargeIn(): void {
    if (this.current) this.stopRun(this.current);
    this.logger.debug('local agent: barge-in');
    this.emit('interrupted');
    this.playingUntilMs = 0;
  }

  private async transcribe(stt: SpeechToText, pcm: Int16Array, seq: number): Promise<void> {
    if (this.disconnected) return;
    const startMs = performance.now();
    let text: string;
    try {
      text = (await stt.transcribe(pcm, this.sttAbort.signal)).trim();
    } catch (err) {
      if (this.disconnected) return;
      const code = err instanceof UpstreamError ? err.code : 'STT_FAILED';
      this.reportError({ code, message: err instanceof Error ? err.message : String(err), fatal: false });
      return;
    }
    if (this.disconnected) return;
    this.logger.debug({ sttMs: Math.round(performance.now() - startMs), chars: text.length, engine: stt.name }, 'local agent: transcribed');
    if (text !== '') {
      this.heard.push(text);
      this.emit('userTranscript', { text });
    }
    // The user is still talking (a newer utterance started): answer everything after it ends.
    if (seq !== this.utteranceSeq || this.segmenter.inSpeech || this.heard.length === 0) return;
    const all = this.heard.join(' ');
    this.heard = [];
    if (this.speaking) this.bargeIn();
    this.startResponse({ userText: all });
  }

  // ---- speech out ------------------------------------------------------------------------

  /** A reply to what the user said, or a fixed sentence that bypasses the LLM and the history. */
  private startResponse(what: { userText: string } | { fixedReply: string }): void {
    if (this.current) this.stopRun(this.current);
    const run: Run = { id: `local_${randomUUID()}`, abort: new AbortController(), cancelled: false, started: false, spoken: [], recorded: null };
    this.current = run;
    this.respond(run, what).catch((err: unknown) => {
      // A listener threw: this response cannot go on, but the process must not go down with it.
      this.logger.error({ err, responseId: run.id }, 'local agent response failed');
      if (this.current === run) this.current = null;
    });
  }

  private stopRun(run: Run): void {
    run.cancelled = true;
    run.abort.abort(new Error('response cancelled'));
    if (this.current === run) this.current = null;
  }

  private async respond(run: Run, what: { userText: string } | { fixedReply: string }): Promise<void> {
    // Never emit from inside sendText: the caller may still be in the middle of its own bookkeeping.
    await yieldToEventLoop();
    if (run.cancelled) return;
    const sentences = new AsyncQueue<string>();
    const fromLlm = 'userText' in what && this.o.llm !== null;
    if ('userText' in what && this.o.llm) this.streamReply(this.o.llm, run, what.userText, sentences);
    else {
      const text = 'fixedReply' in what ? what.fixedReply : this.responder.reply(what.userText).text;
      for (const s of splitSentences(text)) sentences.push(s);
      sentences.end();
    }
    let firstAudioAt = 0;
    let audioMs = 0;
    const outcome = await speakSentences(sentences, this.o.tts, this.chunkBytes, {
      cancelled: () => run.cancelled,
      onStart: () => {
        run.started = true;
        this.lastRun = run;
        this.emit('responseStart', { responseId: run.id });
      },
      onText: (delta) => this.emit('transcriptDelta', delta),
      onAudio: (chunk, ms) => {
        if (firstAudioAt === 0) firstAudioAt = Date.now();
        audioMs += ms;
        this.playingUntilMs = firstAudioAt + audioMs + PLAYBACK_MARGIN_MS;
        this.emit('audio', chunk);
      },
    }, run.spoken);
    if (outcome.kind === 'cancelled' || run.cancelled) return;
    run.abort.abort(new Error('response finished')); // ends the LLM request if the TTS failed first
    if (outcome.kind === 'failed') {
      if (outcome.source === 'tts') {
        this.reportError({ code: 'TTS_FAILED', message: `speech synthesis failed: ${errorMessage(outcome.err)}`, fatal: false });
      } else {
        const code = outcome.err instanceof UpstreamError ? outcome.err.code : 'LLM_FAILED';
        this.reportError({ code, message: errorMessage(outcome.err), fatal: false });
      }
      if (run.cancelled) return;
    }
    this.current = null;
    const transcript = outcome.spoken.map((s) => s.text).join(' ');
    if (fromLlm && transcript !== '') {
      this.conversation.addAssistant(transcript);
      run.recorded = transcript;
    }
    if (run.started) this.emit('responseEnd', { responseId: run.id, transcript });
  }

  /** LLM tokens → sentences into `queue`; errors fail the queue (an abort just ends it). */
  private streamReply(llm: ReplySource, run: Run, userText: string, queue: AsyncQueue<string>): void {
    this.conversation.addUser(userText);
    const messages = this.conversation.request();
    const splitter = new SentenceStream(this.o.maxSentenceChars);
    const startMs = performance.now();
    let firstTokenMs = -1;
    void (async () => {
      try {
        for await (const delta of llm.stream(messages, run.abort.signal)) {
          if (firstTokenMs < 0) firstTokenMs = performance.now() - startMs;
          for (const s of splitter.push(delta)) queue.push(s);
        }
        for (const s of splitter.end()) queue.push(s);
        this.logger.debug({ responseId: run.id, firstTokenMs: Math.round(firstTokenMs), totalMs: Math.round(performance.now() - startMs) }, 'local agent: LLM reply streamed');
        queue.end();
      } catch (err) {
        if (run.abort.signal.aborted) queue.end();
        else queue.fail(err);
      }
    })();
  }

  private reportOnce(err: AgentEvents['error'][0]): void {
    if (this.reported.has(err.code)) {
      this.logger.debug({ code: err.code }, err.message);
      return;
    }
    this.reported.add(err.code);
    this.reportError(err);
  }

  /** An `error` event with nobody listening would throw (EventEmitter rule): log it instead. */
  private reportError(err: AgentEvents['error'][0]): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
    else this.logger.error(err, 'local agent error (no listener)');
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
