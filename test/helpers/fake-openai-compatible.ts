import type { IncomingMessage, ServerResponse } from 'node:http';
import { ChatChunkStream, FakeHttpService } from './fake-net.js';

/**
 * A local stand-in for an OpenAI-compatible server (Ollama, llama.cpp, whisper.cpp, …) on
 * 127.0.0.1, speaking the real wire formats:
 * - `POST /v1/chat/completions` with `stream: true` → `text/event-stream` of
 *   `data: {chat.completion.chunk}\n\n` … `data: [DONE]\n\n`, paced by a script;
 * - `POST /v1/audio/transcriptions` (multipart/form-data) → `{"text": …}`;
 * - `POST /v1/audio/speech` (JSON) → a WAV file, as speaches serves Piper voices (22 050 Hz):
 *   a tone as long as the text would take to say, so lip-sync sees energy.
 * Records every request, including whether the client hung up before the stream ended.
 */

export interface ChatScript {
  /** Text pieces sent one per SSE event. */
  deltas: string[];
  /** Wait before the first piece and between pieces, ms. */
  firstDelayMs?: number;
  delayMs?: number;
  /**
   * Piece `before` and the ones after it wait until `until` settles (or the client hangs up): a
   * model still generating, for as long as the test needs, without a clock.
   */
  hold?: { before: number; until: Promise<unknown> };
  /** Answer with this HTTP status and body instead of a stream. */
  status?: number;
  body?: string;
}

export interface ChatRequest {
  body: { model?: string; stream?: boolean; messages?: Array<{ role: string; content: string }>; [k: string]: unknown };
  authorization: string | undefined;
  /** The client closed the connection before `[DONE]`. */
  aborted: boolean;
  /** `[DONE]` was written. */
  completed: boolean;
  /** Pieces written before the end or the abort. */
  sent: number;
}

export interface Transcription {
  fields: Record<string, string>;
  file: Buffer;
  filename: string;
  contentType: string;
  authorization: string | undefined;
}

export interface TranscriptionAnswer {
  text?: string;
  status?: number;
  delayMs?: number;
}

export interface SpeechRequest {
  body: { model?: unknown; voice?: unknown; input?: unknown; response_format?: unknown; speed?: unknown };
  authorization: string | undefined;
  /** The WAV file served, when one was. */
  wav?: Buffer;
}

export interface SpeechAnswer {
  status?: number;
  /** Rate of the WAV (Piper: 22 050 Hz). */
  sampleRate?: number;
  /** ms of audio per input character. */
  msPerChar?: number;
  /** Raw body instead of a WAV (a server that ignores response_format). */
  body?: Buffer;
}

export class FakeOpenAiCompatible extends FakeHttpService {
  readonly chatRequests: ChatRequest[] = [];
  readonly speechRequests: SpeechRequest[] = [];
  speak: (r: SpeechRequest) => SpeechAnswer = () => ({});
  readonly transcriptions: Transcription[] = [];
  /** What the next chat request gets; set by tests. */
  chat: (req: ChatRequest) => ChatScript = () => ({ deltas: ['Hello', ' from', ' the', ' fake.'] });
  transcribe: (t: Transcription) => TranscriptionAnswer = () => ({ text: 'hello' });
  private constructor() {
    super('fake OpenAI-compatible server');
  }

  /** Base URL, as `LOCAL_LLM_URL` / `LOCAL_STT_URL` take it. */
  get url(): string {
    return `http://127.0.0.1:${this.port}/v1`;
  }

