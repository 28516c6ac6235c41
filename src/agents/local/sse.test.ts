import t from 'tap';
import { SseParser } from './sse.js';

t.test('OpenAI-style stream split at every possible byte', async (t) => {
  const stream = ': ping\n\ndata: {"a":1}\n\nevent: update\nid: 7\ndata: line one\ndata: line two\n\ndata: [DONE]\n\n';
  const bytes = new TextEncoder().encode(stream);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const p = new SseParser();
    const events = [...p.push(bytes.subarray(0, cut)), ...p.push(bytes.subarray(cut)), ...p.end()];
    t.same(events, [
      { event: 'message', data: '{"a":1}' },
      { event: 'update', data: 'line one\nline two', id: '7' },
      { event: 'message', data: '[DONE]', id: '7' },
    ], `cut at ${cut}`);
  }
});

t.test('CRLF and CR line ends, split between CR and LF; multi-byte characters split', async (t) => {
  const p = new SseParser();
  t.same(p.push('data: x\r'), []);
  t.same(p.push('\n\r\n'), [{ event: 'message', data: 'x' }], 'CR LF across pieces is one line break');
  t.same(p.push('data:no-space\r\rdata: y\n\n'), [{ event: 'message', data: 'no-space' }, { event: 'message', data: 'y' }]);
  const euro = new TextEncoder().encode('data: 5 €\n\n');
  t.same([...p.push(euro.subarray(0, 9)), ...p.push(euro.subarray(9))], [{ event: 'message', data: '5 €' }]);
});

t.test('an event without its blank line is dispatched at the end; huge lines are refused', async (t) => {
  const p = new SseParser();
  t.same(p.push('data: last'), []);
  t.same(p.end(), [{ event: 'message', data: 'last' }]);
  t.throws(() => new SseParser(10).push('data: 0123456789abcdef'), /longer than 10/);
});
