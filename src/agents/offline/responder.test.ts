import t from 'tap';
import { Responder, responderFor } from './responder.js';

const KB = `# Opening hours

We are open Monday to Friday from 9 am to 6 pm, and on Saturdays from 10 am to 2 pm.

# Returns

Items can be returned within 30 days with the receipt for a full refund.
`;

t.test('greetings', async (t) => {
  const r = new Responder();
  for (const text of ['hello', 'Hi!', 'hey there', 'Hello again.', 'howdy', 'HI THERE!!']) {
    t.same(r.reply(text), { kind: 'greeting', text: 'Hello! How can I help you today?' }, text);
  }
  t.same(r.reply('Good morning'), { kind: 'greeting', text: 'Good morning! How can I help you today?' });
  t.same(r.reply('good evening everyone'), { kind: 'greeting', text: 'Good evening! How can I help you today?' });
  t.equal(r.reply('hi, how are you?').text, "Hello! I'm doing well, thank you. How can I help you today?");
  t.equal(r.reply("How's it going").kind, 'greeting');
  t.equal(r.reply('good grief').kind, 'echo', '"good" alone is no greeting');
  t.equal(r.reply('high five').kind, 'echo', 'a word starting with "hi" is no greeting');
});

t.test('help, thanks, goodbye', async (t) => {
  const without = new Responder();
  const help = without.reply('What can you do?');
  t.equal(help.kind, 'help');
  t.match(help.text, /No knowledge base is loaded/);
  t.equal(without.reply('help').kind, 'help');
  t.equal(without.reply('Help me, please!').kind, 'help');
  t.equal(without.reply('who are you').kind, 'help');
  t.match(new Responder(KB).reply('help').text, /answer questions about the documents/);
  t.equal(without.reply('hello, what can you do?').text.slice(0, 14), "Hello! I'm the");
  t.equal(without.reply('Thanks!').kind, 'thanks');
  t.equal(without.reply('thank you very much').kind, 'thanks');
  t.equal(without.reply('Bye').kind, 'goodbye');
  t.equal(without.reply('see you later').kind, 'goodbye');
});

t.test('echo anything else', async (t) => {
  const r = new Responder();
  t.same(r.reply('The  sky is\nblue.'), { kind: 'echo', text: 'You said: The sky is blue.' });
  t.same(r.reply('   '), { kind: 'empty', text: "I didn't catch that. Could you type it again?" });
  t.equal(r.reply('?!').kind, 'empty');
  const long = 'word '.repeat(200);
  const echoed = r.reply(long).text;
  t.ok(echoed.length <= 'You said: '.length + 303, `long input clipped (${echoed.length} chars)`);
  t.match(echoed, /word\.\.\.$/, 'clipped at a word boundary');
});

t.test('knowledge base answers, echo when nothing matches well', async (t) => {
  const r = new Responder(KB);
  t.equal(r.passageCount, 2);
  t.same(r.reply('When are you open on Saturday?'), { kind: 'knowledge', text: 'We are open Monday to Friday from 9 am to 6 pm, and on Saturdays from 10 am to 2 pm.' });
  t.equal(r.reply('Can I get a refund?').text, 'Items can be returned within 30 days with the receipt for a full refund.');
  t.equal(r.reply('hello, what are your opening hours?').text, 'Hello! We are open Monday to Friday from 9 am to 6 pm, and on Saturdays from 10 am to 2 pm.');
  t.same(r.reply('What is the capital of France?'), { kind: 'echo', text: 'You said: What is the capital of France?' });
  // One common word in a long unrelated question is not a match.
  t.equal(r.reply('which spaceship flies to the moon and mars on saturdays').kind, 'echo');
  t.equal(new Responder(KB, { minCoverage: 0.05 }).reply('which spaceship flies to the moon and mars on saturdays').kind, 'knowledge', 'threshold is a knob');
});

t.test('deterministic and shared per knowledge base', async (t) => {
  const a = new Responder(KB);
  const b = new Responder(KB);
  for (const q of ['refund?', 'hours', 'hi', 'random words here']) t.same(a.reply(q), b.reply(q), q);
  t.equal(responderFor(KB), responderFor(KB), 'same knowledge base, same responder');
  t.not(responderFor(KB), responderFor(''), 'another knowledge base, another responder');
});