  static start(port = 0): Promise<FakeOpenAiCompatible> {
    return new FakeOpenAiCompatible().listen(port);
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    if (req.method === 'POST' && req.url === '/v1/chat/completions') return this.handleChat(req, body, res);
    if (req.method === 'POST' && req.url === '/v1/audio/transcriptions') return this.handleTranscription(req, body, res);
    if (req.method === 'POST' && req.url === '/v1/audio/speech') return this.handleSpeech(req, body, res);
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}` } }));
  }

  private async handleChat(req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> {
    const record: ChatRequest = { body: JSON.parse(body.toString('utf8')) as ChatRequest['body'], authorization: req.headers.authorization, aborted: false, completed: false, sent: 0 };
    this.chatRequests.push(record);
    this.changed();
    const script = this.chat(record);
    if (script.status !== undefined) {
      res.writeHead(script.status, { 'content-type': 'application/json' }).end(script.body ?? '');
      return;
    }
    const hungUp = new Promise<void>((resolve) => res.on('close', () => {
      if (!record.completed) {
        record.aborted = true;
        this.changed();
      }
      resolve();
    }));
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const sse = new ChatChunkStream(res, record.body.model, record, () => this.changed());
    res.write(': keep-alive comment, ignored by SSE clients\n\n');
    sse.chunk({ role: 'assistant', content: '' });
    for (let i = 0; i < script.deltas.length; i++) {
      const wait = i === 0 ? script.firstDelayMs ?? 0 : script.delayMs ?? 0;
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (script.hold && i === script.hold.before) await Promise.race([script.hold.until.catch(() => undefined), hungUp]);
      if (res.destroyed || record.aborted) return;
      sse.piece(script.deltas[i]!);
    }
    sse.end();
  }

  private async handleTranscription(req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> {
    // The platform's own multipart parser (undici), so the upload is checked by a real one.
    const form = await new Response(body, { headers: { 'content-type': req.headers['content-type'] ?? '' } }).formData();
    const fields: Record<string, string> = {};
    let file: File | null = null;
    for (const [k, v] of form.entries()) {
      if (typeof v === 'string') fields[k] = v;
      else if (k === 'file') file = v;
    }
    if (!file) {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'no file' } }));
      return;
    }
    const record: Transcription = { fields, file: Buffer.from(await file.arrayBuffer()), filename: file.name, contentType: file.type, authorization: req.headers.authorization };
    this.transcriptions.push(record);
    this.changed();
    const answer = this.transcribe(record);
    if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
    if (answer.status !== undefined && answer.status !== 200) {
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'transcription failed' } }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ text: answer.text ?? '' }));
  }

  private handleSpeech(req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    const record: SpeechRequest = { body: JSON.parse(body.toString('utf8')) as SpeechRequest['body'], authorization: req.headers.authorization };
    this.speechRequests.push(record);
    this.changed();
    const answer = this.speak(record);
    if (answer.status !== undefined && answer.status !== 200) {
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'speech failed' } }));
      return;
    }
    if (answer.body) {
      res.writeHead(200, { 'content-type': 'audio/mpeg' }).end(answer.body);
      return;
    }
    const rate = answer.sampleRate ?? 22_050;
    const text = typeof record.body.input === 'string' ? record.body.input : '';
    const samples = Math.round((text.length * (answer.msPerChar ?? 60) * rate) / 1000);
    const wav = Buffer.alloc(44 + samples * 2);
    wav.write('RIFF', 0, 'ascii');
    wav.writeUInt32LE(36 + samples * 2, 4);
    wav.write('WAVEfmt ', 8, 'ascii');
    wav.writeUInt32LE(16, 16);
    wav.writeUInt16LE(1, 20);
    wav.writeUInt16LE(1, 22);
    wav.writeUInt32LE(rate, 24);
    wav.writeUInt32LE(rate * 2, 28);
    wav.writeUInt16LE(2, 32);
    wav.writeUInt16LE(16, 34);
    wav.write('data', 36, 'ascii');
    wav.writeUInt32LE(samples * 2, 40);
    // A vowel-like tone (150 Hz fundamental + formant-ish harmonics), syllable-modulated at 4 Hz.
    for (let i = 0; i < samples; i++) {
      const t = i / rate;
      const env = 0.5 + 0.5 * Math.sin(2 * Math.PI * 4 * t);
      const v = Math.sin(2 * Math.PI * 150 * t) + 0.6 * Math.sin(2 * Math.PI * 750 * t) + 0.3 * Math.sin(2 * Math.PI * 1200 * t);
      wav.writeInt16LE(Math.round(6000 * env * v), 44 + i * 2);
    }
    record.wav = wav;
    res.writeHead(200, { 'content-type': 'audio/wav' }).end(wav);
  }
}
