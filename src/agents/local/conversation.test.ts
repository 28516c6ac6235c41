import t from 'tap';
import { Conversation, systemPromptFor } from './conversation.js';
import { heardBy } from './reply-speaker.js';
import { MicBuffer } from './mic-buffer.js';

t.test('bounded history, merged user turns, truncation to what was heard', async (t) => {
  const c = new Conversation('sys', 4);
  c.addUser('a');
  c.addUser('b');
  t.same(c.request(), [{ role: 'system', content: 'sys' }, { role: 'user', content: 'a\nb' }], 'user messages in a row merge');
  c.addAssistant('A');
  c.addUser('c');
  c.addAssistant('C');
  c.addUser('d');
  t.same(c.request().slice(1).map((m) => m.content), ['c', 'C', 'd'], 'oldest dropped; never opens with an assistant message');
  c.addAssistant('long answer');
  c.replaceLastAssistant('other text', 'x');
  t.equal(c.request().at(-1)!.content, 'long answer', 'only the message it was');
  c.replaceLastAssistant('long answer', 'long');
  t.equal(c.request().at(-1)!.content, 'long');
  c.replaceLastAssistant('long', '');
  t.equal(c.request().at(-1)!.role, 'user', 'nothing heard: the message goes');
  c.addAssistant('  ');
  t.equal(c.request().at(-1)!.role, 'user', 'empty replies are not recorded');
  t.same(new Conversation('', 2).request(), [], 'no system prompt, no system message');
});

t.test('system prompt: instructions, knowledge base, spoken style', async (t) => {
  const p = systemPromptFor('Be kind.', 'Opens at nine.');
  t.match(p, /^Be kind\.\n\n.*<knowledge_base>\nOpens at nine\.\n<\/knowledge_base>\n\n.*spoken aloud/s);
  t.notMatch(systemPromptFor('Be kind.', ''), /knowledge_base/);
});

t.test('heardBy: whole sentences, then a share of the words of the one cut', async (t) => {
  const spoken = [{ text: 'One two.', durationMs: 1000 }, { text: 'Three four five six.', durationMs: 2000 }];
  t.equal(heardBy(spoken, 0), '');
  t.equal(heardBy(spoken, 1000), 'One two.');
  t.equal(heardBy(spoken, 2000), 'One two. Three four');
  t.equal(heardBy(spoken, 99_999), 'One two. Three four five six.');
});

t.test('MicBuffer keeps absolute positions and is bounded', async (t) => {
  const m = new MicBuffer(10);
  const pcm = (from: number, n: number): Buffer => Buffer.from(Int16Array.from({ length: n }, (_, i) => from + i).buffer);
  m.append(pcm(0, 4));
  m.append(pcm(4, 4));
  t.same(Array.from(m.slice(2, 6)), [2, 3, 4, 5], 'across chunks');
  m.append(pcm(8, 6));
  t.equal(m.oldest, 4, 'older than 10 samples discarded');
  t.equal(m.end, 14);
  t.same(Array.from(m.slice(0, 6)), [4, 5], 'clipped to what is held');
  m.discardBefore(9);
  t.same(Array.from(m.slice(0, 100)), [9, 10, 11, 12, 13]);
  t.same(Array.from(m.slice(20, 30)), []);
});
