import type { ChatMessage } from '../voice/reply-source.js';

/**
 * What the language model is sent each turn: the system prompt and the last messages of the
 * conversation, bounded so a long session neither grows without end nor outgrows a small
 * local model's context. User messages in a row are merged (a reply that failed or was cut
 * before its first word leaves no assistant message), which chat templates that insist on
 * alternating roles need.
 */
export class Conversation {
  private messages: ChatMessage[] = [];

  constructor(readonly systemPrompt: string, private readonly maxMessages: number) {
    if (!Number.isInteger(maxMessages) || maxMessages < 1) throw new Error('maxMessages must be a positive integer');
  }

  addUser(text: string): void {
    const last = this.messages.at(-1);
    if (last?.role === 'user') last.content = `${last.content}\n${text}`;
    else this.messages.push({ role: 'user', content: text });
    this.trim();
  }

  /** What the assistant said (only what was actually spoken, after an interrupt). */
  addAssistant(text: string): void {
    if (text.trim() === '') return;
    this.messages.push({ role: 'assistant', content: text });
    this.trim();
  }

  /** After an interrupt: the last assistant message, if it is still `was`, becomes only what was heard. */
  replaceLastAssistant(was: string, heard: string): void {
    const last = this.messages.at(-1);
    if (last?.role !== 'assistant' || last.content !== was) return;
    if (heard.trim() === '') this.messages.pop();
    else last.content = heard;
  }

  /** The request's messages: system prompt first. */
  request(): ChatMessage[] {
    const history = this.messages.map((m) => ({ ...m }));
    return this.systemPrompt ? [{ role: 'system', content: this.systemPrompt }, ...history] : history;
  }

  get length(): number {
    return this.messages.length;
  }

  private trim(): void {
    while (this.messages.length > this.maxMessages) this.messages.shift();
    // A history that opens with an assistant message confuses some chat templates.
    while (this.messages.length > 1 && this.messages[0]!.role === 'assistant') this.messages.shift();
  }
}

/** The system prompt: the instructions, then the knowledge base as reference material. */
export function systemPromptFor(instructions: string, knowledgeBase: string): string {
  const parts = [instructions.trim()];
  if (knowledgeBase.trim() !== '') {
    parts.push(`Use the following knowledge base to answer questions. If it does not contain the answer, say so.\n\n<knowledge_base>\n${knowledgeBase.trim()}\n</knowledge_base>`);
  }
  parts.push('Your replies are spoken aloud: answer in plain sentences without markdown, lists, code or emoji.');
  return parts.filter((p) => p !== '').join('\n\n');
}
