import { PassageIndex, words } from './passage-index.js';

/**
 * The offline agent's "brain": a few fixed intents (greeting, help, thanks, goodbye), answers
 * from the knowledge base, and an echo for everything else. Pure and deterministic, so the same
 * input always gives the same reply, and fast enough for the main thread (no I/O, no model).
 */

export type ReplyKind = 'greeting' | 'help' | 'thanks' | 'goodbye' | 'knowledge' | 'echo' | 'empty';

export interface Reply {
  kind: ReplyKind;
  text: string;
}

export interface ResponderOptions {
  /** Least share of a question's weight a passage must contain to be the answer (else: echo). */
  minCoverage?: number;
  /** Longest echoed text, characters: the reply is spoken, and speech of a pasted essay helps nobody. */
  maxEchoChars?: number;
}

const DEFAULT_MIN_COVERAGE = 0.5;
const DEFAULT_MAX_ECHO_CHARS = 300;

const GREETING_WORDS = new Set(['hello', 'hi', 'hey', 'hiya', 'howdy', 'greetings', 'yo', 'heya', 'hallo', 'hola']);
const GREETING_PARTS_OF_DAY = new Set(['morning', 'afternoon', 'evening', 'day']);
/** Words that may follow a greeting without making it a question: "hi there", "hello again". */
const GREETING_FILLER = new Set(['there', 'again', 'everyone', 'everybody', 'all', 'friend', 'folks', 'you', 'avatar', 'assistant', 'bot']);
const HOW_ARE_YOU = /^(?:how are you(?: doing| today)*|how s it going|how is it going|how do you do|what s up|whats up|sup)$/;
const HELP = /^(?:help(?: me)?(?: please)?|please help|what can you do|what do you do|what can i ask(?: you)?|what are you|who are you|how does this work|what are your (?:skills|capabilities)|commands|menu)$/;
const THANKS = /^(?:thanks?(?: you)?(?: so much| very much| a lot)?|thx|ty|cheers|much appreciated)$/;
const GOODBYE = /^(?:bye|goodbye|good bye|bye bye|see you(?: later| soon)?|see ya|farewell|good night|later|that s all|that is all)$/;

/** Lower-case words without punctuation, so intents match on words: "Help!!" is "help", "what's" is "what s". */
function normalized(text: string): string {
  return words(text).join(' ').replace(/'/g, ' ').replace(/\s+/g, ' ').trim();
}

/** Splits "good morning, what are your hours" into the greeting and the rest. */
function splitGreeting(tokens: string[]): { greeting: string; rest: string[] } {
  let i = 0;
  let greeting = '';
  if (GREETING_WORDS.has(tokens[0] ?? '')) {
    greeting = 'Hello';
    i = 1;
  } else if (tokens[0] === 'good' && GREETING_PARTS_OF_DAY.has(tokens[1] ?? '')) {
    // Answer "good morning" with "good morning": the user knows their time of day, we do not.
    greeting = `Good ${tokens[1]}`;
    i = 2;
  } else {
    return { greeting: '', rest: tokens };
  }
  while (i < tokens.length && GREETING_FILLER.has(tokens[i]!)) i++;
  return { greeting, rest: tokens.slice(i) };
}

function clipAtWord(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const cut = text.slice(0, maxChars);
  const lastSpace = cut.lastIndexOf(' ');
  return `${(lastSpace > maxChars / 2 ? cut.slice(0, lastSpace) : cut).trimEnd()}...`;
}

export class Responder {
  private readonly index: PassageIndex;
  private readonly minCoverage: number;
  private readonly maxEchoChars: number;

  constructor(knowledgeBase = '', opts: ResponderOptions = {}) {
    this.index = PassageIndex.fromText(knowledgeBase);
    this.minCoverage = opts.minCoverage ?? DEFAULT_MIN_COVERAGE;
    this.maxEchoChars = opts.maxEchoChars ?? DEFAULT_MAX_ECHO_CHARS;
  }

  /** Number of knowledge base passages it can answer from. */
  get passageCount(): number {
    return this.index.size;
  }

  reply(userText: string): Reply {
    const text = userText.replace(/\s+/g, ' ').trim();
    const tokens = normalized(text).split(' ').filter((t) => t !== '');
    if (tokens.length === 0) return { kind: 'empty', text: "I didn't catch that. Could you type it again?" };

    const { greeting, rest } = splitGreeting(tokens);
    const restText = rest.join(' ');
    if (greeting !== '') {
      if (rest.length === 0) return { kind: 'greeting', text: `${greeting}! How can I help you today?` };
      if (HOW_ARE_YOU.test(restText)) return { kind: 'greeting', text: `${greeting}! I'm doing well, thank you. How can I help you today?` };
    } else if (HOW_ARE_YOU.test(restText)) {
      return { kind: 'greeting', text: "I'm doing well, thank you. How can I help you today?" };
    }

    const intent = this.intent(restText);
    if (intent) return greeting !== '' ? { kind: intent.kind, text: `${greeting}! ${intent.text}` } : intent;

    const match = this.index.best(greeting !== '' ? restText : text);
    if (match && match.coverage >= this.minCoverage) {
      return { kind: 'knowledge', text: greeting !== '' ? `${greeting}! ${match.passage.text}` : match.passage.text };
    }
    return { kind: 'echo', text: `You said: ${clipAtWord(text, this.maxEchoChars)}` };
  }

  private intent(normalizedText: string): Reply | null {
    if (HELP.test(normalizedText)) return { kind: 'help', text: this.helpText() };
    if (THANKS.test(normalizedText)) return { kind: 'thanks', text: "You're welcome! Is there anything else I can do for you?" };
    if (GOODBYE.test(normalizedText)) return { kind: 'goodbye', text: 'Goodbye! It was nice talking to you.' };
    return null;
  }

  private helpText(): string {
    const base = "I'm the built-in offline assistant. I can say hello, and I repeat back what you type.";
    return this.index.size > 0
      ? `${base} I can also answer questions about the documents I was given. Just ask me something.`
      : `${base} No knowledge base is loaded, so I can't answer questions yet.`;
  }
}

let cached: { knowledgeBase: string; responder: Responder } | null = null;

/**
 * Every session of a server shares one knowledge base, so they share one responder: its index
 * is built once, not per connection.
 */
export function responderFor(knowledgeBase: string): Responder {
  if (cached?.knowledgeBase !== knowledgeBase) cached = { knowledgeBase, responder: new Responder(knowledgeBase) };
  return cached.responder;
}
